#!/usr/bin/env node
// HLS playlist amplification bench (issue 11, point 3; the "amplification" section of run.mjs).
// A live media playlist of about 4 MB on a local origin (a new version every target duration),
// and at each new version a burst of N requests with distinct query strings (`?b=<random>`)
// fired at once through the RelayDeck hls route in proxy mode (hls defaults). Meanwhile a
// "normal viewer" (a separate process, so the burst's downloads do not slow its clock) polls a
// small playlist of another stream and one of its segments through the relay.
// Reported: node fetches of the big playlist (per version and per burst), relay CPU seconds
// over the measured window, peak RSS of the relay (VmHWM, and VmRSS sampled every 50 ms), and
// the normal viewer's latency (p50/p99/max, during the bursts and overall), and the relay's
// event-loop delay over the window (perf_hooks monitorEventLoopDelay, loaded into the relay
// with --import). A reference row: a bare node:http server (its own process) writing one
// static body of the same size to the same burst of requests, i.e. the floor of serving
// those bytes over loopback from one Node process; the ratio against it is the honest figure.
// Targets: 1 node fetch per playlist version, peak RSS under 200 MB, normal viewer p99 under 100 ms.
//
// `node tests/bench/amplification-hls.mjs` runs it and prints a table (forking itself as the
// normal viewer, `--normal`, and as each burst's client, `--burst`). Imported: `runHlsAmplification(options)` returns the result,
// `printHlsAmplification(result, log)` prints it, `hlsAmplificationAnomalies(result)` lists the
// targets missed (for run.mjs).
//
// Environment (all optional; options passed to runHlsAmplification win):
//   BENCH_AMP_QUERIES=50             distinct query strings per burst (1..1000)
//   BENCH_AMP_ROUNDS=3               bursts, one per playlist version (1..20)
//   BENCH_AMP_PLAYLIST_BYTES=3900000 size of the big playlist, bytes (under hls.playlistMaxBytes, 4 MiB)
//   BENCH_AMP_TOKENS=1               segment URIs carry a node token (`?t=...`), as signed CDNs write them
//   BENCH_SKIP_BUILD=1               never run `npm run build:node` (dist/ must exist)
//   BENCH_RELAY_NODE_ARGS=""         extra Node options for the relay process
// Linux only (/proc). Everything on 127.0.0.1.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HOST,
  fmt,
  procCpuSeconds,
  procRssBytes,
  sleep,
  spawnServer,
  ensureBuilt as ensureBuiltAt,
  percentiles,
  procPeakRssBytes,
  stopChild,
  table,
  envNumber,
} from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..', '..');
/** Target duration of both playlists, s (the big one gets a new version this often). */
const TARGET_DURATION_S = 2;
/** Segments in the small playlist the normal viewer polls. */
const SMALL_SEGMENTS = 6;
/** Bytes of each segment on the origin. */
const SEGMENT_BYTES = 188 * 100;
/** The normal viewer's pause between requests, ms. */
const NORMAL_INTERVAL_MS = 20;
/** Any single request of the bench gives up after this long, ms. */
const REQUEST_TIMEOUT_MS = 60_000;
export const TARGETS = { fetchesPerVersion: 1, peakRssBytes: 200 * 1_048_576, normalP99Ms: 100 };

