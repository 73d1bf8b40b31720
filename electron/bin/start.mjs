#!/usr/bin/env node
// `npm start`: the desktop app when Electron can run here, else the same engine headless.
//
// The Electron binary is located WITHOUT loading the `electron` package: its index.js
// downloads the binary when it is missing, which would hang or fail offline. We read the
// package's path.txt and check dist/ ourselves (ELECTRON_OVERRIDE_DIST_PATH is honoured,
// as the package does). When there is no binary or no display, one line says why and
// `relaydeck serve` runs in this process; extra arguments go to it (e.g. --config FILE).
// Either way SIGTERM/SIGINT/SIGHUP reach the process that owns the relay: in process the
// CLI handles them; Electron gets them forwarded.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'electron', 'engine', 'cli.js');
const MAIN = path.join(ROOT, 'dist', 'electron', 'desktop', 'main.js');
const PRELOAD = path.join(ROOT, 'dist', 'electron', 'desktop', 'preload.cjs');
/** Signals passed on to the Electron child: stop (INT, TERM) and reload the config (HUP). */
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Where the Electron binary is, or why there is none. */
export function locateElectron(env = process.env) {
  let packageDir;
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed' };
  }
  const pathFile = path.join(packageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const binary = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(binary) ? { binary } : { reason: `no Electron binary at ELECTRON_OVERRIDE_DIST_PATH (${binary})` };
  }
  if (!relative) return { reason: 'binary not downloaded' };
  const binary = path.join(packageDir, 'dist', relative);
  return existsSync(binary) ? { binary } : { reason: 'binary not downloaded' };
}

/** Why no window can be shown, or undefined when one can. */
export function missingDisplay(env = process.env, platform = process.platform) {
  if (platform !== 'linux' && platform !== 'freebsd' && platform !== 'openbsd') return undefined;
  return env.DISPLAY || env.WAYLAND_DISPLAY ? undefined : 'no display: DISPLAY and WAYLAND_DISPLAY are unset';
}

function runElectron(binary, args) {
  // Electron runs the app in ROOT (package.json "main" → dist/electron/desktop/main.js).
  const child = spawn(binary, [ROOT, ...args], { stdio: 'inherit', windowsHide: false });
  // Signals meant for the app (a service manager, a terminal) go to Electron, which owns the
  // relay; this wrapper exits when it does, with its code, so nothing is left orphaned.
  const forward = (signal) => () => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward(signal));
  child.on('error', (error) => {
    process.stderr.write(`relaydeck: cannot start Electron (${error.message})\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function runHeadless(reason, args) {
  process.stderr.write(`Electron cannot start here (${reason}): running headless; open the UI at the admin URL below\n`);
  const { main } = await import(pathToFileURL(CLI).href);
  process.exitCode = await main(['serve', ...args]);
}

/** The first build output in `files` that does not exist, relative to the project. */
function missingBuild(files) {
  const file = files.find((f) => !existsSync(f));
  return file && path.relative(ROOT, file);
}

async function start(args) {
  const electron = locateElectron();
  const reason = electron.reason ?? missingDisplay();
  const missing = missingBuild(reason ? [CLI] : [CLI, MAIN, PRELOAD]);
  if (missing) {
    process.stderr.write(`relaydeck: ${missing} is missing; run \`npm run build\` first\n`);
    process.exitCode = 1;
    return;
  }
  if (reason) return runHeadless(reason, args);
  runElectron(electron.binary, args);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await start(process.argv.slice(2));
}
