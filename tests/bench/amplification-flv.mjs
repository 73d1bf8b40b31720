#!/usr/bin/env node
// HTTP-FLV query amplification bench (issue 11, point 4; the "amplification" section of run.mjs).
// One live stream on the bench origin (tests/bench/flv-origin.mjs, which counts its pulls), and
// a burst of N viewers opened at once on it through the RelayDeck flv route in proxy mode
// (fan-out, flv defaults), each with a distinct query string (`?r=<random>`), held for a while
// and then closed. Meanwhile a "normal viewer" (a separate process, so the burst's reads do not
// slow its clock) keeps joining another stream and leaving: time to first byte (response head)
// and time to its first keyframe.
// Reported: node pulls of the burst stream (opened and most at once), the burst viewers'
// answers and bytes, relay CPU seconds over the burst, peak RSS of the relay (VmHWM, and VmRSS
// sampled every 50 ms) and RSS after the viewers left, the normal viewer's latency (p50/p99/max
// during the burst and overall).
// Targets: 1 node pull for the stream, peak RSS under 200 MB, normal viewer first byte p99 under 100 ms.
//
// `node tests/bench/amplification-flv.mjs` runs it and prints a table (forking itself as the
// normal viewer, `--normal`). Imported: `runFlvAmplification(options)` returns the result,
// `printFlvAmplification(result, log)` prints it, `flvAmplificationAnomalies(result)` lists the
// targets missed (for run.mjs).
//
// Environment (all optional; options passed to runFlvAmplification win):
//   BENCH_AMP_FLV_VIEWERS=200       burst viewers, each with a distinct query string (1..2000)
//   BENCH_AMP_FLV_HOLD_S=5          how long the burst viewers stay, s (1..120)
//   BENCH_AMP_FLV_BITRATE=2000000   the origin stream's bitrate, bit/s
//   BENCH_AMP_FLV_KEYED=0           1 = the route lists `r` in streamParams (and per-client limits
//                                   are off): every viewer its own pull, as before the fix (comparison)
//   BENCH_SKIP_BUILD=1              never run `npm run build:node` (dist/ must exist)
//   BENCH_RELAY_NODE_ARGS=""        extra Node options for the relay process
// Linux only (/proc). Everything on 127.0.0.1.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HOST,
  ask,
  fmt,
  forkHelper,
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
/** The stream the burst viewers open, and the one the normal viewer keeps joining. */
const BURST_PATH = '/live/cam1.flv';
const NORMAL_PATH = '/live/normal.flv';
/** The normal viewer's pause between joins, ms. */
const NORMAL_INTERVAL_MS = 50;
/** Any single wait of the bench gives up after this long, ms. */
const WAIT_TIMEOUT_MS = 30_000;
/** Settle time after the burst viewers left, before RSS is read again, ms. */
const SETTLE_MS = 3_000;
export const TARGETS = { pullsPerStream: 1, peakRssBytes: 200 * 1_048_576, normalP99Ms: 100 };

function optionsFromEnv(env = process.env) {
  const num = (name, fallback, min, max) => envNumber(env, name, fallback, min, max);
  return {
    viewers: num('BENCH_AMP_FLV_VIEWERS', 200, 1, 2000),
    holdSeconds: num('BENCH_AMP_FLV_HOLD_S', 5, 1, 120),
    bitrate: num('BENCH_AMP_FLV_BITRATE', 2_000_000, 100_000, 50_000_000),
    keyed: env.BENCH_AMP_FLV_KEYED === '1',
    skipBuild: env.BENCH_SKIP_BUILD === '1',
    relayNodeArgs: (env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
  };
}

// ---------------------------------------------------------------- relay (child process)

async function startRelay(originUrl, dir, { keyed, relayNodeArgs }) {
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const configFile = path.join(dir, 'config.json');
  const route = { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' };
  const config = {
    relay: { host: HOST, port: 0, shutdownGraceMs: 1_000 },
    admin: { host: HOST, port: 0, token },
    // keyed: the pre-fix behaviour for comparison (each query its own pull, no per-client limit).
    ...(keyed ? { flv: { maxStreamsPerClient: 0, newStreamsPerClientPerMinute: 0 } } : {}),
    nodes: [{ id: 'a', url: originUrl }],
    routes: [keyed ? { ...route, streamParams: ['r'] } : route],
  };
  writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  const server = await spawnServer(process.execPath, [...relayNodeArgs, path.join(ROOT, 'electron', 'bin', 'relaydeck.mjs'), 'serve', '--config', configFile], {
    ready: [/relay listening on (http:\/\/\S+)/, /admin listening on (http:\/\/\S+)/],
    cwd: ROOT,
    env: { RELAYDECK_HOME: dir, RELAYDECK_LOG_LEVEL: 'warn' },
    stderrFile: path.join(dir, 'stderr.log'),
  });
  const [url, adminUrl] = server.matches;
  const api = async (p) => (await fetch(adminUrl + p, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) })).json();
  return { url, pid: server.child.pid, api, stderrTail: () => server.stderrTail().slice(-5), stop: () => stopChild(server.child, { timeoutMs: 6_000 }) };
}