function optionsFromEnv(env = process.env) {
  const num = (name, fallback, min, max) => envNumber(env, name, fallback, min, max);
  return {
    queries: num('BENCH_AMP_QUERIES', 50, 1, 1000),
    rounds: num('BENCH_AMP_ROUNDS', 3, 1, 20),
    playlistBytes: num('BENCH_AMP_PLAYLIST_BYTES', 3_900_000, 10_000, 4_194_000),
    tokens: (env.BENCH_AMP_TOKENS ?? '1') !== '0',
    skipBuild: env.BENCH_SKIP_BUILD === '1',
    relayNodeArgs: (env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
  };
}

// ---------------------------------------------------------------- origin (in this process)

/** The live origin: /live/big/index.m3u8 (about `playlistBytes`, a new version every target duration), /live/small/index.m3u8, segments. */
async function startOrigin({ playlistBytes, tokens }) {
  const segment = Buffer.alloc(SEGMENT_BYTES, 0x47);
  let version = 0;
  let big = Buffer.alloc(0);
  let segmentsListed = 0;
  const bigFetches = []; // version served per fetch of the big playlist
  let otherRequests = 0;
  const versionWaiters = [];
  const render = () => {
    const token = tokens ? `?t=${randomBytes(6).toString('hex')}` : '';
    const head = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${TARGET_DURATION_S}\n#EXT-X-MEDIA-SEQUENCE:${version}\n`;
    const lines = [head];
    let bytes = head.length;
    let n = 0;
    while (bytes < playlistBytes - 64) {
      const line = `#EXTINF:${TARGET_DURATION_S}.000,\nseg_${String(version + n).padStart(9, '0')}.ts${token}\n`;
      lines.push(line);
      bytes += line.length;
      n += 1;
    }
    big = Buffer.from(lines.join(''));
    segmentsListed = n;
  };
  const small = () => {
    let text = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${TARGET_DURATION_S}\n#EXT-X-MEDIA-SEQUENCE:${version}\n`;
    for (let i = 0; i < SMALL_SEGMENTS; i += 1) text += `#EXTINF:${TARGET_DURATION_S}.000,\nseg_${version + i}.ts\n`;
    return Buffer.from(text);
  };
  render();
  const tick = setInterval(() => {
    version += 1;
    render();
    for (const resolve of versionWaiters.splice(0)) resolve(version);
  }, TARGET_DURATION_S * 1000);
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    const playlist = { 'content-type': 'application/vnd.apple.mpegurl', 'cache-control': 'no-cache' };
    if (pathname === '/live/big/index.m3u8') {
      bigFetches.push(version);
      res.writeHead(200, { ...playlist, 'content-length': big.length }).end(big);
      return;
    }
    otherRequests += 1;
    if (pathname === '/live/small/index.m3u8') {
      const body = small();
      res.writeHead(200, { ...playlist, 'content-length': body.length }).end(body);
    } else if (/^\/live\/(big|small)\/seg_\d+\.ts$/.test(pathname)) {
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': segment.length }).end(segment);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, HOST, resolve));
  return {
    url: `http://${HOST}:${server.address().port}`,
    bigFetches,
    stats: () => ({ otherRequests, version, bigBytes: big.length, segmentsListed }),
    /** Resolves with the next version number, right after it is published. */
    nextVersion: () => new Promise((resolve) => versionWaiters.push(resolve)),
    stop: async () => {
      clearInterval(tick);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// ---------------------------------------------------------------- relay (child process)

/**
 * Preloaded into the relay (--import): an event-loop delay histogram (1 ms resolution),
 * reset on SIGUSR2 and written to `file` (ms) on SIGUSR1; the relay itself has no handler for either.
 */
function loopDelayPreload(file) {
  return `import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeFileSync } from 'node:fs';
const h = monitorEventLoopDelay({ resolution: 1 });
h.enable();
process.on('SIGUSR2', () => h.reset());
process.on('SIGUSR1', () => writeFileSync(${JSON.stringify(file)}, JSON.stringify({ p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 })));
`;
}

/** Ask the relay's preload for its loop-delay figures (ms); undefined when it does not answer. */
async function readLoopDelay(pid, file) {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR1');
  for (let i = 0; i < 100; i += 1) {
    await sleep(20);
    if (existsSync(file)) {
      try {
        return JSON.parse(readFileSync(file, 'utf8'));
      } catch {
        // being written
      }
    }
  }
  return undefined;
}

async function startRelay(originUrl, dir, nodeArgs) {
  const preload = path.join(dir, 'loop-delay.mjs');
  writeFileSync(preload, loopDelayPreload(path.join(dir, 'loop-delay.json')));
  nodeArgs = ['--import', preload, ...nodeArgs];
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const configFile = path.join(dir, 'config.json');
  const config = {
    relay: { host: HOST, port: 0, shutdownGraceMs: 1_000 },
    admin: { host: HOST, port: 0, token },
    nodes: [{ id: 'a', url: originUrl }],
    routes: [{ id: 'live', path: '/live/', kind: 'hls', mode: 'proxy' }],
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  const server = await spawnServer(process.execPath, [...nodeArgs, path.join(ROOT, 'electron', 'bin', 'relaydeck.mjs'), 'serve', '--config', configFile], {
    ready: [/relay listening on (http:\/\/\S+)/, /admin listening on (http:\/\/\S+)/],
    cwd: ROOT,
    env: { RELAYDECK_HOME: dir, RELAYDECK_LOG_LEVEL: 'warn' },
    stderrFile: path.join(dir, 'stderr.log'),
  });
  const [url, adminUrl] = server.matches;
  const api = async (p) => (await fetch(adminUrl + p, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) })).json();
  return {
    url,
    pid: server.child.pid,
    loopDelayFile: path.join(dir, 'loop-delay.json'),
    api,
    stderrTail: () => server.stderrTail().slice(-5),
    stop: () => stopChild(server.child, { timeoutMs: 6_000 }),
  };
}

// ---------------------------------------------------------------- load

/** One GET, body read and dropped: { status, ms, bytes } (status 0 on a network error). */
function get(url) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes }));
      res.on('error', () => resolve({ status: 0, ms: performance.now() - started, bytes }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, bytes: 0 }));
  });
}

