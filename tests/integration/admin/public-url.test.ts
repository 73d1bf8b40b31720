/**
 * relay.publicUrl (issue 12, point 6): the address viewers use. Validated with errors that
 * name the field; used by the signUrl call and `relaydeck sign`; changed live through the
 * settings call. Unset, with the relay bound to every interface (0.0.0.0), a signed URL
 * never says 0.0.0.0: it gives 127.0.0.1 and the relay port, and the URL plays.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../shared/config.js';
import type { ServerInfoDto, SignedUrlDto } from '../../../shared/dto.js';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { portOf } from '../../helpers/http.js';
import { startRelay, TEST_TOKEN, type StartedRelay } from '../../helpers/relay.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const KEY = { id: 'k1', secret: 'public-url-test-secret-0123456789' };

/** `relaydeck sign` from the source tree (tsx), as a separate process: stdout, or the failure. */
function cliSign(configPath: string): Promise<string> {
  const script = `import('./electron/engine/cli.ts').then(async (m) => { process.exitCode = await m.main(['sign', '--config', ${JSON.stringify(configPath)}, '--route', 'live', '--path', '/live/cam1.flv', '--ttl', '1h']); })`;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(stderr || error.message)) : resolve(stdout.trim()),
    ),
  );
}

describe('relay.publicUrl', () => {
  it('is checked as a whole config: http(s), no query, no credentials, not a wildcard bind address; errors name relay.publicUrl', () => {
    const bad: [string, RegExp][] = [
      ['ftp://live.example.com', /relay\.publicUrl: expected http:\/\/ or https:\/\//],
      ['live.example.com', /relay\.publicUrl: expected an absolute http:\/\/ or https:\/\/ URL/],
      ['https://live.example.com/?token=1', /relay\.publicUrl: must not have a query or fragment/],
      ['https://user:pw@live.example.com', /relay\.publicUrl: must not hold credentials/],
      ['http://0.0.0.0:8090', /relay\.publicUrl: "0\.0\.0\.0" is a bind address/],
    ];
    for (const [url, message] of bad) assert.throws(() => parseConfig({ relay: { publicUrl: url } }), message, url);
    assert.equal(parseConfig({ relay: { publicUrl: 'https://cdn.example.com/relay/' } }).relay.publicUrl, 'https://cdn.example.com/relay/');
    assert.equal(parseConfig({}).relay.publicUrl, '', 'unset by default');
  });

  describe('with the relay bound to 0.0.0.0', () => {
    const origin = new LiveFlvOrigin();
    let relay: StartedRelay;
    let home: string;

    before(async () => {
      const url = await origin.start();
      relay = await startRelay({
        relay: { host: '0.0.0.0' },
        nodes: [{ id: 'n1', url }],
        routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', auth: { keys: [KEY] } }],
      });
      home = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-public-url-'));
    });

    after(async () => {
      await relay?.stop();
      await origin.stop();
      await fs.rm(home, { recursive: true, force: true });
    });

    const sign = async () => {
      const answer = await relay.api.call<SignedUrlDto>('POST', '/api/sign', { routeId: 'live', path: '/live/cam1.flv', ttl: '1h' });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body;
    };

    it('unset: signUrl gives 127.0.0.1 and the relay port, never 0.0.0.0, and the URL plays', async () => {
      assert.match(relay.relayUrl, /^http:\/\/0\.0\.0\.0:\d+$/, 'the relay listens on every interface');
      const info = (await relay.api.call<ServerInfoDto>('GET', '/api/info')).body;
      assert.equal(info.publicUrl, null);
      const signed = await sign();
      assert.equal(signed.url, `http://127.0.0.1:${portOf(relay.relayUrl)}${signed.pathAndQuery}`);
      assert.match(signed.pathAndQuery, /^\/live\/cam1\.flv\?sign=\d+-[0-9a-f]+$/);
      const response = await fetch(signed.url);
      assert.equal(response.status, 200);
      await response.body?.cancel();
    });

    it('set through the settings call: applies at once to signUrl and getServerInfo; a bad value is refused by field, changing nothing', async () => {
      const refused = await relay.api.call<{ error: { code: string; message: string } }>('PATCH', '/api/settings', {
        relay: { publicUrl: 'https://live.example.com/?x=1' },
      });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /relay\.publicUrl: must not have a query or fragment/);
      assert.equal((await sign()).url.startsWith(`http://127.0.0.1:`), true);
      const saved = await relay.api.call('PATCH', '/api/settings', { relay: { publicUrl: 'https://live.example.com/relay/' } });
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      const signed = await sign();
      assert.equal(signed.url, `https://live.example.com/relay${signed.pathAndQuery}`);
      assert.equal((await relay.api.call<ServerInfoDto>('GET', '/api/info')).body.publicUrl, 'https://live.example.com/relay/');
      // Back to unset with the empty string.
      assert.equal((await relay.api.call('PATCH', '/api/settings', { relay: { publicUrl: '' } })).status, 200);
      assert.match((await sign()).url, /^http:\/\/127\.0\.0\.1:\d+\//);
    });

    it('`relaydeck sign` uses relay.publicUrl, and without it never prints 0.0.0.0', async () => {
      const configPath = path.join(home, 'config.json');
      const config = {
        relay: { host: '0.0.0.0', port: 18090 },
        admin: { token: TEST_TOKEN },
        nodes: [{ id: 'n1', url: 'http://127.0.0.1:9' }],
        routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', auth: { keys: [KEY] } }],
      };
      await fs.writeFile(configPath, JSON.stringify(config));
      assert.match(await cliSign(configPath), /^http:\/\/127\.0\.0\.1:18090\/live\/cam1\.flv\?sign=\d+-[0-9a-f]+$/);
      await fs.writeFile(configPath, JSON.stringify({ ...config, relay: { ...config.relay, publicUrl: 'https://live.example.com' } }));
      assert.match(await cliSign(configPath), /^https:\/\/live\.example\.com\/live\/cam1\.flv\?sign=\d+-[0-9a-f]+$/);
    });
  });
});
