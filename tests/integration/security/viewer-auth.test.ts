/**
 * Viewer auth per route through real sockets: signed URLs (with key rotation and prefix
 * signatures), static tokens counted per label, IP allow/deny lists with X-Forwarded-For
 * believed only from trusted proxies; 401/403/410 JSON; credentials never reach the node,
 * a redirect, the request log or the sessions API.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeSign } from '../../../electron/engine/relay/auth/signing.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request } from '../../helpers/http.js';

const OLD_KEY = { id: 'k2024', secret: 'old-secret-old-secret-0001' };
const NEW_KEY = { id: 'k2025', secret: 'new-secret-new-secret-0002' };
const BIN = fileURLToPath(new URL('../../../electron/bin/relaydeck.mjs', import.meta.url));
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const code = (body: Buffer) => JSON.parse(body.toString()).error.code;

describe('viewer auth', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let config: Record<string, unknown>;
  before(async () => {
    const url = await origin.start();
    config = {
      relay: { trustedProxies: ['127.0.0.1/32'] },
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'signed', path: '/signed/', kind: 'file', mode: 'proxy', auth: { keys: [OLD_KEY, NEW_KEY] } },
        { id: 'jump', path: '/jump/', kind: 'file', mode: 'redirect', auth: { keys: [NEW_KEY], tokens: [{ token: 'tv-token-123', label: 'tv' }] } },
        {
          id: 'tokens',
          path: '/tok/',
          kind: 'file',
          mode: 'proxy',
          auth: {
            tokens: [
              { token: 'app-token-123', label: 'app' },
              { token: 'old-token-123', label: 'old', expiresAt: '2020-01-01T00:00:00Z' },
            ],
          },
        },
        { id: 'lan', path: '/lan/', kind: 'file', mode: 'proxy', auth: { allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.6.6.0/24'] } },
        { id: 'pass', path: '/pass/', kind: 'file', mode: 'proxy', auth: { tokens: [{ token: 'pass-token-12', label: 'p' }], passParams: true } },
        { id: 'open', path: '/open/', kind: 'file', mode: 'proxy' },
      ],
    };
    relay = await startRelay(config);
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('admits a valid signature from any active key and strips it before the node', async () => {
    for (const key of [OLD_KEY, NEW_KEY]) {
      origin.requests.length = 0;
      const sign = makeSign(key.secret, '/signed/a.ts', inAnHour());
      const answer = await request(`${relay.relayUrl}/signed/a.ts?x=1&sign=${sign}&y=2`);
      assert.equal(answer.status, 200, key.id);
      assert.equal(origin.requests[0].url, '/signed/a.ts?x=1&y=2', 'sign stripped, other parameters kept as sent');
    }
  });

  it('answers 401 without credentials, 403 for a bad one, 410 once expired', async () => {
    const missing = await request(`${relay.relayUrl}/signed/a.ts`);
    assert.equal(missing.status, 401);
    assert.equal(code(missing.body), 'AUTH_MISSING');
    const forged = await request(`${relay.relayUrl}/signed/a.ts?sign=${makeSign('not-the-secret-at-all', '/signed/a.ts', inAnHour())}`);
    assert.equal(forged.status, 403);
    assert.equal(code(forged.body), 'AUTH_INVALID');
    const otherPath = await request(`${relay.relayUrl}/signed/b.ts?sign=${makeSign(NEW_KEY.secret, '/signed/a.ts', inAnHour())}`);
    assert.equal(otherPath.status, 403, 'a signature covers its own path only');
    const garbage = await request(`${relay.relayUrl}/signed/a.ts?sign=12-zz`);
    assert.equal(garbage.status, 403);
    const expired = await request(`${relay.relayUrl}/signed/a.ts?sign=${makeSign(NEW_KEY.secret, '/signed/a.ts', Math.floor(Date.now() / 1000) - 5)}`);
    assert.equal(expired.status, 410);
    assert.equal(code(expired.body), 'AUTH_EXPIRED');
  });

  it('lets one prefix signature cover every file under it (HLS playlists and segments)', async () => {
    const sign = makeSign(NEW_KEY.secret, '/signed/cam1/', inAnHour());
    for (const file of ['index.m3u8', 'seg_001.ts']) {
      const answer = await request(`${relay.relayUrl}/signed/cam1/${file}?sign=${sign}&sp=%2Fsigned%2Fcam1%2F`);
      assert.equal(answer.status, 200, file);
    }
    const outside = await request(`${relay.relayUrl}/signed/cam2/x.ts?sign=${sign}&sp=%2Fsigned%2Fcam1%2F`);
    assert.equal(outside.status, 403);
  });

  it('strips credentials from redirects too: Location never carries them', async () => {
    const sign = makeSign(NEW_KEY.secret, '/jump/v.mp4', inAnHour());
    const answer = await request(`${relay.relayUrl}/jump/v.mp4?sign=${sign}&q=1`);
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.location, `http://127.0.0.1:${origin.port}/jump/v.mp4?q=1`);
    const byToken = await request(`${relay.relayUrl}/jump/v.mp4?token=tv-token-123`);
    assert.equal(byToken.status, 302);
    assert.doesNotMatch(byToken.headers.location ?? '', /token/);
  });

  it('admits static tokens, counts them per label, and refuses expired ones with 410', async () => {
    assert.equal((await request(`${relay.relayUrl}/tok/a?token=app-token-123`)).status, 200);
    assert.equal((await request(`${relay.relayUrl}/tok/b?token=app-token-123`)).status, 200);
    const expired = await request(`${relay.relayUrl}/tok/a?token=old-token-123`);
    assert.equal(expired.status, 410);
    assert.equal((await request(`${relay.relayUrl}/tok/a?token=nope-nope-nope`)).status, 403);
    const stats = (await relay.api.call('GET', '/api/stats')).body;
    assert.equal(stats.routes.tokens.tokens.app, 2);
    assert.equal(stats.routes.tokens.tokens.old, undefined);
  });

  it('applies IP allow and deny lists (v4 and v6), believing X-Forwarded-For only from trusted proxies', async () => {
    const via = (xff: string) => request(`${relay.relayUrl}/lan/x`, { headers: { 'x-forwarded-for': xff } });
    assert.equal((await via('10.1.2.3')).status, 200, 'allowed v4');
    assert.equal((await via('2001:db8::7')).status, 200, 'allowed v6');
    const denied = await via('10.6.6.6');
    assert.equal(denied.status, 403);
    assert.equal(code(denied.body), 'IP_DENIED');
    assert.equal((await via('8.8.8.8')).status, 403, 'not in the allow list');
    assert.equal((await via('10.1.2.3, 127.0.0.1')).status, 200, 'the last address that is not a trusted proxy counts');
    assert.equal((await request(`${relay.relayUrl}/lan/x`)).status, 403, '127.0.0.1 itself is not allowed');
    origin.requests.length = 0;
    await via('10.1.2.3');
    assert.equal(origin.requests[0].headers['x-forwarded-for'], '10.1.2.3', 'the node sees the real viewer');
  });

  it('passes credentials on when the route says so', async () => {
    origin.requests.length = 0;
    assert.equal((await request(`${relay.relayUrl}/pass/a?token=pass-token-12`)).status, 200);
    assert.equal(origin.requests[0].url, '/pass/a?token=pass-token-12');
  });

  it('keeps credentials out of the request log and the sessions API', async () => {
    const log = JSON.stringify((await relay.api.call('GET', '/api/requests')).body);
    assert.doesNotMatch(log, /sign=|token=|app-token-123|new-secret/);
  });

  it('signs URLs over the admin API and on the command line, and the relay accepts them', async () => {
    const signed = await relay.api.call('POST', '/api/sign', { routeId: 'signed', path: '/signed/cam1.flv', ttl: '1h' });
    assert.equal(signed.status, 200);
    assert.equal(signed.body.keyId, 'k2025', 'the newest key signs');
    assert.ok(signed.body.expiresAt > Date.now() / 1000 + 3500);
    assert.equal((await request(signed.body.url)).status, 200);
    const bad = await relay.api.call('POST', '/api/sign', { routeId: 'open', path: '/open/x', ttl: '1h' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /no signing keys/);

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-sign-'));
    const file = path.join(dir, 'config.json');
    await fs.writeFile(file, JSON.stringify({ ...config, relay: { port: Number(new URL(relay.relayUrl).port) }, admin: { port: 0 } }));
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [BIN, 'sign', '--config', file, '--route', 'signed', '--path', '/signed/cam1.flv', '--ttl', '1h'], (error, out, err) =>
        error ? reject(new Error(err)) : resolve(out),
      ),
    );
    const url = stdout.trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/signed\/cam1\.flv\?sign=\d+-[0-9a-f]{64}$/);
    assert.equal((await request(url)).status, 200);
  });
});