// ---------------------------------------------------------------- burst viewers (this process)

/** Every burst socket reads into this one buffer: bytes are counted, never kept. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);

/** One burst viewer: a raw GET whose answer is only counted (status from the first read). */
function burstViewer(relayUrl, query) {
  const url = new URL(relayUrl);
  const viewer = { status: 0, bytes: 0, firstByteAt: 0, error: '' };
  const socket = net.connect({
    host: url.hostname,
    port: Number(url.port),
    onread: {
      buffer: readBuffer,
      callback: (nread, buf) => {
        if (viewer.bytes === 0) {
          viewer.firstByteAt = performance.now();
          const match = /^HTTP\/1\.[01] (\d{3})/.exec(buf.toString('latin1', 0, Math.min(nread, 32)));
          viewer.status = match ? Number(match[1]) : -1;
        }
        viewer.bytes += nread;
      },
    },
  });
  socket.on('connect', () => socket.write(`GET ${BURST_PATH}${query} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: relaydeck-bench-burst\r\n\r\n`));
  socket.on('error', (error) => {
    viewer.error ||= error.code || error.message;
  });
  viewer.close = () => socket.destroy();
  return viewer;
}

// ---------------------------------------------------------------- normal viewer (forked)

/**
 * Join `url`, read until the first video keyframe (the FLV body parsed just far enough), leave.
 * Resolves { status, firstByteMs, keyframeMs } (status 0 on a network error or timeout).
 */
function joinOnce(url) {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    let firstByteMs = NaN;
    const finish = (status, keyframeMs) => {
      if (done) return;
      done = true;
      req.destroy();
      resolve({ status, firstByteMs, keyframeMs });
    };
    const req = http.get(url, { agent: false, timeout: WAIT_TIMEOUT_MS }, (res) => {
      firstByteMs = performance.now() - started;
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => finish(res.statusCode ?? 0, NaN));
        return;
      }
      let pending = Buffer.alloc(0);
      let offset = 13; // FLV header (9) + PreviousTagSize0 (4)
      res.on('data', (chunk) => {
        pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
        while (pending.length >= offset + 13) {
          const type = pending[offset] & 0x1f;
          const size = pending.readUIntBE(offset + 1, 3);
          // A video tag whose body says keyframe (0x1_) and AVC NALU (packet type 1), not a sequence header.
          if (type === 9 && pending[offset + 11] >> 4 === 1 && pending[offset + 12] === 1) return finish(200, performance.now() - started);
          if (pending.length < offset + 11 + size + 4) break;
          offset += 11 + size + 4;
        }
        if (offset > 1_048_576) {
          pending = pending.subarray(offset);
          offset = 0;
        }
      });
      res.on('error', () => finish(0, NaN));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => finish(0, NaN));
  });
}

