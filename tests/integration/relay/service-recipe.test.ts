/**
 * The README's systemd recipe, without systemd (issue 12 point 7): the relay is started with
 * the unit's ExecStart (`node .../dist/electron/engine/cli.js serve --config FILE`), reloaded with
 * SIGHUP as ExecReload does (an added route answers; a bad file is refused, logged, and the
 * running config kept), and stopped with SIGTERM as `systemctl stop` does: exit 0, port free.
 * Needs `npm run build` first (it runs dist/electron/engine/cli.js).
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { portOf, request, waitFor } from '../../helpers/http.js';
import { addRouteAndReload, portHeld, spawnServe } from '../../helpers/serve-process.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The unit's ExecStart and ExecReload lines from the README's service recipe. */
async function recipe(): Promise<{ execStart: string[]; execReload: string }> {
  const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
  const unit = /```ini\n(# \/etc\/systemd\/system\/relaydeck\.service[\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(unit, 'the README has the relaydeck.service unit');
  const line = (key: string) => new RegExp(`^${key}=(.+)$`, 'm').exec(unit)?.[1] ?? '';
  return { execStart: line('ExecStart').split(' '), execReload: line('ExecReload') };
}

describe('the systemd recipe, run by hand', () => {
  let dir: string;
  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist', 'electron', 'engine', 'cli.js')), 'dist/electron/engine/cli.js is missing: run `npm run build` first');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-service-'));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('ExecStart serves, SIGHUP reloads the file, SIGTERM stops with 0 and frees the port', async () => {
    const { execStart, execReload } = await recipe();
    assert.equal(execReload, '/bin/kill -HUP $MAINPID');
    assert.deepEqual(execStart.slice(2), ['serve', '--config', '/etc/relaydeck/config.json']);
    assert.equal(execStart[1], '/opt/relaydeck/dist/electron/engine/cli.js');
    const configPath = path.join(dir, 'config.json');
    const config = {
      relay: { port: 0, shutdownGraceMs: 0 },
      admin: { port: 0, token: 'service-token-0123456789' },
      health: { intervalMs: 0 },
      nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }],
      routes: [],
    };
    await fs.writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
    // ExecStart with the install folder and config path of this test.
    const args = [path.join(ROOT, execStart[1].slice('/opt/relaydeck/'.length)), ...execStart.slice(2, -1), configPath];
    const run = spawnServe(args, { RELAYDECK_LOG_LEVEL: 'info' });
    try {
      const { relay } = await run.addresses();
      await addRouteAndReload(configPath, relay, () => run.child.kill('SIGHUP'), 'added');

      const bad = '{"routes":[{"id":"x","path":"/x/","kind":"flv","mode":"sideways"}]}';
      await fs.writeFile(configPath, bad);
      run.child.kill('SIGHUP');
      await waitFor(() => /reload refused.*routes\[0\]\.mode/.test(run.output().stderr), 10_000, `the refusal in the log\n${run.output().stderr}`);
      assert.equal((await request(`${relay}/added/x`)).status, 302, 'the running config is kept');
      assert.equal(await fs.readFile(configPath, 'utf8'), bad, 'the bad file is left as it is');

      run.child.kill('SIGTERM');
      assert.deepEqual(await run.exited, { code: 0, signal: null }, run.output().stderr);
      assert.equal(await portHeld(portOf(relay)), false, 'nothing listens on the relay port anymore');
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