/** The normal viewer (forked): polls the small playlist and a segment until told to stop, then sends its samples. */
async function normalMain([relayUrl]) {
  const samples = []; // [startedAtEpochMs, ms, status]
  let stopping = false;
  process.on('message', (message) => {
    if (message?.cmd === 'stop') stopping = true;
  });
  process.send({ type: 'ready' });
  let i = 0;
  while (!stopping) {
    const url = i % 5 === 4 ? `${relayUrl}/live/small/seg_1.ts` : `${relayUrl}/live/small/index.m3u8?viewer=normal`;
    const at = Date.now();
    const answer = await get(url);
    samples.push([at, answer.ms, answer.status]);
    i += 1;
    await sleep(NORMAL_INTERVAL_MS);
  }
  process.send({ type: 'samples', samples }, () => process.exit(0));
}

/** A burst (forked, so reading its answers never delays the origin in this process): `n` GETs of `url` + a distinct `?b=` at once. */
async function burstMain([url, n]) {
  const startedAt = Date.now();
  const answers = await Promise.all(Array.from({ length: Number(n) }, () => get(`${url}?b=${randomBytes(8).toString('hex')}`)));
  process.send({ type: 'burst', startedAt, endedAt: Date.now(), answers }, () => process.exit(0));
}

/** Run one burst in a child process: resolves { startedAt, endedAt, answers }. */
function runBurst(url, n) {
  const child = fork(SELF, ['--burst', url, String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => code !== 0 && reject(new Error(`burst exited with ${code}`)));
  });
}

function startNormalViewer(relayUrl) {
  const child = fork(SELF, ['--normal', relayUrl], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`normal viewer exited with ${code}`)));
  });
  return {
    ready,
    stop: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('normal viewer did not report')), 30_000);
        child.on('message', (message) => {
          if (message?.type !== 'samples') return;
          clearTimeout(timer);
          resolve(message.samples);
        });
        child.send({ cmd: 'stop' });
      }),
    kill: () => child.exitCode === null && child.kill('SIGKILL'),
  };
}

/**
 * The reference: a bare node:http server in its own process writing one static Buffer of
 * `bytes` to `queries` requests fired at once (the same burst shape as the relay's), `rounds`
 * times, while the same normal viewer polls it for a small body: what this machine allows any
 * server, so the relay's figures can be read against it.
 */