/** The normal viewer (forked): joins and leaves the normal stream until told to stop, then sends its samples. */
async function normalMain([relayUrl]) {
  const samples = []; // [startedAtEpochMs, firstByteMs, keyframeMs, status]
  let stopping = false;
  process.on('message', (message) => {
    if (message?.cmd === 'stop') stopping = true;
  });
  await joinOnce(`${relayUrl}${NORMAL_PATH}?viewer=normal`); // warm
  process.send({ type: 'ready' });
  while (!stopping) {
    const at = Date.now();
    const answer = await joinOnce(`${relayUrl}${NORMAL_PATH}?viewer=normal`);
    samples.push([at, answer.firstByteMs, answer.keyframeMs, answer.status]);
    await sleep(NORMAL_INTERVAL_MS);
  }
  process.send({ type: 'samples', samples }, () => process.exit(0));
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
        const timer = setTimeout(() => reject(new Error('normal viewer did not report')), WAIT_TIMEOUT_MS);
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

async function waitUntil(check, what) {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// ---------------------------------------------------------------- the bench

/** Run the bench; resolves the result object (see printFlvAmplification for its fields). */
export async function runFlvAmplification(options = {}) {
  const settings = { ...optionsFromEnv(), ...options };
  const progress = settings.progress ?? ((line) => process.stderr.write(`  .. ${line}\n`));
  const build = ensureBuiltAt(ROOT, settings.skipBuild, progress);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'rd-amp-flv-bench-'));
  const { child: originChild, ready: originReady } = await forkHelper(path.join(path.dirname(SELF), 'flv-origin.mjs'), ['--bitrate', String(settings.bitrate)]);
  const originUrl = `http://${HOST}:${originReady.port}`;
  let relay;
  let normal;
  const burst = [];
  try {
    relay = await startRelay(originUrl, tmp, settings);
    normal = startNormalViewer(relay.url);
    await normal.ready;
    await sleep(1_000);
    const atReset = await ask(originChild, 'reset');
    const baselineRssBytes = procRssBytes(relay.pid);
    let sampledPeakRssBytes = baselineRssBytes ?? 0;
    const sampler = setInterval(() => (sampledPeakRssBytes = Math.max(sampledPeakRssBytes, procRssBytes(relay.pid) ?? 0)), 50);
    const cpu0 = procCpuSeconds(relay.pid);
    const startedAt = Date.now();
    const t0 = performance.now();
    progress(`burst: ${settings.viewers} viewers with distinct query strings on ${BURST_PATH}${settings.keyed ? ' (keyed: streamParams ["r"])' : ''}`);
    for (let i = 0; i < settings.viewers; i += 1) burst.push(burstViewer(relay.url, `?r=${randomBytes(8).toString('hex')}`));
    await waitUntil(() => burst.every((v) => v.status !== 0 || v.error), 'every burst viewer to be answered');
    const answeredMs = performance.now() - t0;
    const streamsDuring = await relay.api('/api/streams');
    await sleep(settings.holdSeconds * 1000);
    const originDuring = await ask(originChild, 'stats');
    const bytesPerViewer = burst.map((v) => v.bytes);
    const firstByte = percentiles(burst.filter((v) => v.firstByteAt > 0).map((v) => v.firstByteAt - t0));
    for (const viewer of burst) viewer.close();
    const endedAt = Date.now();
    const relayCpuSeconds = procCpuSeconds(relay.pid) - cpu0;
    const windowSeconds = (endedAt - startedAt) / 1000;
    await sleep(SETTLE_MS);
    clearInterval(sampler);
    const afterRssBytes = procRssBytes(relay.pid);
    const samples = await normal.stop();
    const inBurst = samples.filter(([at]) => at >= startedAt && at <= endedAt);
    const statuses = {};
    for (const v of burst) statuses[v.status || v.error] = (statuses[v.status || v.error] ?? 0) + 1;
    const stats = await relay.api('/api/stats');
    const expectedBytes = (settings.bitrate / 8) * settings.holdSeconds;
    return {
      settings: { viewers: settings.viewers, holdSeconds: settings.holdSeconds, bitrate: settings.bitrate, keyed: settings.keyed, build },
      nodePulls: originDuring.liveOpened,
      // The normal stream's pull was open at the reset: the peak counts it, the burst's are those above it.
      nodePullsPeak: originDuring.livePeak - atReset.liveOpen,
      relayStreams: streamsDuring.filter((s) => s.path === BURST_PATH).length,
      statuses,
      answeredMs,
      burstFirstByte: firstByte,
      viewersWithStream: bytesPerViewer.filter((b) => b >= expectedBytes * 0.8).length,
      relayCpuSeconds,
      windowSeconds,
      baselineRssBytes,
      peakRssBytes: procPeakRssBytes(relay.pid),
      sampledPeakRssBytes,
      afterRssBytes,
      normal: {
        duringBurst: { firstByte: percentiles(inBurst.map(([, ms]) => ms)), keyframe: percentiles(inBurst.map(([, , ms]) => ms)) },
        overall: { firstByte: percentiles(samples.map(([, ms]) => ms)), keyframe: percentiles(samples.map(([, , ms]) => ms)) },
        errors: samples.filter(([, , , status]) => status !== 200).length,
        /** The three slowest joins during the burst: [ms after the burst began, first byte ms]. */
        slowest: [...inBurst]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([at, ms]) => [at - startedAt, ms]),
      },
      relay: { errors: stats.totals.errors, stderrTail: relay.stderrTail() },
      targets: TARGETS,
    };
  } finally {
    for (const viewer of burst) viewer.close();
    normal?.kill();
    await relay?.stop();
    await stopChild(originChild, { timeoutMs: 3_000 });
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Print the result as a table. */
export function printFlvAmplification(result, print = (line = '') => process.stdout.write(`${line}\n`)) {
  const { settings, normal } = result;
  print(
    `HTTP-FLV query amplification: ${settings.viewers} viewers with distinct query strings opened at once on one ${fmt.fixed(settings.bitrate / 1e6, 1)} Mbit/s live stream, held ${settings.holdSeconds} s; relay: flv route, proxy mode, fan-out, flv defaults${settings.keyed ? ', KEYED (streamParams ["r"], per-client limits off: the pre-fix behaviour)' : ''} (${settings.build})`,
  );
  const ok = (pass) => (pass ? 'ok' : 'MISSED');
  const lat = (p) => `${fmt.ms(p.p50Ms)} / ${fmt.ms(p.p99Ms)} / ${fmt.ms(p.maxMs)} (${p.count})`;
  print(
    table(
      ['measure', 'value', 'target', ''],
      [
        [
          'node pulls of the stream (opened / most at once)',
          `${result.nodePulls} / ${result.nodePullsPeak}`,
          String(TARGETS.pullsPerStream),
          ok(result.nodePulls <= TARGETS.pullsPerStream),
        ],
        ['relay streams of the burst path', String(result.relayStreams), '', ''],
        [
          'burst answers',
          Object.entries(result.statuses)
            .map(([s, n]) => `${s}x${n}`)
            .join(' '),
          '',
          '',
        ],
        ['burst viewers getting the stream (>= 80% of its bytes)', `${result.viewersWithStream} of ${settings.viewers}`, '', ''],
        ['burst first byte p50 / p99 / max', lat(result.burstFirstByte), '', ''],
        ['relay CPU over the burst', `${fmt.fixed(result.relayCpuSeconds)} s in ${fmt.fixed(result.windowSeconds, 1)} s`, '', ''],
        [
          'relay RSS before / peak (VmHWM)',
          `${fmt.mb(result.baselineRssBytes)} / ${fmt.mb(result.peakRssBytes)}`,
          `< ${fmt.mb(TARGETS.peakRssBytes)}`,
          ok(result.peakRssBytes < TARGETS.peakRssBytes),
        ],
        ['relay RSS peak sampled every 50 ms / 3 s after the burst', `${fmt.mb(result.sampledPeakRssBytes)} / ${fmt.mb(result.afterRssBytes)}`, '', ''],
        [
          'normal viewer first byte during the burst p50 / p99 / max',
          lat(normal.duringBurst.firstByte),
          `p99 < ${TARGETS.normalP99Ms}ms`,
          ok(normal.duringBurst.firstByte.p99Ms < TARGETS.normalP99Ms),
        ],
        ['normal viewer first keyframe during the burst p50 / p99 / max', lat(normal.duringBurst.keyframe), '', ''],
        ['normal viewer slowest joins (at ms into the burst: first byte)', normal.slowest.map(([at, ms]) => `${at}: ${fmt.ms(ms)}`).join(', '), '', ''],
        ['normal viewer first byte overall p50 / p99 / max', `${lat(normal.overall.firstByte)}, ${normal.errors} not 200`, '', ''],
        ['relay errors by code', JSON.stringify(result.relay.errors), '', ''],
      ],
    ),
  );
}

/** The targets the result missed, one line each (empty when all were met). */
export function flvAmplificationAnomalies(result) {
  const out = [];
  if (!(result.nodePulls <= TARGETS.pullsPerStream))
    out.push(`flv amplification: ${result.nodePulls} node pulls for one stream (target ${TARGETS.pullsPerStream})`);
  if (!(result.peakRssBytes < TARGETS.peakRssBytes))
    out.push(`flv amplification: relay peak RSS ${fmt.mb(result.peakRssBytes)} (target under ${fmt.mb(TARGETS.peakRssBytes)})`);
  if (!(result.normal.duringBurst.firstByte.p99Ms < TARGETS.normalP99Ms))
    out.push(
      `flv amplification: normal viewer first byte p99 ${fmt.ms(result.normal.duringBurst.firstByte.p99Ms)} during the burst (target under ${TARGETS.normalP99Ms} ms)`,
    );
  if (result.normal.errors > 0) out.push(`flv amplification: ${result.normal.errors} normal viewer joins were not answered 200`);
  if ((result.statuses[200] ?? 0) !== result.settings.viewers) out.push(`flv amplification: burst answered ${JSON.stringify(result.statuses)}`);
  if (result.viewersWithStream !== result.settings.viewers)
    out.push(`flv amplification: ${result.viewersWithStream} of ${result.settings.viewers} burst viewers got the stream`);
  return out;
}

async function main() {
  const result = await runFlvAmplification();
  printFlvAmplification(result);
  for (const line of flvAmplificationAnomalies(result)) process.stdout.write(`ANOMALY: ${line}\n`);
}

if (process.argv[2] === '--normal') await normalMain(process.argv.slice(3));
else if (process.argv[1] && path.resolve(process.argv[1]) === SELF) await main();
