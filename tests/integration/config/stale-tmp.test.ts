/**
 * Temporary files of an atomic config write that never got renamed (the process was killed
 * mid-write) hold the admin token: they are written 0600 and removed at the next start,
 * while a write still in flight (live process, fresh file) and the config itself are kept.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../../shared/config.js';
import { loadOrCreateConfig, writeConfigAtomic } from '../../../electron/engine/config/store.js';

const STORE = fileURLToPath(new URL('../../../electron/engine/config/store.ts', import.meta.url));
const TOKEN = 'stale-tmp-token-0123456789';
/** Above Linux's largest pid (4194304): never a live process. */
const DEAD_PID = 99_999_999;

describe('stale config temporary files', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-stale-tmp-'));
    file = path.join(dir, 'config.json');
    await writeConfigAtomic(file, parseConfig({ admin: { token: TOKEN } }));
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('removes those of dead processes and old ones at load, keeps a fresh one of a live process and everything else', async () => {
    const dead = `.config.json.${DEAD_PID}.0a1b2c3d.tmp`;
    const old = `.config.json.${process.pid}.00000000.tmp`;
    const inFlight = `.config.json.${process.pid}.ffffffff.tmp`;
    const others = ['.other.json.1.0a1b2c3d.tmp', 'notes.tmp', '.config.json.bak'];
    for (const name of [dead, old, inFlight, ...others]) await fs.writeFile(path.join(dir, name), `{"admin":{"token":"${TOKEN}"}}`);
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await fs.utimes(path.join(dir, old), twoMinutesAgo, twoMinutesAgo);

    const loaded = await loadOrCreateConfig(file);
    assert.equal(loaded.config.admin.token, TOKEN, 'the live config is read and kept');
    const left = (await fs.readdir(dir)).sort();
    assert.deepEqual(left, ['config.json', inFlight, ...others].sort());
  });

  it('a process killed with SIGKILL mid-write leaves a 0600 file that the next start removes', async () => {
    // The child writes the config and is held between writing the temporary file and renaming it.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         const fsp = createRequire(import.meta.url)('node:fs').promises;
         fsp.rename = () => { process.stdout.write('held\\n'); setInterval(() => {}, 1000); return new Promise(() => {}); };
         const { writeConfigAtomic } = await import(${JSON.stringify(STORE)});
         const { parseConfig } = await import(${JSON.stringify(STORE.replace(/electron\/engine\/config\/store\.ts$/, 'shared/config.ts'))});
         await writeConfigAtomic(${JSON.stringify(file)}, parseConfig({ admin: { token: ${JSON.stringify(TOKEN)} } }));`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = once(child, 'exit');
    const held = await Promise.race([once(child.stdout!, 'data').then(() => true), exited.then(() => false)]);
    assert.ok(held, `the child wrote and was held before the rename: ${stderr}`);
    const temps = (await fs.readdir(dir)).filter((name) => name.startsWith(`.config.json.${child.pid}.`));
    assert.equal(temps.length, 1, 'the child left its temporary file');
    const temp = path.join(dir, temps[0]);
    assert.match(await fs.readFile(temp, 'utf8'), new RegExp(TOKEN), 'it holds the token');
    assert.equal((await fs.stat(temp)).mode & 0o777, 0o600);
    child.kill('SIGKILL');
    await exited;

    await loadOrCreateConfig(file);
    await assert.rejects(fs.stat(temp), { code: 'ENOENT' });
    assert.equal((await loadOrCreateConfig(file)).config.admin.token, TOKEN);
  });
});
