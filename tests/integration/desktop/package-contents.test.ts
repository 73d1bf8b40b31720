/**
 * What `npm run dist` puts in the app: build/electron-builder.json packs only the built
 * output (dist/electron, dist/shared, dist/renderer), package.json and the production
 * dependencies; no sources, tests, maps or declarations. electron-builder runs offline
 * with `--linux dir` and `electronDist` pointing at a placeholder executable named
 * `electron` (it is copied, never run), then the resulting app.asar is listed.
 * Needs `npm run build` first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from '../../helpers/engine-fixtures.js';

/** electron-builder packs in about 3 s here; allow for a slow machine. */
const PACK_LIMIT_MS = 120_000;

const asar = createRequire(import.meta.url)('@electron/asar') as { listPackage(archive: string, options: { isPack: boolean }): string[] };

let work: string;
let entries: string[];

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), PACK_LIMIT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`electron-builder exited with ${code}:\n${output}`));
    });
  });
}

before(
  async () => {
    for (const built of ['dist/electron/desktop/main.js', 'dist/electron/desktop/preload.cjs', 'dist/renderer/index.html']) {
      assert.ok(existsSync(path.join(ROOT, built)), `${built} is missing: run \`npm run build\` first`);
    }
    work = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-pack-'));
    const electronDist = path.join(work, 'electron-dist');
    await mkdir(electronDist);
    await writeFile(path.join(electronDist, 'electron'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(electronDist, 'electron'), 0o755);
    const cli = path.join(ROOT, 'node_modules', 'electron-builder', 'cli.js');
    await run(process.execPath, [
      cli,
      '--config',
      'build/electron-builder.json',
      '--linux',
      'dir',
      `-c.electronDist=${electronDist}`,
      `-c.directories.output=${path.join(work, 'out')}`,
    ]);
    entries = asar
      .listPackage(path.join(work, 'out', 'linux-unpacked', 'resources', 'app.asar'), { isPack: false })
      .map((entry) => entry.split(path.sep).join('/'));
  },
  { timeout: PACK_LIMIT_MS + 10_000 },
);

after(() => rm(work, { recursive: true, force: true }));

test('the app holds the entry points: main, preload bundle, renderer page, package.json, the demo clip', () => {
  for (const file of [
    '/package.json',
    '/dist/electron/desktop/main.js',
    '/dist/electron/desktop/preload.cjs',
    '/dist/electron/engine/cli.js',
    '/dist/renderer/index.html',
    '/dist/shared/api.js',
    '/dist/electron/engine/demo/assets/demo.flv',
    '/dist/electron/engine/demo/assets/clip.m3u8',
    '/dist/electron/engine/demo/assets/seg0.m2ts',
  ]) {
    assert.ok(entries.includes(file), `${file} is packed`);
  }
});

test('every packed file is built output, package.json or a production dependency', () => {
  const allowed = /^\/(package\.json|dist\/(electron|shared|renderer)(\/.*)?|dist|node_modules(\/.*)?)$/;
  assert.deepEqual(
    entries.filter((entry) => !allowed.test(entry)),
    [],
  );
});

test('no sources, tests, source maps, declarations or build info are packed', () => {
  const ours = entries.filter((entry) => !entry.startsWith('/node_modules/'));
  assert.deepEqual(
    ours.filter((entry) => /\.(ts|tsx|map)$|\.tsbuildinfo|^\/(tests|electron|renderer|shared|build)\//.test(entry)),
    [],
  );
  assert.equal(entries.includes('/dist/electron/desktop/preload.js'), false, 'the unbundled tsc output of the preload is left out');
});

test('dev dependencies stay out; runtime dependencies are in', async () => {
  const manifest = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const packedPackages = new Set(entries.filter((e) => /^\/node_modules\/(@[^/]+\/)?[^/@]+$/.test(e)).map((e) => e.slice('/node_modules/'.length)));
  for (const name of Object.keys(manifest.dependencies)) assert.ok(packedPackages.has(name), `${name} is packed`);
  for (const name of Object.keys(manifest.devDependencies)) assert.equal(packedPackages.has(name), false, `${name} is not packed`);
});
