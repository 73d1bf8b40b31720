/**
 * Signals through the documented launchers (issue 12 point 7): whatever starts the relay —
 * `npm run serve` (electron/bin/relaydeck.mjs serve), `npm start` headless (electron/bin/start.mjs
 * without Electron) or `npm start` with Electron (start.mjs spawning the Electron binary, here a
 * stand-in that runs the CLI) — SIGHUP to the launcher reloads the config file and SIGTERM stops
 * the relay: the launcher exits 0 and nothing listens on the relay port anymore (no orphan).
 * Needs `npm run build` first (the launchers run dist/electron/engine/cli.js).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { portOf, waitFor } from '../../helpers/http.js';
import { addRouteAndReload, portHeld, spawnServe } from '../../helpers/serve-process.js';
import { ADMIN_TOKEN, ROOT } from '../../helpers/engine-fixtures.js';

const BIN = path.join(ROOT, 'electron', 'bin');

/** Is process `pid` still running? */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('launchers pass SIGHUP and SIGTERM to the relay', () => {
  let dir: string;
  let fakeElectronDir: string;
  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist', 'electron', 'engine', 'cli.js')), 'dist/electron/engine/cli.js is missing: run `npm run build` first');
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-launchers-'));
    await fs.mkdir(path.join(dir, 'no-electron'));
    // A stand-in for the Electron binary: run as `electron ROOT ...args`, it serves with the CLI in its own process.
    fakeElectronDir = path.join(dir, 'fake-electron');
    await fs.mkdir(fakeElectronDir);
    const cli = path.join(ROOT, 'dist', 'electron', 'engine', 'cli.js');
    await fs.writeFile(
      path.join(fakeElectronDir, 'electron'),
      `#!${process.execPath}\nprocess.stdout.write('stand-in electron pid ' + process.pid + '\\n');\nconst { main } = await import(${JSON.stringify(new URL(`file://${cli}`).href)});\nprocess.exitCode = await main(['serve', ...process.argv.slice(3)]);\n`,
      { mode: 0o755 },
    );
    // ESM top-level await needs a module: a package.json beside the stand-in says so.
    await fs.writeFile(path.join(fakeElectronDir, 'package.json'), '{"type":"module"}');
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  async function writeConfig(name: string): Promise<string> {
    const file = path.join(dir, `${name}.json`);
    const config = {
      relay: { port: 0, shutdownGraceMs: 0 },
      admin: { port: 0, token: ADMIN_TOKEN },
      health: { intervalMs: 0 },
      nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }],
      routes: [],
    };
    await fs.writeFile(file, JSON.stringify(config, null, 2), { mode: 0o600 });
    return file;
  }

  const launchers: { name: string; args: (config: string) => string[]; env: () => NodeJS.ProcessEnv }[] = [
    { name: 'npm run serve (relaydeck.mjs serve)', args: (config) => [path.join(BIN, 'relaydeck.mjs'), 'serve', '--config', config], env: () => ({}) },
    {
      name: 'npm start, headless (start.mjs, no Electron)',
      args: (config) => [path.join(BIN, 'start.mjs'), '--config', config],
      env: () => ({ ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, 'no-electron') }),
    },
    {
      name: 'npm start with Electron (start.mjs spawning it)',
      args: (config) => [path.join(BIN, 'start.mjs'), '--config', config],
      env: () => ({ ELECTRON_OVERRIDE_DIST_PATH: fakeElectronDir, DISPLAY: ':99' }),
    },
  ];

  it('npm run serve itself: a signal npm does not forward (SIGHUP ends npm) leaves no orphaned relay', async () => {
    const config = await writeConfig('npm-hup');
    const npm = spawn('npm', ['run', '--silent', 'serve', '--', '--config', config], {
      cwd: ROOT,
      env: { ...process.env, RELAYDECK_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    npm.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    try {
      const relay = await waitFor(() => /relay listening on (http:\/\/\S+)/.exec(stdout)?.[1], 20_000, `the relay under npm to listen\n${stdout}`);
      npm.kill('SIGHUP');
      await waitFor(() => npm.exitCode !== null || npm.signalCode !== null, 5_000, 'npm to end on SIGHUP');
      await waitFor(async () => !(await portHeld(portOf(relay))), 5_000, 'the relay to stop once npm, its launcher, was gone');
    } finally {
      npm.kill('SIGKILL');
      // An orphaned relay would hold these pipes open and keep the test process waiting.
      npm.stdout.destroy();
      npm.stderr.destroy();
    }
  });

  for (const [index, launcher] of launchers.entries()) {
    it(`${launcher.name}: SIGHUP reloads, SIGTERM stops the relay and the launcher exits 0`, async () => {
      const config = await writeConfig(`launcher-${index}`);
      const run = spawnServe(launcher.args(config), { RELAYDECK_LOG_LEVEL: 'warn', ...launcher.env() }, ROOT);
      let standIn = 0;
      try {
        const { relay } = await run.addresses();
        standIn = Number(/stand-in electron pid (\d+)/.exec(run.output().stdout)?.[1] ?? 0);
        await addRouteAndReload(config, relay, () => run.child.kill('SIGHUP'), `hup${index}`);
        assert.equal(run.child.exitCode, null, 'the launcher survived SIGHUP');
        run.child.kill('SIGTERM');
        assert.deepEqual(await run.exited, { code: 0, signal: null }, run.output().stderr);
        assert.equal(await portHeld(portOf(relay)), false, 'nothing listens on the relay port anymore');
        if (launcher.name.includes('with Electron')) {
          assert.ok(standIn > 0, 'the Electron stand-in ran');
          assert.equal(alive(standIn), false, 'the Electron child is gone too');
        }
      } finally {
        run.child.kill('SIGKILL');
        if (standIn && alive(standIn)) process.kill(standIn, 'SIGKILL'); // an orphan left by a failing launcher
      }
    });
  }
});
