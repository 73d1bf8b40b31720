#!/usr/bin/env node
// `npm test`: make sure the Debian tools the suites need are there (installing them with
// apt-get when running as root), build, then run every *.test.ts under tests/ with Node's
// test runner. A suite whose tool is still missing skips itself and prints which package.
// The tests are laid out by kind: tests/unit (no sockets, no processes; `npm run test:unit`
// runs only these, without apt or a build), tests/integration (real sockets and real peers)
// and tests/e2e (Chromium). `--kind unit,e2e` picks kinds; other arguments filter by path.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Tool on PATH → Debian package that brings it. */
const NEEDED = {
  ffmpeg: 'ffmpeg',
  ffprobe: 'ffmpeg',
  python3: 'python3',
  chromium: 'chromium',
  pebble: 'pebble',
  'pebble-challtestsrv': 'pebble',
  nghttp: 'nghttp2-client',
  h2load: 'nghttp2-client',
  'redis-server': 'redis-server',
  prometheus: 'prometheus',
};

function onPath(tool) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => existsSync(path.join(dir, tool)));
}

function ensureDebianPackages() {
  const missing = [
    ...new Set(
      Object.entries(NEEDED)
        .filter(([tool]) => !onPath(tool))
        .map(([, pkg]) => pkg),
    ),
  ];
  if (missing.length === 0) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !onPath('apt-get')) {
    console.log(`# not installing ${missing.join(', ')}: needs root and apt-get; suites that need them will skip`);
    return;
  }
  console.log(`# installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = update.status === 0 && spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  if (!install || install.status !== 0) console.log(`# apt-get could not install ${missing.join(', ')}; suites that need them will skip`);
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) {
      if (!['bench', 'fixtures', 'helpers', 'results'].includes(name)) out.push(...testFiles(full));
    } else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

/** Tracked files that differ from HEAD now (git status), or undefined outside a git checkout. */
function changedTrackedFiles() {
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return status.status === 0 ? new Set(status.stdout.split('\n').filter(Boolean)) : undefined;
}

/** The test kinds, each a folder under tests/. */
const KINDS = ['unit', 'integration', 'e2e'];

/** `--kind a,b` and path filters from the command line. */
function parseArguments(argv) {
  const kindAt = argv.indexOf('--kind');
  const kinds = kindAt === -1 ? KINDS : (argv[kindAt + 1]?.split(',') ?? []);
  const unknown = kinds.filter((kind) => !KINDS.includes(kind));
  if (kinds.length === 0 || unknown.length > 0) {
    console.error(`--kind: expected a comma-separated list of ${KINDS.join(', ')}; got ${JSON.stringify(argv[kindAt + 1] ?? '')}`);
    process.exit(2);
  }
  const filter = argv.filter((_, i) => kindAt === -1 || (i !== kindAt && i !== kindAt + 1));
  return { kinds, filter };
}

const { kinds, filter } = parseArguments(process.argv.slice(2));
const unitOnly = kinds.length === 1 && kinds[0] === 'unit';
if (!unitOnly) {
  ensureDebianPackages();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}
const trackedBefore = changedTrackedFiles();
const files = kinds.flatMap((kind) => testFiles(path.join(root, 'tests', kind))).filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)));
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, RELAYDECK_LOG_LEVEL: process.env.RELAYDECK_LOG_LEVEL ?? 'warn' },
});
// `npm test` must leave the working tree as it found it (screenshots go to a temp folder unless asked for).
const trackedAfter = changedTrackedFiles();
const written = trackedBefore && trackedAfter ? [...trackedAfter].filter((line) => !trackedBefore.has(line)) : [];
if (written.length > 0) {
  console.log(`# the test run changed tracked files: ${written.join(', ')}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