async function bareReference(queries, bytes, rounds) {
  const code = `const http = require('node:http');
const body = Buffer.alloc(${bytes}, 0x41);
const small = Buffer.alloc(2048, 0x42);
const server = http.createServer((req, res) => {
  const answer = req.url.startsWith('/big') ? body : small;
  res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': answer.length }).end(answer);
});
server.listen(0, '${HOST}', () => console.log('bare listening on http://${HOST}:' + server.address().port));`;
  const server = await spawnServer(process.execPath, ['-e', code], { ready: [/bare listening on (http:\/\/\S+)/] });
  let normal;
  try {
    const [url] = server.matches;
    await get(`${url}/warm`);
    normal = startNormalViewer(url);
    await normal.ready;
    await sleep(500);
    const cpu0 = procCpuSeconds(server.child.pid);
    const bursts = [];
    for (let round = 0; round < rounds; round += 1) {
      const { startedAt, endedAt, answers } = await runBurst(`${url}/big.m3u8`, queries);
      bursts.push({ startedAt, endedAt, slowestMs: Math.max(...answers.map((a) => a.ms)) });
      await sleep(300);
    }
    const cpuSeconds = procCpuSeconds(server.child.pid) - cpu0;
    const samples = await normal.stop();
    const inBurst = samples.filter(([at]) => bursts.some((b) => at >= b.startedAt && at <= b.endedAt));
    return {
      burstMs: bursts.reduce((n, b) => n + (b.endedAt - b.startedAt), 0) / bursts.length,
      slowestMs: Math.max(...bursts.map((b) => b.slowestMs)),
      cpuSeconds,
      peakRssBytes: procPeakRssBytes(server.child.pid),
      bytes,
      normalDuringBurst: percentiles(inBurst.map(([, ms]) => ms)),
    };
  } finally {
    normal?.kill();
    await stopChild(server.child, { timeoutMs: 3_000 });
  }
}

// ---------------------------------------------------------------- the bench

