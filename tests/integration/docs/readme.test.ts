/** The README's configuration and API reference are generated from shared/; this keeps them current. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

test('the README configuration and API reference match shared/config.ts and shared/api.ts', () => {
  assert.doesNotThrow(
    () => execFileSync(process.execPath, ['build/config-reference.mjs', '--check'], { cwd: ROOT, stdio: 'pipe' }),
    'run `node build/config-reference.mjs` after changing a setting or an API call',
  );
});

test('the README states exactly the two commands to run and to test', () => {
  const readme = readFileSync(`${ROOT}README.md`, 'utf8');
  assert.match(readme, /```sh\nnpm install && npm start\n```/);
  assert.match(readme, /```sh\nnpm test\n```/);
});
