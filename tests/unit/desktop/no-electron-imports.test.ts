/**
 * House rule: only electron/desktop/main.ts and electron/desktop/preload.ts import `electron` at run time.
 * Everything else (the engine, the IPC handlers, the window options, the sender check) may
 * use `import type` only, so it runs under plain Node where `require('electron')` throws.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../helpers/engine-fixtures.js';

const ALLOWED = new Set(['electron/desktop/main.ts', 'electron/desktop/preload.ts']);

/** A value import or require of the electron package (type-only imports are fine). */
const RUNTIME_ELECTRON_IMPORT =
  /^\s*import\s+(?!type\b)[^;]*?from\s*['"]electron['"]|^\s*import\s*['"]electron['"]|require\(\s*['"]electron['"]\s*\)|import\(\s*['"]electron['"]\s*\)/m;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(relative);
      return /\.(ts|cts|mts|tsx)$/.test(entry.name) ? [relative] : [];
    }),
  );
  return nested.flat();
}

test('the pattern catches value imports and ignores type imports', () => {
  assert.match("import { app } from 'electron';", RUNTIME_ELECTRON_IMPORT);
  assert.match("import electron from 'electron';", RUNTIME_ELECTRON_IMPORT);
  assert.match("const { app } = require('electron');", RUNTIME_ELECTRON_IMPORT);
  assert.match("await import('electron');", RUNTIME_ELECTRON_IMPORT);
  assert.doesNotMatch("import type { IpcMain } from 'electron';", RUNTIME_ELECTRON_IMPORT);
});

test('no file outside main.ts and preload.ts imports electron at run time', async () => {
  const files = [...(await sourceFiles('electron')), ...(await sourceFiles('shared')), ...(await sourceFiles('renderer/src'))];
  assert.ok(files.includes('electron/engine/engine.ts'), 'the scan found the engine');
  const offenders: string[] = [];
  for (const file of files) {
    if (ALLOWED.has(file)) continue;
    if (RUNTIME_ELECTRON_IMPORT.test(await readFile(path.join(ROOT, file), 'utf8'))) offenders.push(file);
  }
  assert.deepEqual(offenders, []);
});