/** Run the bench; resolves the result object (see printHlsAmplification for its fields). */
export async function runHlsAmplification(options = {}) {
  const settings = { ...optionsFromEnv(), ...options };
  const progress = settings.progress ?? ((line) => process.stderr.write(`  .. ${line}\n`));
  const build = ensureBuiltAt(ROOT, settings.skipBuild, progress);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rd-amp-bench-'));
  const origin = await startOrigin(settings);
  let relay;
  let normal;
  try {
    relay = await startRelay(origin.url, tmp, settings.relayNodeArgs);
    // Warm: the small stream is cached and the relay's code paths are compiled before measuring.
    await get(`${relay.url}/live/small/index.m3u8`);
    await get(`${relay.url}/live/small/seg_1.ts`);
    normal = startNormalViewer(relay.url);
    await normal.ready;
    await sleep(500);
    const baselineRssBytes = procRssBytes(relay.pid);
    let sampledPeakRssBytes = baselineRssBytes ?? 0;
    const sampler = setInterval(() => (sampledPeakRssBytes = Math.max(sampledPeakRssBytes, procRssBytes(relay.pid) ?? 0)), 50);
    const cpu0 = procCpuSeconds(relay.pid);
    process.kill(relay.pid, 'SIGUSR2'); // reset the loop-delay histogram
    const t0 = Date.now();
    const rounds = [];
    for (let round = 0; round < settings.rounds; round += 1) {
      const version = await origin.nextVersion();
      const fetchesBefore = origin.bigFetches.length;
      progress(`burst ${round + 1}/${settings.rounds}: ${settings.queries} distinct queries, playlist version ${version}`);
      const { startedAt, endedAt, answers } = await runBurst(`${relay.url}/live/big/index.m3u8`, settings.queries);
      const statuses = {};
      for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
      rounds.push({
        version,
        startedAt,
        endedAt,
        burstMs: endedAt - startedAt,
        nodeFetches: origin.bigFetches.length - fetchesBefore,
        statuses,
        bytesPerAnswer: answers[0]?.bytes ?? 0,
        slowestMs: Math.max(...answers.map((a) => a.ms)),
      });
    }
    const relayCpuSeconds = procCpuSeconds(relay.pid) - cpu0;
    const windowSeconds = (Date.now() - t0) / 1000;
    const loopDelay = await readLoopDelay(relay.pid, relay.loopDelayFile);
    clearInterval(sampler);
    const samples = await normal.stop();
    const inBurst = samples.filter(([at]) => rounds.some((r) => at >= r.startedAt && at <= r.endedAt));
    const versionsFetched = new Set(origin.bigFetches).size;
    const [hlsCache, stats] = await Promise.all([relay.api('/api/hls/cache'), relay.api('/api/stats')]);
    return {
      settings: { queries: settings.queries, rounds: settings.rounds, playlistBytes: settings.playlistBytes, tokens: settings.tokens, build },
      origin: origin.stats(),
      rounds,
      nodePlaylistFetches: origin.bigFetches.length,
      versionsFetched,
      fetchesPerVersion: versionsFetched ? origin.bigFetches.length / versionsFetched : NaN,
      relayCpuSeconds,
      windowSeconds,
      loopDelay,
      bare: await bareReference(settings.queries, rounds[0]?.bytesPerAnswer || settings.playlistBytes, settings.rounds),
      baselineRssBytes,
      peakRssBytes: procPeakRssBytes(relay.pid),
      sampledPeakRssBytes,
      normal: {
        duringBurst: percentiles(inBurst.map(([, ms]) => ms)),
        overall: percentiles(samples.map(([, ms]) => ms)),
        errors: samples.filter(([, , status]) => status !== 200).length,
      },
      relay: { hlsCache, errors: stats.totals.errors, stderrTail: relay.stderrTail() },
      targets: TARGETS,
    };
  } finally {
    normal?.kill();
    await relay?.stop();
    await origin.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Print the result as tables. */
export function printHlsAmplification(result, print = (line = '') => process.stdout.write(`${line}\n`)) {
  const { settings, origin, rounds, normal } = result;
  print(
    `HLS playlist amplification: ${settings.rounds} bursts of ${settings.queries} distinct query strings on a ${fmt.mb(origin.bigBytes)} live playlist (${fmt.int(origin.segmentsListed)} segments${settings.tokens ? ', node token on each' : ''}), one burst per version; relay: hls route, proxy mode, hls defaults (${settings.build})`,
  );
  print(
    table(
      ['burst', 'version', 'node fetches', 'statuses', 'burst time', 'slowest answer', 'bytes per answer'],
      rounds.map((r, i) => [
        String(i + 1),
        r.version,
        r.nodeFetches,
        Object.entries(r.statuses)
          .map(([s, n]) => `${s}x${n}`)
          .join(' '),
        fmt.ms(r.burstMs),
        fmt.ms(r.slowestMs),
        fmt.mb(r.bytesPerAnswer),
      ]),
    ),
  );
  print();
  const ok = (pass) => (pass ? 'ok' : 'MISSED');
  const lat = (p) => `${fmt.ms(p.p50Ms)} / ${fmt.ms(p.p99Ms)} / ${fmt.ms(p.maxMs)} (${p.count} requests)`;
  print(
    table(
      ['measure', 'value', 'target', ''],
      [
        [
          'node fetches per playlist version',
          fmt.fixed(result.fetchesPerVersion),
          String(TARGETS.fetchesPerVersion),
          ok(result.fetchesPerVersion <= TARGETS.fetchesPerVersion),
        ],
        ['node playlist fetches in all', `${result.nodePlaylistFetches} (${result.versionsFetched} versions)`, '', ''],
        ['relay CPU over the window', `${fmt.fixed(result.relayCpuSeconds)} s in ${fmt.fixed(result.windowSeconds, 1)} s`, '', ''],
        [
          'relay RSS before / peak (VmHWM)',
          `${fmt.mb(result.baselineRssBytes)} / ${fmt.mb(result.peakRssBytes)}`,
          `< ${fmt.mb(TARGETS.peakRssBytes)}`,
          ok(result.peakRssBytes < TARGETS.peakRssBytes),
        ],
        ['relay RSS peak, sampled every 50 ms', fmt.mb(result.sampledPeakRssBytes), '', ''],
        [
          'normal viewer during bursts p50 / p99 / max',
          `${fmt.ms(normal.duringBurst.p50Ms)} / ${fmt.ms(normal.duringBurst.p99Ms)} / ${fmt.ms(normal.duringBurst.maxMs)} (${normal.duringBurst.count} requests)`,
          `p99 < ${TARGETS.normalP99Ms}ms`,
          ok(normal.duringBurst.p99Ms < TARGETS.normalP99Ms),
        ],
        [
          'normal viewer overall p50 / p99 / max',
          `${fmt.ms(normal.overall.p50Ms)} / ${fmt.ms(normal.overall.p99Ms)} / ${fmt.ms(normal.overall.maxMs)} (${normal.overall.count} requests, ${normal.errors} not 200)`,
          '',
          '',
        ],
        [
          'relay event-loop delay p50 / p99 / max',
          result.loopDelay ? `${fmt.ms(result.loopDelay.p50Ms)} / ${fmt.ms(result.loopDelay.p99Ms)} / ${fmt.ms(result.loopDelay.maxMs)}` : 'n/a',
          '',
          '',
        ],
        [
          'reference: bare node:http, same bursts of one static body',
          `mean burst ${fmt.ms(result.bare.burstMs)}, slowest ${fmt.ms(result.bare.slowestMs)}, CPU ${fmt.fixed(result.bare.cpuSeconds)} s, peak RSS ${fmt.mb(result.bare.peakRssBytes)}`,
          '',
          '',
        ],
        ['reference: normal viewer of the bare server during its bursts p50 / p99 / max', lat(result.bare.normalDuringBurst), '', ''],
        ['relay / bare: mean burst time', `${fmt.fixed(rounds.reduce((n, r) => n + r.burstMs, 0) / rounds.length / result.bare.burstMs, 1)}x`, '', ''],
        ['relay errors by code', JSON.stringify(result.relay.errors), '', ''],
      ],
      { left: 2 },
    ),
  );
}

/** The targets the result missed, one line each (empty when all were met). */
export function hlsAmplificationAnomalies(result) {
  const out = [];
  if (!(result.fetchesPerVersion <= TARGETS.fetchesPerVersion))
    out.push(`hls amplification: ${fmt.fixed(result.fetchesPerVersion)} node fetches per playlist version (target ${TARGETS.fetchesPerVersion})`);
  if (!(result.peakRssBytes < TARGETS.peakRssBytes))
    out.push(`hls amplification: relay peak RSS ${fmt.mb(result.peakRssBytes)} (target under ${fmt.mb(TARGETS.peakRssBytes)})`);
  if (!(result.normal.duringBurst.p99Ms < TARGETS.normalP99Ms))
    out.push(`hls amplification: normal viewer p99 ${fmt.ms(result.normal.duringBurst.p99Ms)} during the bursts (target under ${TARGETS.normalP99Ms} ms)`);
  if (result.normal.errors > 0) out.push(`hls amplification: ${result.normal.errors} normal viewer requests were not answered 200`);
  for (const r of result.rounds)
    if ((r.statuses[200] ?? 0) !== result.settings.queries) out.push(`hls amplification: burst on version ${r.version} answered ${JSON.stringify(r.statuses)}`);
  return out;
}

async function main() {
  const result = await runHlsAmplification();
  printHlsAmplification(result);
  const anomalies = hlsAmplificationAnomalies(result);
  for (const line of anomalies) process.stdout.write(`ANOMALY: ${line}\n`);
}

if (process.argv[2] === '--normal') await normalMain(process.argv.slice(3));
else if (process.argv[2] === '--burst') await burstMain(process.argv.slice(3));
else if (process.argv[1] && path.resolve(process.argv[1]) === SELF) await main();
