#!/usr/bin/env node
// Copies the demo node's pre-encoded clip (electron/engine/demo/assets, made once by
// build/make-demo-clip.sh) next to the compiled demo code, dist/electron/engine/demo/assets,
// where electron/engine/demo/clip.ts looks for it (and where electron-builder packs it from).
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FROM = path.join(ROOT, 'electron', 'engine', 'demo', 'assets');
const TO = path.join(ROOT, 'dist', 'electron', 'engine', 'demo', 'assets');

rmSync(TO, { recursive: true, force: true });
cpSync(FROM, TO, { recursive: true });
process.stdout.write(`demo assets copied: ${path.relative(process.cwd(), TO)}\n`);
