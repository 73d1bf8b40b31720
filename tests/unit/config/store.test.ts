/** The config file: atomic save, mode 0600, first-run creation, and bad files left untouched. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { ConfigFileError, loadOrCreateConfig, readConfigFile, writeConfigAtomic } from '../../../electron/engine/config/store.js';

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-store-'));
}

describe('config store', () => {
  it('creates a default config with a generated token on first run, mode 0600', async () => {
    const file = path.join(await tempDir(), 'sub', 'config.json');
    const { config, written } = await loadOrCreateConfig(file);
    assert.equal(written, true);
    assert.ok(config.admin.token && config.admin.token.length >= 16);
    const stat = await fs.stat(file);
    assert.equal(stat.mode & 0o777, 0o600);
    assert.deepEqual(await readConfigFile(file), config);
    const again = await loadOrCreateConfig(file);
    assert.equal(again.written, false);
    assert.equal(again.config.admin.token, config.admin.token);
  });

  it('writes atomically: the old file stays whole until the rename, and no temporary file is left', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'config.json');
    const first = parseConfig({ admin: { token: 'a'.repeat(20) } });
    await writeConfigAtomic(file, first);
    const second = parseConfig({ admin: { token: 'b'.repeat(20) }, relay: { port: 9000 } });
    await writeConfigAtomic(file, second);
    assert.deepEqual(await readConfigFile(file), second);
    assert.deepEqual(await fs.readdir(dir), ['config.json']);
  });

  it('keeps the old file when the write fails (target directory made read-only)', async (t) => {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions; use a path whose parent is a file instead
      const dir = await tempDir();
      const blocker = path.join(dir, 'not-a-dir');
      await fs.writeFile(blocker, 'x');
      await assert.rejects(writeConfigAtomic(path.join(blocker, 'config.json'), parseConfig({})));
      assert.equal(await fs.readFile(blocker, 'utf8'), 'x');
      return;
    }
    const dir = await tempDir();
    const file = path.join(dir, 'config.json');
    await writeConfigAtomic(file, parseConfig({ admin: { token: 'a'.repeat(20) } }));
    const before = await fs.readFile(file, 'utf8');
    await fs.chmod(dir, 0o500);
    t.after(() => fs.chmod(dir, 0o700));
    await assert.rejects(writeConfigAtomic(file, parseConfig({})));
    assert.equal(await fs.readFile(file, 'utf8'), before);
  });

  it('reports bad JSON and bad fields with the file name and the field path, leaving the file untouched', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'config.json');
    await fs.writeFile(file, '{"relay": {"port": 80,}}');
    await assert.rejects(loadOrCreateConfig(file), (error: Error) => error instanceof ConfigFileError && /not valid JSON/.test(error.message));
    await fs.writeFile(file, '{"routes":[{"id":"x","path":"/x/","kind":"flv","mode":"nope"}]}');
    await assert.rejects(loadOrCreateConfig(file), { message: `${file}: routes[0].mode: expected "redirect" or "proxy", got "nope"` });
    assert.equal(await fs.readFile(file, 'utf8'), '{"routes":[{"id":"x","path":"/x/","kind":"flv","mode":"nope"}]}');
  });
});
