#!/usr/bin/env node
// Bundles electron/desktop/preload.ts into ONE CommonJS file, dist/electron/desktop/preload.cjs.
// A sandboxed preload cannot require local files, so everything it imports (shared/api.ts,
// electron/desktop/ipc-result.ts) is inlined; only `electron` stays a require().
// Usage: node build/build-preload.mjs [OUTFILE]   (tests build into a temporary folder)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PRELOAD_ENTRY = path.join(ROOT, 'electron', 'desktop', 'preload.ts');
export const PRELOAD_OUTFILE = path.join(ROOT, 'dist', 'electron', 'desktop', 'preload.cjs');

/** Chromium of Electron 45; the preload runs in the renderer, not in Node. */
const TARGET = 'chrome140';

/** esbuild options for the preload bundle written to `outfile`. */
export function preloadBuildOptions(outfile = PRELOAD_OUTFILE) {
  return {
    entryPoints: [PRELOAD_ENTRY],
    outfile,
    bundle: true,
    format: 'cjs',
    platform: 'browser',
    target: TARGET,
    external: ['electron'],
    sourcemap: false,
    minify: false,
    legalComments: 'none',
    logLevel: 'warning',
  };
}

export async function buildPreload(outfile = PRELOAD_OUTFILE) {
  await build(preloadBuildOptions(outfile));
  return outfile;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const outfile = await buildPreload(process.argv[2] ? path.resolve(process.argv[2]) : PRELOAD_OUTFILE);
  process.stdout.write(`preload bundled: ${path.relative(process.cwd(), outfile)}\n`);
}
