/**
 * `npm start` (electron/bin/start.mjs): where Electron cannot run it says why in one line and
 * runs the headless server instead, never trying to download. Needs `npm run build` first
 * (it runs dist/electron/engine/cli.js).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
// @ts-expect-error: a plain .mjs script without type declarations
import { locateElectron, missingDisplay } from '../../../electron/bin/start.mjs';
import { ADMIN_TOKEN, ROOT } from '../../helpers/engine-fixtures.js';

const START = path.join(ROOT, 'electron', 'bin', 'start.mjs');
/** Most time the headless server may take to print its listen lines, in ms. */
const STARTUP_LIMIT_MS = 15_000;

let home: string;

before(async () => {
  assert.ok(existsSync(path.join(ROOT, 'dist', 'electron', 'engine', 'cli.js')), 'dist/electron/engine/cli.js is missing: run `npm run build` first');
  home = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-start-'));
  await mkdir(path.join(home, 'no-electron'));
  const config = { relay: { port: 0, shutdownGraceMs: 0 }, admin: { port: 0, token: ADMIN_TOKEN } };
  await writeFile(path.join(home, 'config.json'), JSON.stringify(config), { mode: 0o600 });
});

after(() => rm(home, { recursive: true, force: true }));

test('locateElectron reports a missing binary instead of downloading it', () => {
  const located = locateElectron({ ELECTRON_OVERRIDE_DIST_PATH: path.join(os.tmpdir(), 'relaydeck-no-such-dir') });
  assert.equal(located.binary, undefined);
  assert.match(located.reason, /no Electron binary/);
});

test('missingDisplay: Linux needs DISPLAY or WAYLAND_DISPLAY; other systems always have one', () => {
  assert.match(missingDisplay({}, 'linux'), /no display/);
  assert.equal(missingDisplay({ DISPLAY: ':0' }, 'linux'), undefined);
  assert.equal(missingDisplay({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux'), undefined);
  assert.equal(missingDisplay({}, 'win32'), undefined);
  assert.equal(missingDisplay({}, 'darwin'), undefined);
});

test('without an Electron binary it prints one reason line and serves headless until SIGTERM', async () => {
  const env = { ...process.env, RELAYDECK_HOME: home, ELECTRON_OVERRIDE_DIST_PATH: path.join(home, 'no-electron') };
  const child = spawn(process.execPath, [START], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const adminUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen lines within ${STARTUP_LIMIT_MS} ms\n${stdout}\n${stderr}`)), STARTUP_LIMIT_MS);
      child.stdout.on('data', () => {
        const match = /admin listening on (\S+)/.exec(stdout);
        if (match && /relay listening on /.test(stdout)) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      void exited.then((code) => reject(new Error(`exited early with ${code}\n${stderr}`)));
    });
    const reasonLines = stderr.split('\n').filter((line) => line.startsWith('Electron cannot start here'));
    assert.equal(reasonLines.length, 1, stderr);
    assert.match(reasonLines[0], /^Electron cannot start here \(no Electron binary at .+\): running headless; open the UI at the admin URL below$/);
    const response = await fetch(`${adminUrl}/api/info`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { adminUrl: string }).adminUrl, adminUrl);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});
