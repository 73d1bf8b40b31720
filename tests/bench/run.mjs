#!/usr/bin/env node
// RelayDeck bench (`npm run bench`): RelayDeck against nginx measured in the same run.
//   1. redirect: RelayDeck redirect route vs nginx `return 302` (wrk -t2 -c50 --latency)
//   2. HTTP-FLV fan-out (issue 3, point 8): N viewers of one 2 Mbit/s stream from an origin that
//      keeps no GOP cache, through nginx (proxy_buffering off, proxy_buffer_size 64k), the
//      RelayDeck fan-out (flv defaults) and the fan-out with flv.writeBatchMs set. Per run:
//      every viewer's rate, upstream connections (during, and 2 s after the last viewer left),
//      CPU and RSS of the proxy, the latency the proxy adds over a direct origin connection
//      (origin send stamps in each tag, measured by a separate probe process), and late
//      joiners' time to headers and to the first video keyframe.
//   3. 500 KB segments at 50 connections: RelayDeck (native, http-proxy-3), nginx, a plain Node proxy
//   4. HLS (tests/bench/hls.mjs) and 5. amplification: distinct query strings on a 4 MB HLS
//      playlist (amplification-hls.mjs) and on one FLV stream (amplification-flv.mjs, also run
//      "keyed", one pull per query as before the fix, for the ratio)
//   6. TLS (issue 14, tests/bench/tls.mjs): the relay's HTTPS listener against nginx `listen ... ssl
//      http2` with the same test certificate and TLS settings: a. 1000 HTTPS FLV viewers (one TLS
//      session each; CPU and RSS), b. 500 HLS viewers over HTTP/2 (one h2 session per viewer;
//      HTTPS/1.1 when the server's ALPN offers no h2, labelled), c. full TLS handshakes per server
//      CPU-second (a Node client, no session resumption). About 3-4 min.
//   7. fleet (issue 16, tests/bench/fleet.mjs): three relays on one redis-server against the same
//      relay alone: config propagation p50/p99, added time to first byte of an FLV join, Redis
//      commands per join, relay CPU at 1000 viewers (BENCH_FLEET_CHANGES, _JOINS, _VIEWERS,
//      _VIEW_SECONDS, _ROUNDS). About 2 min.
// Prints tables with the targets and ratios against nginx and writes tests/bench/results/latest.json.
//
// Environment (all optional):
//   BENCH_VIEWERS=1000,2000    viewer counts for the FLV bench (comma-separated, each 1..5000; 200 is a quick one)
//   BENCH_ONLY=redirect,flv,seg,hls,amplification,tls,fleet  run only these sections
//   BENCH_WRK_SECONDS=10       measured wrk duration (redirect, seg); BENCH_WARMUP_SECONDS=2
//   BENCH_ROUNDS=2             wrk sections: rounds per server, interleaved; the best round (highest
//                              req/s) is reported, the others are shown as the range
//   BENCH_VIEW_SECONDS=15      measured viewer window for the FLV bench
//   BENCH_BITRATE=2000000      FLV stream bitrate, bit/s
//   BENCH_FLV_BATCH=50,100     flv.writeBatchMs values for the extra relay rows ("none" for no such row)
//   BENCH_FLV_ROUNDS=2         FLV runs per proxy and audience, interleaved (CPU ratio per round: mean and range)
//   BENCH_QUIET_WAIT_S=10      before each FLV run, wait up to this long for other work on the machine to calm
//                              down (processes outside the bench under 0.15 core for 1 s; 60 s in all; 0 = never)
//   BENCH_FLV_NOFANOUT=1       also run the relay with fanout off (one upstream per viewer, native engine)
//   BENCH_FLV_BARE=1,2         reference rows: the barest Node fan-out in 1 process and over 2 cluster
//                              worker processes (the floor a single event loop pays, and what parallel
//                              writes buy); "none" for no such row
//   BENCH_LATENCY_SAMPLERS=50  latency samplers through the proxy (and as many direct to the origin)
//   BENCH_JOINERS=20           late joiners per FLV run, one every 237 ms from 3 s into the window (both
//                              shrink for a short BENCH_VIEW_SECONDS so every joiner fits in the window)
//   BENCH_NGINX_SEG_BUFFERING=off  nginx proxy_buffering for /seg/: off (default, faster here) or on
//   BENCH_SKIP_BUILD=1         never run `npm run build:node` (dist/ must exist)
//   BENCH_RELAY_NODE_ARGS=""   extra Node options for the relay process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_TLS_ONLY=flv,hls,handshake  tls section: run only these parts
//   BENCH_TLS_ROUNDS=2         tls section: interleaved rounds of each part (part b runs its floor row once)
//   BENCH_TLS_VIEWERS=1000     tls a: HTTPS FLV viewers (1..5000); BENCH_TLS_VIEW_SECONDS=10 its window
//                              (the stream bitrate is BENCH_BITRATE's)
//   BENCH_TLS_HLS_VIEWERS=500  tls b: HLS viewers (1..2000); BENCH_TLS_HLS_SECONDS=12 its window
//   BENCH_TLS_HLS_WARMUP_SECONDS=20  tls b: the same load after every viewer started, before each window
//   BENCH_TLS_HLS_PER_SESSION=1  tls b: viewers per HTTP/2 session (1 = one per viewer, as browsers)
//   BENCH_TLS_HANDSHAKE_SECONDS=6  tls c: measured window per run
//   BENCH_TLS_HANDSHAKE_WARMUP_SECONDS=6  tls c: the same load before each window (V8's warm-up)
//   BENCH_TLS_HANDSHAKE_CONCURRENCY=8  tls c: concurrent handshake loops in the client
//   BENCH_TLS_HANDSHAKE_VERSIONS=TLSv1.3  tls c: TLSv1.3 and/or TLSv1.2 (comma-separated)
//   BENCH_MAX_SECONDS=1800     hard wall-clock limit for the whole run (a full run takes about 22 min)
// Needs /usr/sbin/nginx and wrk on PATH. Linux only (/proc).
import { spawnSync, fork } from 'node:child_process';
import { benchHls, hlsAnomalies, printHls } from './hls.mjs';
import { flvAmplificationAnomalies, printFlvAmplification, runFlvAmplification } from './amplification-flv.mjs';
import { hlsAmplificationAnomalies, printHlsAmplification, runHlsAmplification } from './amplification-hls.mjs';
import { benchTls, printTls, tlsSettingsFromEnv } from './tls.mjs';
import { benchFleet, printFleet } from './fleet.mjs';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HOST,
  nginxVersion,
  NGINX_SEG_BUFFERING,
  NGINX_WORKERS,
  ask,
  childPids,
  cpuProbe,
  fmt,
  forkHelper,
  groupRssBytes,
  killAllTracked,
  nextMessage,
  nginxConfig,
  probe,
  runWrk,
  sleep,
  tcpListenDrops,
  spawnServer,
  staleSources,
  envNumber,
  startNginx,
  stopChild,
  table,
  trackedChildren,
} from './lib.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..', '..');
const RESULTS_FILE = path.join(BENCH_DIR, 'results', 'latest.json');
const env = process.env;

const num = (name, fallback, min, max) => envNumber(env, name, fallback, min, max);
const SETTINGS = {
  viewers: (env.BENCH_VIEWERS || '1000,2000').split(',').map((s) => Number(s.trim())),
  flvBatchMs: ['', 'none', '0'].includes((env.BENCH_FLV_BATCH ?? '50,100').trim())
    ? []
    : (env.BENCH_FLV_BATCH ?? '50,100').split(',').map((s) => Number(s.trim())),
  flvNoFanout: env.BENCH_FLV_NOFANOUT === '1',
  /** Worker processes per bare fan-out reference row (0 = all in one process). */
  flvBare: ['none', '0', 'off'].includes((env.BENCH_FLV_BARE ?? '1,2').trim())
    ? []
    : (env.BENCH_FLV_BARE ?? '1,2').split(',').map((s) => (Number(s.trim()) === 1 ? 0 : Number(s.trim()))),
  flvRounds: num('BENCH_FLV_ROUNDS', 2, 1, 5),
  quietWaitS: num('BENCH_QUIET_WAIT_S', 10, 0, 120),
  quietWaitTotalS: 60,
  latencySamplers: num('BENCH_LATENCY_SAMPLERS', 50, 1, 500),
  joiners: num('BENCH_JOINERS', 20, 0, 200),
  joinerDelayMs: 3_000,
  joinerSpacingMs: 237, // not a divisor of the 1 s GOP: joiners land at spread GOP phases
  joinerTimeoutMs: 4_000,
  only: (env.BENCH_ONLY || 'redirect,flv,seg,hls,amplification,tls,fleet').split(',').map((s) => s.trim()),
  wrkSeconds: num('BENCH_WRK_SECONDS', 10, 1, 120),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 2, 0, 30),
  viewSeconds: num('BENCH_VIEW_SECONDS', 15, 2, 120),
  bitrate: num('BENCH_BITRATE', 2_000_000, 10_000, 50_000_000),
  maxSeconds: num('BENCH_MAX_SECONDS', 1800, 30, 3600),
  /** Extra Node options for the relay process only (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it under load). */
  relayNodeArgs: (env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean),
  rounds: num('BENCH_ROUNDS', 2, 1, 10),
  wrkThreads: 2,
  wrkConnections: 50,
  segmentBytes: 500_000,
  leaveCheckMs: 2_000,
  leaveExtraWaitMs: 10_000,
};
/** The tls section's settings (tls.mjs), read now so a bad value fails before any section runs. */
const TLS_SETTINGS = SETTINGS.only.includes('tls') ? tlsSettingsFromEnv(env) : undefined;
for (const n of SETTINGS.viewers) if (!Number.isInteger(n) || n < 1 || n > 5000) throw new Error('BENCH_VIEWERS: each count must be an integer in 1..5000');
{
  // Late joiners must all start (and have time to get their keyframe) inside the window.
  const room = SETTINGS.viewSeconds * 1000 - SETTINGS.joinerTimeoutMs - 500;
  SETTINGS.joinerDelayMs = Math.max(0, Math.min(SETTINGS.joinerDelayMs, Math.floor(room / 3)));
  if (SETTINGS.joiners > 1)
    SETTINGS.joinerSpacingMs = Math.max(1, Math.min(SETTINGS.joinerSpacingMs, Math.floor((room - SETTINGS.joinerDelayMs) / (SETTINGS.joiners - 1))));
}
for (const w of SETTINGS.flvBare)
  if (!Number.isInteger(w) || w < 0 || w > 8) throw new Error('BENCH_FLV_BARE: each value must be a process count in 1..8, or "none"');
for (const ms of SETTINGS.flvBatchMs)
  if (!Number.isInteger(ms) || ms < 1 || ms > 100) throw new Error('BENCH_FLV_BATCH: each value must be an integer in 1..100 (ms), or "none"');

const CAVEAT =
  'Load generator (wrk / viewers.mjs), origin and the proxy under test share the same ' +
  `${os.cpus().length} cores on 127.0.0.1: absolute figures are lower than on separate machines ` +
  'and depend on how much CPU the load generator takes; compare the ratios within this run only.';

// ---------------------------------------------------------------- safety nets

const watchdog = setTimeout(() => {
  process.stderr.write(`bench: exceeded BENCH_MAX_SECONDS=${SETTINGS.maxSeconds}; stopping its own child processes\n`);
  killAllTracked();
  process.exit(3);
}, SETTINGS.maxSeconds * 1000);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAllTracked();
    process.exit(130);
  });
}

const log = (line = '') => process.stdout.write(`${line}\n`);
const progress = (line) => process.stderr.write(`  .. ${line}\n`);
const anomalies = [];
const anomaly = (text) => {
  anomalies.push(text);
  progress(`ANOMALY: ${text}`);
};
/** Observations that are expected by design but worth showing (e.g. an idle-close grace). */
const notes = [];
const note = (text) => {
  notes.push(text);
  progress(`note: ${text}`);
};

// ---------------------------------------------------------------- build

function ensureBuilt() {
  const cli = path.join(ROOT, 'dist', 'electron', 'engine', 'cli.js');
  if (env.BENCH_SKIP_BUILD === '1') {
    if (!existsSync(cli)) throw new Error('dist/electron/engine/cli.js is missing and BENCH_SKIP_BUILD=1');
    return { built: false, reason: 'BENCH_SKIP_BUILD=1' };
  }
  const stale = staleSources(ROOT);
  if (existsSync(cli) && stale.length === 0) return { built: false, reason: 'dist/ up to date' };
  progress(`building: npm run build:node (${existsSync(cli) ? `${stale.length} stale file(s), e.g. ${stale[0]}` : 'dist/electron/engine/cli.js missing'})`);
  const run = spawnSync('npm', ['run', 'build:node'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
  if (run.status === 0) return { built: true, reason: stale.length ? `${stale.length} stale file(s)` : 'dist missing' };
  const output = `${run.stdout}\n${run.stderr}`.trim().split('\n').slice(-15).join('\n');
  if (!existsSync(cli)) throw new Error(`npm run build:node failed and dist/ is missing:\n${output}`);
  anomaly(`npm run build:node failed (exit ${run.status}); benchmarked the existing dist/ instead:\n${output}`);
  return { built: false, reason: 'build failed, used existing dist/', buildOutput: output };
}

// ---------------------------------------------------------------- servers under test

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'relaydeck-bench-'));
let dirCounter = 0;
const freshDir = (name) => {
  const dir = path.join(tmpRoot, `${String(++dirCounter).padStart(2, '0')}-${name}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

async function startOrigin() {
  const { child, ready } = await forkHelper(path.join(BENCH_DIR, 'flv-origin.mjs'), [
    '--bitrate',
    String(SETTINGS.bitrate),
    '--seg-bytes',
    String(SETTINGS.segmentBytes),
  ]);
  return {
    child,
    pid: child.pid,
    url: `http://${HOST}:${ready.port}`,
    port: ready.port,
    tagBytes: ready.tagBytes,
    stats: () => ask(child, 'stats'),
    reset: () => ask(child, 'reset'),
    stop: () => stopChild(child, { timeoutMs: 3_000 }),
  };
}

/** Does the built config schema know the flv route option `fanout` (one upstream pull per stream)? */
let FANOUT_SUPPORTED = false;
function detectFanout() {
  try {
    // The schema was one file (dist/shared/config.js) before it was split per section (dist/shared/config/routes.js).
    const schemaFiles = [path.join(ROOT, 'dist', 'shared', 'config', 'routes.js'), path.join(ROOT, 'dist', 'shared', 'config.js')].filter((f) => existsSync(f));
    FANOUT_SUPPORTED = schemaFiles.some((f) => /\bfanout\b/.test(readFileSync(f, 'utf8')));
  } catch {
    FANOUT_SUPPORTED = false;
  }
}

function relayConfig(engine, originUrl, token, fanout, flv) {
  // `stamp` selects a stream of its own (the origin stamps each write of a ?stamp=1 pull): the
  // latency samplers share one stamped pull beside the load viewers' pull, as the bench has
  // always measured them (without it they would join the load viewers' stream unstamped).
  const live = { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', streamParams: ['stamp'] };
  if (fanout !== undefined) live.fanout = fanout;
  return {
    relay: { host: HOST, port: 0, proxyEngine: engine, shutdownGraceMs: 1_000 },
    admin: { host: HOST, port: 0, token },
    ...(flv ? { flv } : {}),
    nodes: [{ id: 'a', url: originUrl }],
    routes: [live, { id: 'seg', path: '/seg/', kind: 'file', mode: 'proxy' }, { id: 'r', path: '/r/', kind: 'file', mode: 'redirect' }],
  };
}

const TARGETS = {
  nginx: {
    label: `nginx ${nginxVersion()} (${NGINX_WORKERS} workers)`,
    async start(origin) {
      const nginx = await startNginx({ dir: freshDir('nginx'), originPort: origin.port });
      return {
        url: nginx.url,
        pids: nginx.pids,
        stop: () => stopChild(nginx.child, { signal: 'SIGTERM', timeoutMs: 5_000 }),
        async check() {
          const errorLog = existsSync(nginx.errorLog) ? readFileSync(nginx.errorLog, 'utf8').trim().split('\n').filter(Boolean) : [];
          return { alive: nginx.child.exitCode === null, errorLogLines: errorLog.length, errorLogTail: errorLog.slice(-5) };
        },
      };
    },
  },
  'relay-native': relayTarget('native'),
  'relay-http-proxy-3': relayTarget('http-proxy-3'),
  // FLV only: the route's per-stream fan-out (flv defaults), with write batching, and per-viewer proxying.
  'relay-fanout': relayTarget('native', true),
  ...Object.fromEntries(SETTINGS.flvBatchMs.map((ms) => [`relay-fanout-batch${ms}`, relayTarget('native', true, { writeBatchMs: ms })])),
  'relay-native-nofanout': relayTarget('native', false),
  'node-plain': {
    label: 'plain Node http.request pipe (reference)',
    async start(origin) {
      const server = await spawnServer(process.execPath, [path.join(BENCH_DIR, 'plain-proxy.mjs'), origin.url], { ready: [/listening on (http:\/\/\S+)/] });
      return simpleHandle(server);
    },
  },
  // FLV references: the barest fan-out (one pull, one socket.write per viewer per batch) in one
  // process, and spread over two cluster workers (what parallel writes buy, and what they cost).
  ...Object.fromEntries(SETTINGS.flvBare.map((workers) => [bareFanoutId(workers), bareFanoutTarget(workers)])),
  'node-bare-302': {
    label: 'bare Node 302 server (reference)',
    async start(origin) {
      const server = await spawnServer(process.execPath, [path.join(BENCH_DIR, 'bare-redirect.mjs'), origin.url], { ready: [/listening on (http:\/\/\S+)/] });
      return simpleHandle(server);
    },
  },
};

function bareFanoutId(workers) {
  return workers ? `node-bare-fanout-${workers}p` : 'node-bare-fanout';
}

function bareFanoutTarget(workers) {
  return {
    label: workers ? `bare Node fan-out, ${workers} worker processes (reference)` : 'bare Node fan-out, one process (reference)',
    shares: true,
    async start(origin) {
      const server = await spawnServer(process.execPath, [path.join(BENCH_DIR, 'bare-fanout.mjs'), origin.url, '--workers', String(workers)], {
        ready: [/listening on (http:\/\/\S+)/],
      });
      return { ...simpleHandle(server), pids: () => [server.child.pid, ...childPids(server.child.pid)] };
    },
  };
}

function simpleHandle(server) {
  return {
    url: server.matches[0],
    pids: () => [server.child.pid],
    stop: () => stopChild(server.child, { timeoutMs: 3_000 }),
    async check() {
      return { alive: server.child.exitCode === null, stderrLines: server.stderrLines(), stderrTail: server.stderrTail().slice(-5) };
    },
  };
}

function relayTarget(engine, fanout, flv) {
  let label =
    fanout === true ? 'RelayDeck fan-out (flv defaults)' : fanout === false ? `RelayDeck ${engine} engine, fanout off` : `RelayDeck (${engine} engine)`;
  if (flv?.writeBatchMs) label = `RelayDeck fan-out, writeBatchMs ${flv.writeBatchMs}`;
  return {
    label,
    relay: true,
    fanout,
    flv,
    writeBatchMs: flv?.writeBatchMs ?? 0,
    async start(origin) {
      const dir = freshDir(
        `relay-${engine}${fanout === undefined ? '' : fanout ? '-fanout' : '-nofanout'}${flv?.writeBatchMs ? `-batch${flv.writeBatchMs}` : ''}`,
      );
      const token = `bench-${randomBytes(16).toString('hex')}`;
      const configFile = path.join(dir, 'config.json');
      const config = relayConfig(engine, origin.url, token, FANOUT_SUPPORTED ? fanout : undefined, flv);
      writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      const server = await spawnServer(
        process.execPath,
        [...SETTINGS.relayNodeArgs, path.join(ROOT, 'electron', 'bin', 'relaydeck.mjs'), 'serve', '--config', configFile],
        {
          ready: [/relay listening on (http:\/\/\S+)/, /admin listening on (http:\/\/\S+)/],
          cwd: ROOT,
          env: { RELAYDECK_HOME: dir },
          stderrFile: path.join(dir, 'stderr.log'),
        },
      );
      const [url, adminUrl] = server.matches;
      const api = async (p) => {
        const response = await fetch(adminUrl + p, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
        if (!response.ok) throw new Error(`admin ${p}: HTTP ${response.status}`);
        return response.json();
      };
      return {
        url,
        pids: () => [server.child.pid],
        stop: () => stopChild(server.child, { signal: 'SIGTERM', timeoutMs: 6_000 }),
        async check() {
          const alive = server.child.exitCode === null && server.child.signalCode === null;
          const out = {
            alive,
            stderrLines: server.stderrLines(),
            stderrTail: server
              .stderrTail()
              .filter((l) => / (WARN|ERROR) /.test(l))
              .slice(-8),
          };
          if (!alive) return { ...out, exitCode: server.child.exitCode, signal: server.child.signalCode, stderrLast: server.stderrTail().slice(-10) };
          try {
            const [stats, sessions] = await Promise.all([api('/api/stats'), api('/api/sessions')]);
            const streams = FANOUT_SUPPORTED ? await api('/api/streams').catch(() => undefined) : undefined;
            const framesDropped = sessions.reduce((sum, session) => sum + (session.framesDropped ?? 0), 0);
            return {
              ...out,
              liveSessions: sessions.length,
              framesDroppedLive: framesDropped,
              liveStreams: streams?.length,
              streams,
              stats: stats.totals,
              routes: stats.routes,
            };
          } catch (error) {
            return { ...out, adminError: error.message };
          }
        },
      };
    },
  };
}

function wrkVersion() {
  const run = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return (/wrk (\S+)/.exec(`${run.stdout}${run.stderr}`) ?? [])[1] ?? '?';
}

/** Relay/peer health after a run, turned into anomaly lines. */
/** Error counters added since `baseline` (relay stats totals), or all of them without one. */
function errorDelta(check, baseline) {
  const out = {};
  for (const [code, n] of Object.entries(check?.stats?.errors ?? {})) {
    const d = n - (baseline?.stats?.errors?.[code] ?? 0);
    if (d) out[code] = d;
  }
  return out;
}

function noteCheck(section, label, check, { expectClientClosed = false, baseline, allowClientClosed = 0 } = {}) {
  if (!check) return;
  if (check.alive === false)
    anomaly(
      `${section} / ${label}: process died during the run (exit ${check.exitCode}, signal ${check.signal}); last stderr: ${JSON.stringify(check.stderrLast ?? check.stderrTail)}`,
    );
  if (check.adminError) anomaly(`${section} / ${label}: admin API failed after the run: ${check.adminError}`);
  if (check.stderrTail?.length) anomaly(`${section} / ${label}: ${check.stderrLines} stderr line(s); WARN/ERROR: ${JSON.stringify(check.stderrTail)}`);
  if (check.errorLogLines) anomaly(`${section} / ${label}: nginx error.log has ${check.errorLogLines} line(s), e.g. ${JSON.stringify(check.errorLogTail)}`);
  if (check.stats) {
    const delta = errorDelta(check, baseline);
    const errors = { ...delta };
    if (expectClientClosed || (errors.CLIENT_CLOSED ?? 0) <= allowClientClosed) delete errors.CLIENT_CLOSED;
    if (Object.keys(errors).length) anomaly(`${section} / ${label}: relay error counters during the measured run ${JSON.stringify(delta)}`);
    if (check.stats.active) anomaly(`${section} / ${label}: relay stats say ${check.stats.active} proxied request(s) still active after the run`);
  }
}

// ---------------------------------------------------------------- wrk sections (1 and 3)

/** Wait (bounded) until the relay reports no active proxied request and no live session. */
async function waitRelayQuiet(server, maxMs) {
  const started = Date.now();
  let check = await server.check();
  while (check.stats && (check.stats.active > 0 || check.liveSessions > 0) && Date.now() - started < maxMs) {
    await sleep(100);
    check = await server.check();
  }
  return { check, waitedMs: Date.now() - started };
}

/**
 * One wrk measurement of one server: fresh origin + server, sanity probe, warm-up, measured
 * run with CPU of the server's pids (and the origin), then health checks.
 */
async function wrkRound(section, id, round, { path: urlPath, sanity, allowClientClosed }) {
  const target = TARGETS[id];
  progress(`${section} round ${round}: ${target.label}`);
  const origin = await startOrigin();
  const server = await target.start(origin);
  const row = { id, label: target.label, round };
  try {
    const url = server.url + urlPath;
    row.sanity = await sanity(url, origin, target);
    const wrkOptions = { threads: SETTINGS.wrkThreads, connections: SETTINGS.wrkConnections };
    if (SETTINGS.warmupSeconds) await runWrk(url, { ...wrkOptions, durationS: SETTINGS.warmupSeconds, latency: false });
    await origin.reset();
    const baseline = await waitRelayQuiet(server, 3_000).then((q) => q.check);
    const cpu = cpuProbe(server.pids);
    const originCpu = cpuProbe(() => [origin.pid]);
    cpu.start();
    originCpu.start();
    row.wrk = await runWrk(url, { ...wrkOptions, durationS: SETTINGS.wrkSeconds });
    row.cpu = cpu.stop();
    row.originCpu = originCpu.stop();
    row.rssBytes = groupRssBytes(server.pids());
    row.origin = await origin.stats();
    row.requestsPerCpuSecond = row.wrk.requests / row.cpu.cpuSeconds;
    const atEnd = await server.check();
    row.activeAtWrkEnd = atEnd.stats?.active;
    const quiet = await waitRelayQuiet(server, 3_000);
    row.check = quiet.check;
    row.quietAfterMs = quiet.waitedMs;
    row.relayErrorsDuringRun = errorDelta(row.check, baseline);
    const where = `${section} / ${target.label} (round ${round})`;
    if (row.check.stats && (row.check.stats.active > 0 || row.check.liveSessions > 0)) {
      anomaly(
        `${where}: ${row.check.stats.active} proxied request(s) still active and ${row.check.liveSessions} live session(s) ${quiet.waitedMs} ms after wrk ended (${row.activeAtWrkEnd} active when it ended)`,
      );
    } else if (row.activeAtWrkEnd > SETTINGS.wrkConnections) {
      anomaly(`${where}: ${row.activeAtWrkEnd} proxied requests active when wrk (${SETTINGS.wrkConnections} connections) ended`);
    }
    noteCheck(section, `${target.label} (round ${round})`, row.check, { baseline, allowClientClosed });
    const errs = row.wrk.socketErrors;
    if (row.wrk.non2xx3xx || errs.connect || errs.read || errs.write || errs.timeout)
      anomaly(`${where}: wrk non-2xx/3xx ${row.wrk.non2xx3xx}, socket errors ${JSON.stringify(errs)}`);
  } finally {
    row.stop = await server.stop();
    if (row.stop.killed) anomaly(`${section} / ${target.label}: did not exit within the stop timeout after SIGTERM; killed`);
    await origin.stop();
  }
  if (row.wrk) delete row.wrk.raw;
  return row;
}

/** Rounds interleaved across servers; the best round per server (highest req/s) is reported. */
async function wrkSection(section, ids, options) {
  const rounds = [];
  for (let round = 1; round <= SETTINGS.rounds; round += 1) {
    for (const id of ids) rounds.push(await wrkRound(section, id, round, options));
  }
  return ids.map((id) => {
    const mine = rounds.filter((r) => r.id === id);
    const best = mine.reduce((a, b) => (b.wrk.requestsPerSec > a.wrk.requestsPerSec ? b : a));
    return {
      ...best,
      rounds: mine.map((r) => ({
        round: r.round,
        requestsPerSec: r.wrk.requestsPerSec,
        p99Ms: r.wrk.p99Ms,
        cores: r.cpu.cores,
        requestsPerCpuSecond: r.requestsPerCpuSecond,
      })),
      allRounds: mine,
    };
  });
}

const rpsRange = (r) => {
  const values = r.rounds.map((x) => x.requestsPerSec);
  return values.length > 1 ? `${fmt.int(Math.min(...values))}-${fmt.int(Math.max(...values))}` : fmt.int(values[0]);
};

// ---------------------------------------------------------------- 1. redirect

async function benchRedirect() {
  return wrkSection('redirect', ['nginx', 'relay-native', 'node-bare-302'], {
    path: '/r/x.ts?token=abc',
    async sanity(url, origin, target) {
      const answer = await probe(url);
      const expected = `${origin.url}/r/x.ts?token=abc`;
      if (answer.status !== 302 || answer.headers.location !== expected)
        anomaly(`redirect / ${target.label}: sanity GET gave ${answer.status} location ${answer.headers.location}, expected 302 ${expected}`);
      return { status: answer.status, location: answer.headers.location, bodyLength: answer.bodyLength };
    },
  });
}

function printRedirect(rows) {
  const nginx = rows.find((r) => r.id === 'nginx');
  log(
    `\n== 1. Redirect: GET /r/x.ts?token=abc -> 302 to the node; wrk -t${SETTINGS.wrkThreads} -c${SETTINGS.wrkConnections} -d${SETTINGS.wrkSeconds}s --latency, ${SETTINGS.warmupSeconds}s warm-up, best of ${SETTINGS.rounds} interleaved round(s)`,
  );
  log(
    table(
      ['server', 'req/s', 'vs nginx', 'req/s all rounds', 'p50', 'p99', 'p99 vs nginx', 'max', 'server cores', 'req/CPU-s', 'vs nginx', 'RSS', 'errors'],
      rows.map((r) => [
        r.label,
        fmt.int(r.wrk.requestsPerSec),
        fmt.ratio(r.wrk.requestsPerSec, nginx?.wrk.requestsPerSec),
        rpsRange(r),
        fmt.ms(r.wrk.p50Ms),
        fmt.ms(r.wrk.p99Ms),
        fmt.ratio(r.wrk.p99Ms, nginx?.wrk.p99Ms),
        fmt.ms(r.wrk.latencyMaxMs),
        fmt.fixed(r.cpu.cores),
        fmt.int(r.requestsPerCpuSecond),
        fmt.ratio(r.requestsPerCpuSecond, nginx?.requestsPerCpuSecond),
        fmt.mb(r.rssBytes),
        r.wrk.non2xx3xx + Object.values(r.wrk.socketErrors).reduce((a, b) => a + b, 0),
      ]),
    ),
  );
  log('   (nginx answers 302 with its small HTML body; RelayDeck and the bare Node server with content-length 0. "errors" = wrk non-2xx/3xx + socket errors)');
}

// ---------------------------------------------------------------- 3. segments

async function benchSeg() {
  return wrkSection('seg', ['nginx', 'relay-native', 'relay-http-proxy-3', 'node-plain'], {
    path: '/seg/x.ts',
    // wrk stops with up to -c requests in flight: those count as CLIENT_CLOSED, as expected.
    allowClientClosed: SETTINGS.wrkConnections,
    async sanity(url, origin, target) {
      const answer = await probe(url);
      if (answer.status !== 200 || answer.bodyLength !== SETTINGS.segmentBytes)
        anomaly(`seg / ${target.label}: sanity GET gave ${answer.status} with ${answer.bodyLength} bytes`);
      return { status: answer.status, bodyLength: answer.bodyLength, contentLength: answer.headers['content-length'] };
    },
  }).then((rows) => {
    for (const row of rows.flatMap((r) => r.allRounds)) {
      const where = `seg / ${row.label} (round ${row.round})`;
      const expectedBytes = row.wrk.requests * SETTINGS.segmentBytes;
      if (row.wrk.bytesRead < expectedBytes * 0.98)
        anomaly(`${where}: wrk read ${fmt.mb(row.wrk.bytesRead)} for ${row.wrk.requests} requests (expected at least ${fmt.mb(expectedBytes)})`);
      if (row.origin.segRequests < row.wrk.requests)
        anomaly(`${where}: origin served ${row.origin.segRequests} segments for ${row.wrk.requests} client requests`);
    }
    return rows;
  });
}

function printSeg(rows) {
  const nginx = rows.find((r) => r.id === 'nginx');
  log(
    `\n== 3. ${SETTINGS.segmentBytes.toLocaleString('en-US')}-byte segments (content-length, keep-alive): wrk -t${SETTINGS.wrkThreads} -c${SETTINGS.wrkConnections} -d${SETTINGS.wrkSeconds}s --latency on /seg/x.ts, ${SETTINGS.warmupSeconds}s warm-up, best of ${SETTINGS.rounds} interleaved round(s)`,
  );
  log(
    table(
      [
        'proxy',
        'req/s',
        'vs nginx',
        'req/s all rounds',
        'p99',
        'proxy cores',
        'req/CPU-s',
        'vs nginx',
        'RSS',
        'upstream opened',
        'origin cores',
        'machine busy',
        'errors',
      ],
      rows.map((r) => [
        r.label,
        fmt.int(r.wrk.requestsPerSec),
        fmt.ratio(r.wrk.requestsPerSec, nginx?.wrk.requestsPerSec),
        rpsRange(r),
        fmt.ms(r.wrk.p99Ms),
        fmt.fixed(r.cpu.cores),
        fmt.int(r.requestsPerCpuSecond),
        fmt.ratio(r.requestsPerCpuSecond, nginx?.requestsPerCpuSecond),
        fmt.mb(r.rssBytes),
        r.origin.opened,
        fmt.fixed(r.originCpu.cores),
        `${Math.round(r.cpu.machineBusyFraction * 100)}%`,
        r.wrk.non2xx3xx + Object.values(r.wrk.socketErrors).reduce((a, b) => a + b, 0),
      ]),
    ),
  );
  log(
    '   ("upstream opened" = TCP connections the origin accepted during the measured run: about 50 or fewer means upstream keep-alive reuse; "machine busy" = all cores, all processes)',
  );
}

// ---------------------------------------------------------------- 2. HTTP-FLV fan-out (issue 3, point 8)

/** Issue 3's benchmark targets (MB = MiB, as printed). */
const FLV_GOALS = {
  minRateFraction: 0.9,
  cpuRatioMax: 0.75,
  cpuRatioAim: 0.6,
  batchCpuRatioAim: 0.35,
  /** RSS bound by audience: 100 MB up to 1000 viewers, 130 MB up to 2000; none above. */
  rssMaxBytes: (n) => (n <= 1000 ? 100 : n <= 2000 ? 130 : NaN) * 1024 * 1024,
  addedP50MaxMs: 5,
  addedP99MaxMs: 10,
  firstKeyframeP50MaxMs: 20,
  headersP50MaxMs: 20,
};
/** A run during which processes outside the bench used more than this many cores is marked [disturbed]. */
const OTHER_CORES_DISTURBED = 0.25;
const STAMPED_PATH = '/live/stream.flv?stamp=1';
const PLAIN_PATH = '/live/stream.flv';

function forkTracked(file, args) {
  const child = fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  trackedChildren().add(child);
  child.once('exit', () => trackedChildren().delete(child));
  return child;
}

let quietWaitedMs = 0;
/**
 * Bounded wait until processes outside the bench use little CPU (other sessions' tests on a
 * shared machine disturb the figures): 1 s samples, at most BENCH_QUIET_WAIT_S per run and
 * 60 s per bench. Returns what it saw.
 */
async function waitQuiet() {
  const budgetMs = Math.min(SETTINGS.quietWaitS * 1000, SETTINGS.quietWaitTotalS * 1000 - quietWaitedMs);
  const started = Date.now();
  let others;
  for (;;) {
    const probe = cpuProbe(() => [process.pid, ...[...trackedChildren()].map((c) => c.pid)]);
    probe.start();
    await sleep(1_000);
    const sample = probe.stop();
    others = Math.max(0, sample.machineTaskCores - sample.cores);
    if (others < 0.15 || Date.now() - started + 1_000 > budgetMs) break;
  }
  const waitedMs = Date.now() - started;
  quietWaitedMs += Math.max(0, waitedMs - 1_000);
  return { waitedMs, otherCores: others, quiet: others < 0.15 };
}

async function flvRun(id, n, round) {
  const target = TARGETS[id];
  const quiet = SETTINGS.quietWaitS > 0 ? await waitQuiet() : undefined;
  if (quiet && !quiet.quiet)
    progress(`machine not quiet before this run: other processes at ${fmt.fixed(quiet.otherCores)} cores after ${(quiet.waitedMs / 1000).toFixed(0)} s`);
  const shares = target.shares === true || (target.relay === true && target.fanout === true); // one upstream pull for every viewer
  const samplers = Math.min(SETTINGS.latencySamplers, Math.floor(n / 2));
  const loadN = n - samplers;
  progress(`flv round ${round}: ${n} viewers via ${target.label}`);
  const origin = await startOrigin();
  const server = await target.start(origin);
  const row = {
    id,
    label: target.label,
    round,
    quietBefore: quiet,
    viewers: n,
    loadViewers: loadN,
    samplers,
    fanout: shares,
    relay: target.relay === true,
    writeBatchMs: target.writeBatchMs ?? 0,
  };
  // Every fan-out viewer must ask for the same URL (one stream); nginx's load viewers take the
  // plain URL so the origin does not copy each tag for thousands of connections.
  row.loadUrlPath = shares ? STAMPED_PATH : PLAIN_PATH;
  const children = [];
  try {
    await origin.reset();
    const listenAtStart = tcpListenDrops();
    const { child: probe } = await forkHelper(path.join(BENCH_DIR, 'flv-probe.mjs'), [
      '--proxy-url',
      server.url + STAMPED_PATH,
      '--direct-url',
      origin.url + STAMPED_PATH,
      '--samplers',
      String(samplers),
      '--direct',
      String(samplers),
      '--joiners',
      String(SETTINGS.joiners),
      '--joiner-delay-ms',
      String(SETTINGS.joinerDelayMs),
      '--joiner-spacing-ms',
      String(SETTINGS.joinerSpacingMs),
      '--joiner-timeout-ms',
      String(SETTINGS.joinerTimeoutMs),
      '--bitrate',
      String(SETTINGS.bitrate),
      '--max-seconds',
      String(SETTINGS.viewSeconds + 120),
    ]);
    children.push(probe);
    const viewers = forkTracked(path.join(BENCH_DIR, 'viewers.mjs'), [
      '--url',
      server.url + row.loadUrlPath,
      '--n',
      String(loadN),
      '--seconds',
      String(SETTINGS.viewSeconds),
      '--bitrate',
      String(SETTINGS.bitrate),
    ]);
    children.push(viewers);
    const startBudget = 45_000;
    const endBudget = startBudget + (SETTINGS.viewSeconds + 15) * 1000;
    const resultBudget = endBudget + 40_000;
    const vStart = nextMessage(viewers, 'window-start', startBudget, 'viewers.mjs');
    const vEnd = nextMessage(viewers, 'window-end', endBudget, 'viewers.mjs');
    const vResult = nextMessage(viewers, 'result', resultBudget, 'viewers.mjs');
    const pResult = nextMessage(probe, 'result', resultBudget, 'flv-probe.mjs');
    // Spread the probe's samplers through the ramp, so they sit all along the proxy's viewer list.
    viewers.on('message', (message) => {
      if (message?.type === 'ramp' && samplers > 0 && probe.connected) probe.send({ cmd: 'open', count: Math.round((message.opened / message.of) * samplers) });
    });

    await vStart;
    const listenAtWindow = tcpListenDrops();
    row.listenOverflowsInRamp = listenAtWindow.overflows - listenAtStart.overflows;
    const probes = {
      proxy: cpuProbe(server.pids),
      origin: cpuProbe(() => [origin.pid]),
      viewers: cpuProbe(() => [viewers.pid]),
      probe: cpuProbe(() => [probe.pid]),
      bench: cpuProbe(() => [process.pid]),
    };
    for (const p of Object.values(probes)) p.start();
    probe.send({ cmd: 'window-start' });
    const rssSamples = [groupRssBytes(server.pids())];
    const rssTimer = setInterval(() => rssSamples.push(groupRssBytes(server.pids())), 1_000);
    try {
      row.originAtStart = await origin.stats();
      await vEnd;
    } finally {
      clearInterval(rssTimer);
    }
    row.cpu = Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, p.stop()]));
    row.listenOverflowsInWindow = tcpListenDrops().overflows - listenAtWindow.overflows;
    row.rssEndBytes = groupRssBytes(server.pids());
    rssSamples.push(row.rssEndBytes);
    row.rssPeakBytes = Math.max(...rssSamples);
    row.originAtEnd = await origin.stats();
    if (target.relay) row.checkAtEnd = await server.check();

    // Everyone leaves at once.
    viewers.send({ cmd: 'leave' });
    probe.send({ cmd: 'finish' });
    [row.result, row.probe] = await Promise.all([vResult, pResult]);
    const leftAt = Date.now();
    await sleep(SETTINGS.leaveCheckMs);
    row.originAfterLeave = await origin.stats();
    // Live FLV pulls still open (the target: 0), and any other proxy-side socket (e.g. a health check).
    row.upstreamOpenAfterLeave = row.originAfterLeave.liveOpen;
    row.socketsOpenAfterLeave = row.originAfterLeave.open;
    row.rssAfterLeaveBytes = groupRssBytes(server.pids());
    row.check = await server.check();
    if (row.upstreamOpenAfterLeave > 0 || row.socketsOpenAfterLeave > 0) {
      // Bounded follow-up: does it clear by itself, and when?
      const deadline = Date.now() + SETTINGS.leaveExtraWaitMs;
      let stats = row.originAfterLeave;
      while ((stats.liveOpen > 0 || stats.open > 0) && Date.now() < deadline) {
        await sleep(250);
        stats = await origin.stats();
      }
      row.upstreamOpenLater = { afterMs: Date.now() - leftAt, open: stats.liveOpen, sockets: stats.open };
      row.checkLater = await server.check();
    }
    deriveFlv(row);
    noteFlv(row);
  } finally {
    for (const child of children) await stopChild(child, { timeoutMs: 3_000 });
    row.stop = await server.stop();
    if (row.stop.killed) anomaly(`flv ${n} / ${target.label} (round ${round}): did not exit within the stop timeout after SIGTERM; killed`);
    await sleep(200);
    row.originAfterProxyStop = await origin.stats().catch(() => undefined);
    await origin.stop();
  }
  return row;
}

/** Figures derived from one run's raw measurements. */
function deriveFlv(row) {
  const r = row.result;
  const p = row.probe;
  row.cpuPerViewer = row.cpu.proxy.cores / row.viewers;
  row.viewersMeasured = r.n + p.proxy.n;
  row.viewersAtRate = r.n - r.belowMinRate + (p.proxy.n - p.proxy.belowMinRate);
  row.minRateBytesPerSec = Math.min(r.rateBytesPerSec.min, p.proxy.n ? p.proxy.rateBytesPerSec.min : Infinity);
  const o = row.originAtEnd;
  row.upstream = {
    expected: row.fanout ? 1 : row.viewers,
    atWindowStart: row.originAtStart.liveOpen,
    opened: o.liveOpened,
    peak: o.livePeak,
    tcpOpened: o.opened,
    tcpPeak: o.peakOpen,
    otherRequests: o.otherRequests,
  };
  row.originInWindow = { drops: row.originAtEnd.drops - row.originAtStart.drops, tagsSkipped: row.originAtEnd.tagsSkipped - row.originAtStart.tagsSkipped };
  // CPU used by processes outside this bench (other work on the machine) during the window.
  const ours = ['proxy', 'origin', 'viewers', 'probe', 'bench'].reduce((a, k) => a + row.cpu[k].cores, 0);
  row.otherCores = Math.max(0, row.cpu.proxy.machineTaskCores - ours);
  row.irqCores = row.cpu.proxy.machineIrqCores;
  row.disturbed = row.otherCores > OTHER_CORES_DISTURBED;
  // A run whose machine could not carry the load: its CPU figure is a floor, not a reference.
  row.saturated = [];
  if (row.cpu.proxy.machineBusyFraction >= 0.95) row.saturated.push(`machine ${Math.round(row.cpu.proxy.machineBusyFraction * 100)}% busy`);
  if (row.originInWindow.tagsSkipped) row.saturated.push(`origin fell ${row.originInWindow.tagsSkipped} tags behind`);
  if (row.originInWindow.drops) row.saturated.push(`origin skipped ${row.originInWindow.drops} writes to full sockets`);
  if (row.viewersAtRate < row.viewersMeasured)
    row.saturated.push(`${row.viewersMeasured - row.viewersAtRate}/${row.viewersMeasured} viewers below ${FLV_GOALS.minRateFraction * 100}% of the bitrate`);
  const via = p.proxy.latencyMs;
  const direct = p.direct.latencyMs;
  row.latency = {
    viaProxyMs: via,
    directMs: direct,
    addedP50Ms: via.p50 - direct.p50,
    addedP99Ms: via.p99 - direct.p99,
    addedMeanMs: via.mean - direct.mean,
    perSamplerMedianMs: p.proxy.perSamplerMedianMs,
  };
  row.joiners = p.joiners;
  // Raw latency samples, kept (outside the JSON) to pool the rounds.
  Object.defineProperty(row, 'samples', { value: { proxy: p.proxy.samples, direct: p.direct.samples }, enumerable: false });
  delete p.proxy.samples;
  delete p.direct.samples;
}

function noteFlv(row) {
  const r = row.result;
  const p = row.probe;
  const where = `flv ${row.viewers} / ${row.label} (round ${row.round})`;
  if (r.withFirstByte < r.n) anomaly(`${where}: only ${r.withFirstByte}/${r.n} load viewers got a first byte`);
  if (r.statuses['200'] !== r.n) anomaly(`${where}: load viewer statuses ${JSON.stringify(r.statuses)}`);
  if (Object.keys(r.errors).length) anomaly(`${where}: load viewer socket errors ${JSON.stringify(r.errors)}`);
  if (r.closedEarly) anomaly(`${where}: ${r.closedEarly} load viewer(s) were closed by the server before the end`);
  if (row.viewersAtRate < row.viewersMeasured)
    anomaly(
      `${where}: ${row.viewersMeasured - row.viewersAtRate}/${row.viewersMeasured} viewers got less than ${FLV_GOALS.minRateFraction * 100}% of the bitrate (min ${fmt.int((row.minRateBytesPerSec * 8) / 1000)} kbit/s)`,
    );
  for (const side of [p.proxy, p.direct]) {
    const label = side.side === 'proxy' ? 'latency samplers via the proxy' : 'direct latency samplers';
    if (side.n && side.statuses['200'] !== side.n) anomaly(`${where}: ${label}: statuses ${JSON.stringify(side.statuses)}`);
    if (side.ended.length) anomaly(`${where}: ${label}: ${side.ended.length} ended before the finish (${JSON.stringify(side.ended.slice(0, 3))})`);
    if (side.parseErrors.length) anomaly(`${where}: ${label}: malformed FLV: ${JSON.stringify(side.parseErrors)}`);
    if (side.tagIndexGaps) anomaly(`${where}: ${label}: ${side.tagIndexGaps} gap(s) in the origin's tag sequence (frames skipped)`);
    if (side.timestampsBackwards) anomaly(`${where}: ${label}: video timestamps went back ${side.timestampsBackwards} time(s)`);
    if (side.n && !(side.latencyMs.n > 0)) anomaly(`${where}: ${label}: no latency sample`);
    if (side.latencyMs.min < -0.5) anomaly(`${where}: ${label}: negative latency ${fmt.ms(side.latencyMs.min)} (clock mismatch between origin and probe?)`);
  }
  const j = p.joiners;
  if (j.n) {
    if (j.statuses['200'] !== j.n) anomaly(`${where}: late joiner statuses ${JSON.stringify(j.statuses)}`);
    if (j.withKeyframe < j.n) anomaly(`${where}: only ${j.withKeyframe}/${j.n} late joiners got a keyframe within ${SETTINGS.joinerTimeoutMs} ms`);
    if (j.parseErrors.length) anomaly(`${where}: late joiners saw malformed FLV: ${JSON.stringify(j.parseErrors)}`);
    if (row.fanout && j.decodableStart < j.n)
      anomaly(`${where}: ${j.n - j.decodableStart}/${j.n} late joiners did not start with metadata, sequence header, then a keyframe`);
  }
  const u = row.upstream;
  if (u.atWindowStart !== u.expected) anomaly(`${where}: origin had ${u.atWindowStart} live FLV pulls open at the window start (expected ${u.expected})`);
  if (row.fanout && (u.opened !== 1 || u.peak !== 1))
    anomaly(`${where}: origin served ${u.opened} live FLV pull(s) during the run, at most ${u.peak} at once (expected 1)`);
  if (row.originInWindow.drops) anomaly(`${where}: origin skipped ${row.originInWindow.drops} tag writes in the window (proxy not reading fast enough)`);
  if (row.originInWindow.tagsSkipped)
    anomaly(`${where}: origin fell behind and skipped ${row.originInWindow.tagsSkipped} tags in the window (machine saturated)`);
  if (row.cpu.proxy.machineBusyFraction >= 0.95)
    anomaly(`${where}: machine ${Math.round(row.cpu.proxy.machineBusyFraction * 100)}% busy in the window: the figures of this run are distorted`);
  if (row.disturbed)
    anomaly(
      `${where}: processes outside the bench used ${fmt.fixed(row.otherCores)} cores during the window (other work on this machine): this run's figures are disturbed`,
    );
  if (row.listenOverflowsInRamp)
    note(
      `${where}: ${row.listenOverflowsInRamp} TCP listen-queue overflow(s) on the machine while ${row.loadViewers} viewers connected (SYNs retried after 1 s, 3 s: the slow first bytes during the ramp)`,
    );
  if (row.upstreamOpenAfterLeave) {
    const later = row.upstreamOpenLater;
    anomaly(
      `${where}: ${row.upstreamOpenAfterLeave} live FLV pull(s) still open at the origin ${SETTINGS.leaveCheckMs} ms after the viewers left; ${later.open} still open ${later.afterMs} ms after (flv.idleCloseMs default is 1500 ms)`,
    );
  } else if (row.socketsOpenAfterLeave) {
    const later = row.upstreamOpenLater;
    note(
      `${where}: no live pull left, but ${row.socketsOpenAfterLeave} other proxy-side socket(s) open at the origin ${SETTINGS.leaveCheckMs} ms after the viewers left (requests this run: ${JSON.stringify(row.upstream.otherRequests)}); ${later.sockets} open ${later.afterMs} ms after`,
    );
  }
  if (row.check?.liveSessions) anomaly(`${where}: relay lists ${row.check.liveSessions} live session(s) ${SETTINGS.leaveCheckMs} ms after the viewers left`);
  if (row.check?.stats?.active)
    anomaly(`${where}: relay stats say ${row.check.stats.active} proxied request(s) still active ${SETTINGS.leaveCheckMs} ms after the viewers left`);
  const laterStreams = (row.checkLater ?? row.check)?.liveStreams;
  if (laterStreams) anomaly(`${where}: relay still lists ${laterStreams} live FLV stream(s) after the upstream check`);
  if (row.checkAtEnd?.framesDroppedLive)
    anomaly(`${where}: relay counted ${row.checkAtEnd.framesDroppedLive} dropped frame(s) over its live viewers at the window end`);
  noteCheck(`flv ${row.viewers}`, row.label, row.check, { expectClientClosed: true });
  if (row.check?.stats) {
    const closed = row.check.stats.errors.CLIENT_CLOSED ?? 0;
    const expected = row.viewers + j.n;
    if (closed !== expected) anomaly(`${where}: relay counted ${closed} CLIENT_CLOSED for ${row.viewers} viewers and ${j.n} late joiners that left`);
  }
}

function flvTargetIds() {
  if (!FANOUT_SUPPORTED) return ['nginx', 'relay-native', 'relay-http-proxy-3'];
  const ids = ['nginx', 'relay-fanout', ...SETTINGS.flvBatchMs.map((ms) => `relay-fanout-batch${ms}`)];
  if (SETTINGS.flvNoFanout) ids.push('relay-native-nofanout');
  for (const workers of SETTINGS.flvBare) ids.push(bareFanoutId(workers));
  return ids;
}

async function benchFlv() {
  const runs = [];
  // Rounds interleaved per audience size: nginx and the relay rows of one round run back to back,
  // so each CPU ratio compares runs that saw the same machine conditions.
  for (const n of SETTINGS.viewers) {
    for (let round = 1; round <= SETTINGS.flvRounds; round += 1) {
      for (const id of flvTargetIds()) runs.push(await flvRun(id, n, round));
    }
  }
  const rows = aggregateFlv(runs);
  return { rounds: SETTINGS.flvRounds, rows, summary: flvSummary(rows), runs };
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
const quantileOf = (sorted, q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] : NaN);
function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    min: sorted[0],
    p50: quantileOf(sorted, 0.5),
    p90: quantileOf(sorted, 0.9),
    p99: quantileOf(sorted, 0.99),
    max: sorted[sorted.length - 1],
    mean: sorted.length ? mean(sorted) : NaN,
  };
}

/** Late joiners of several rounds pooled (same figures as flv-probe.mjs gives per round). */
function poolJoiners(list) {
  const rows = list.flatMap((j) => j.rows);
  const got = rows.filter((j) => j.firstKeyframeMs !== undefined);
  const statuses = {};
  for (const j of rows) statuses[j.status] = (statuses[j.status] ?? 0) + 1;
  return {
    n: rows.length,
    withKeyframe: got.length,
    statuses,
    headersMs: summarize(rows.filter((j) => j.headersMs !== undefined).map((j) => j.headersMs)),
    firstByteMs: summarize(rows.filter((j) => j.firstByteMs !== undefined).map((j) => j.firstByteMs)),
    firstKeyframeMs: summarize(got.map((j) => j.firstKeyframeMs)),
    keyframeAgeMs: summarize(got.filter((j) => j.keyframeAgeMs !== undefined).map((j) => j.keyframeAgeMs)),
    firstCodedIsKey: rows.filter((j) => j.firstCodedIsKey).length,
    decodableStart: rows.filter((j) => j.firstCodedIsKey && j.seqBeforeFirstCoded && j.metadataBeforeFirstCoded).length,
  };
}

/**
 * nginx's CPU to compare one run with: the nginx run of the same audience and round, or, when
 * that run saturated the machine (its CPU is then a floor, not a reference), nginx's per-viewer
 * CPU from the largest unsaturated nginx run (same round first) scaled to the audience: an
 * estimate, labelled as such.
 */
function nginxRefFor(runs, run) {
  const measured = runs.find((r) => r.id === 'nginx' && r.viewers === run.viewers && r.round === run.round);
  if (!measured) return undefined;
  if (!measured.saturated.length) return { cores: measured.cpu.proxy.cores, measured: measured.cpu.proxy.cores, estimated: false };
  const clean = runs.filter((r) => r.id === 'nginx' && !r.saturated.length);
  const base = clean.filter((r) => r.round === run.round).sort((a, b) => b.viewers - a.viewers)[0] ?? clean.sort((a, b) => b.viewers - a.viewers)[0];
  if (!base) return { cores: measured.cpu.proxy.cores, measured: measured.cpu.proxy.cores, estimated: false };
  return { cores: base.cpuPerViewer * run.viewers, measured: measured.cpu.proxy.cores, estimated: true, from: base.viewers, fromRound: base.round };
}

/** One row per (proxy, audience): rounds pooled (latency samples, joiners), CPU ratios per round. */
function aggregateFlv(runs) {
  const out = [];
  for (const n of SETTINGS.viewers) {
    for (const id of flvTargetIds()) {
      const mine = runs.filter((r) => r.id === id && r.viewers === n);
      if (!mine.length) continue;
      const first = mine[0];
      const worst = mine.reduce((a, b) => (b.viewersAtRate / b.viewersMeasured < a.viewersAtRate / a.viewersMeasured ? b : a));
      const via = summarize(mine.flatMap((r) => r.samples.proxy));
      const direct = summarize(mine.flatMap((r) => r.samples.direct));
      const perRound = mine.map((r) => {
        const ref = nginxRefFor(runs, r);
        return {
          round: r.round,
          proxyCores: r.cpu.proxy.cores,
          nginxCores: ref?.cores,
          nginxMeasuredCores: ref?.measured,
          estimated: ref?.estimated ?? false,
          estimatedFrom: ref?.estimated ? `nginx at ${ref.from} viewers, round ${ref.fromRound}` : undefined,
          estimatedFromViewers: ref?.estimated ? ref.from : undefined,
          cpuRatio: ref ? r.cpu.proxy.cores / ref.cores : NaN,
          cpuRatioVsMeasured: ref ? r.cpu.proxy.cores / ref.measured : NaN,
          addedP50Ms: r.latency.addedP50Ms,
          addedP99Ms: r.latency.addedP99Ms,
          firstKeyframeP50Ms: r.joiners.firstKeyframeMs.p50,
          otherCores: r.otherCores,
          rssPeakBytes: r.rssPeakBytes,
          machineBusy: r.cpu.proxy.machineBusyFraction,
          saturated: r.saturated,
        };
      });
      const ratios = perRound.map((p) => p.cpuRatio).filter(Number.isFinite);
      const cores = (key) => mean(mine.map((r) => r.cpu[key].cores));
      out.push({
        id,
        label: first.label,
        viewers: n,
        relay: first.relay,
        fanout: first.fanout,
        writeBatchMs: first.writeBatchMs,
        rounds: mine.length,
        perRound,
        cores: { proxy: cores('proxy'), origin: cores('origin'), viewers: cores('viewers'), probe: cores('probe') },
        machineBusy: mean(mine.map((r) => r.cpu.proxy.machineBusyFraction)),
        otherCores: mean(mine.map((r) => r.otherCores)),
        otherCoresMax: Math.max(...mine.map((r) => r.otherCores)),
        irqCores: mean(mine.map((r) => r.irqCores)),
        disturbedRounds: mine.filter((r) => r.disturbed).map((r) => r.round),
        listenOverflowsInRamp: mine.map((r) => r.listenOverflowsInRamp),
        cpuPerViewer: mean(mine.map((r) => r.cpuPerViewer)),
        cpuRatio: ratios.length
          ? { mean: mean(ratios), min: Math.min(...ratios), max: Math.max(...ratios), estimated: perRound.some((p) => p.estimated) }
          : undefined,
        viewersAtRate: worst.viewersAtRate,
        viewersMeasured: worst.viewersMeasured,
        minRateBytesPerSec: Math.min(...mine.map((r) => r.minRateBytesPerSec)),
        writesPerViewerPerSec: mean(mine.map((r) => r.result.readsPerViewerPerSec)),
        firstByteP99Ms: Math.max(...mine.map((r) => r.result.firstByteMs.p99)),
        maxGapP99Ms: Math.max(...mine.map((r) => r.result.maxGapMs.p99)),
        rssPeakBytes: Math.max(...mine.map((r) => r.rssPeakBytes)),
        upstream: {
          expected: first.upstream.expected,
          atWindowStart: Math.max(...mine.map((r) => r.upstream.atWindowStart)),
          opened: Math.max(...mine.map((r) => r.upstream.opened)),
          peak: Math.max(...mine.map((r) => r.upstream.peak)),
          otherRequests: mine.map((r) => r.upstream.otherRequests),
        },
        upstreamOpenAfterLeave: Math.max(...mine.map((r) => r.upstreamOpenAfterLeave)),
        socketsOpenAfterLeave: Math.max(...mine.map((r) => r.socketsOpenAfterLeave)),
        upstreamOpenLater: mine.map((r) => r.upstreamOpenLater).find(Boolean),
        latency: {
          viaProxyMs: via,
          directMs: direct,
          addedP50Ms: via.p50 - direct.p50,
          addedP99Ms: via.p99 - direct.p99,
          addedMeanMs: via.mean - direct.mean,
          perSamplerMedianMs: {
            min: Math.min(...mine.map((r) => r.latency.perSamplerMedianMs.min)),
            max: Math.max(...mine.map((r) => r.latency.perSamplerMedianMs.max)),
          },
        },
        joiners: poolJoiners(mine.map((r) => r.joiners)),
        saturated: mine.flatMap((r) => r.saturated.map((why) => `round ${r.round}: ${why}`)),
      });
    }
  }
  return out;
}

// ---- verdicts and printing (on the pooled rows)

const ms1 = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : '-');
const ms0 = (v) => (Number.isFinite(v) ? `${Math.round(v)} ms` : '-');
const ratioText = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');
const signedMs = (v) => (Number.isFinite(v) ? `${v < 0 ? '-' : '+'}${Math.abs(v).toFixed(1)} ms` : '-');
const batchTag = (r) =>
  r.id === 'nginx'
    ? 'nginx'
    : r.id.startsWith('node-bare-fanout')
      ? r.id.replace('node-', '')
      : r.writeBatchMs
        ? `batch${r.writeBatchMs}`
        : r.fanout
          ? 'relay'
          : r.id;

/** Per N: the nginx row, the default relay row, the batching rows, the bare fan-out references. */
function groupFlv(rows, n) {
  const mine = rows.filter((r) => r.viewers === n);
  return {
    rows: mine,
    nginx: mine.find((r) => r.id === 'nginx'),
    relay: mine.find((r) => r.id === 'relay-fanout' || r.id === 'relay-native'),
    batch: mine.filter((r) => r.writeBatchMs > 0),
    bare: mine.filter((r) => r.id.startsWith('node-bare-fanout') && r.latency?.viaProxyMs.n > 0),
  };
}

/** "0.66x" or, over several rounds, "0.66x (0.63-0.69)"; "est." when an nginx reference was estimated. */
function cpuRatioText(r) {
  const c = r.cpuRatio;
  if (!c) return '-';
  const range = r.rounds > 1 ? ` (${c.min.toFixed(2)}-${c.max.toFixed(2)})` : '';
  return `${ratioText(c.mean)}${range}${c.estimated ? ' est.' : ''}`;
}

function verdictOf(cell) {
  if (cell.verdict) return cell.verdict;
  const aim = cell.aimOk === undefined ? '' : cell.aimOk ? 'aim met' : 'aim missed';
  let text;
  if (cell.ok === undefined) text = aim || 'reported';
  else if (!cell.ok) text = 'MISS';
  else text = aim ? `ok, ${aim}` : 'ok';
  return cell.estimated ? `${text} (est.)` : text;
}

/** Issue 3 point 8, criterion by criterion, per audience size: the closing note. */
function flvSummary(rows) {
  const out = [];
  const add = (criterion, target, fn) => {
    for (const n of SETTINGS.viewers) {
      const cell = fn(groupFlv(rows, n), n);
      out.push({ criterion, target, viewers: n, ...cell, verdict: verdictOf(cell) });
    }
  };
  const cpuCell = (row, nginx, goalMax, goalAim) => {
    if (!row?.cpuRatio) return { text: '-' };
    const c = row.cpuRatio;
    let text = `${cpuRatioText(row)}: ${fmt.fixed(row.cores.proxy, 3)} cores, nginx ${fmt.fixed(mean(row.perRound.map((p) => p.nginxCores)), 3)}${c.estimated ? ' (est.)' : ''}`;
    if (c.estimated) text += `; vs the saturated nginx run ${ratioText(mean(row.perRound.map((p) => p.cpuRatioVsMeasured)))}`;
    const cell = { text, value: c.mean, min: c.min, max: c.max, estimated: c.estimated };
    if (goalMax !== undefined) cell.ok = c.mean <= goalMax;
    if (goalAim !== undefined) cell.aimOk = c.mean <= goalAim;
    return cell;
  };

  add('every viewer keeps the bitrate (>=90%)', 'all viewers', ({ relay, nginx }) =>
    relay
      ? {
          text: `relay ${relay.viewersAtRate}/${relay.viewersMeasured}; nginx ${nginx ? `${nginx.viewersAtRate}/${nginx.viewersMeasured}` : '-'}`,
          ok: relay.viewersAtRate === relay.viewersMeasured,
        }
      : { text: '-' },
  );
  add('live upstream pulls', '1 (nginx: 1 per viewer)', ({ relay, nginx }) =>
    relay
      ? {
          text: `relay ${relay.upstream.opened} opened, ${relay.upstream.peak} at most; nginx ${nginx?.upstream.atWindowStart ?? '-'}`,
          ok: relay.upstream.opened === 1 && relay.upstream.peak === 1,
        }
      : { text: '-' },
  );
  add('upstream pulls open 2 s after the last viewer left', '0', ({ rows: mine }) => {
    const relays = mine.filter((r) => r.relay);
    return {
      text: mine.map((r) => `${batchTag(r)} ${r.upstreamOpenAfterLeave}`).join(', '),
      ok: relays.length ? relays.every((r) => r.upstreamOpenAfterLeave === 0) : undefined,
    };
  });
  add('relay CPU vs nginx, batching off', `<=${FLV_GOALS.cpuRatioMax}x, aim ${FLV_GOALS.cpuRatioAim}x`, ({ relay, nginx }) =>
    cpuCell(relay, nginx, FLV_GOALS.cpuRatioMax, FLV_GOALS.cpuRatioAim),
  );
  for (const ms of SETTINGS.flvBatchMs) {
    const pick = (g) => g.batch.find((r) => r.writeBatchMs === ms);
    add(`writeBatchMs ${ms}: relay CPU vs nginx`, `aim ${FLV_GOALS.batchCpuRatioAim}x`, (g) =>
      cpuCell(pick(g), g.nginx, undefined, FLV_GOALS.batchCpuRatioAim),
    );
    add(`writeBatchMs ${ms}: latency it costs`, 'reported (vs batching off)', (g) => {
      const b = pick(g);
      if (!b || !g.relay) return { text: '-' };
      const costP50Ms = b.latency.addedP50Ms - g.relay.latency.addedP50Ms;
      const costP99Ms = b.latency.addedP99Ms - g.relay.latency.addedP99Ms;
      const costMeanMs = b.latency.addedMeanMs - g.relay.latency.addedMeanMs;
      return {
        text: `${signedMs(costP50Ms)} p50, ${signedMs(costMeanMs)} mean, ${signedMs(costP99Ms)} p99 (${fmt.fixed(b.writesPerViewerPerSec, 1)} writes/viewer/s)`,
        costP50Ms,
        costMeanMs,
        costP99Ms,
      };
    });
  }
  add('relay RSS (peak in the window)', '<=100 MB at 1000, <=130 MB at 2000', ({ relay, nginx }, n) => {
    const max = FLV_GOALS.rssMaxBytes(n);
    return relay
      ? {
          text: `${fmt.mb(relay.rssPeakBytes)}; nginx ${fmt.mb(nginx?.rssPeakBytes)} (${fmt.ratio(relay.rssPeakBytes, nginx?.rssPeakBytes)})`,
          value: relay.rssPeakBytes,
          ok: Number.isFinite(max) ? relay.rssPeakBytes <= max : undefined,
        }
      : { text: '-' };
  });
  add(
    'latency added over a direct connection, batching off',
    `p50 <=${FLV_GOALS.addedP50MaxMs} ms, p99 <=${FLV_GOALS.addedP99MaxMs} ms`,
    ({ relay, nginx, bare }) =>
      relay && relay.latency.viaProxyMs.n > 0
        ? {
            text: `relay ${ms1(relay.latency.addedP50Ms)} / ${ms1(relay.latency.addedP99Ms)}${relay.rounds > 1 ? ` (rounds: ${relay.perRound.map((p) => `${p.addedP50Ms.toFixed(1)}/${p.addedP99Ms.toFixed(1)}`).join(', ')})` : ''}; nginx ${ms1(nginx?.latency.addedP50Ms)} / ${ms1(nginx?.latency.addedP99Ms)}${bare.map((r) => `; ${batchTag(r)} ${ms1(r.latency.addedP50Ms)} / ${ms1(r.latency.addedP99Ms)}`).join('')}`,
            p50: relay.latency.addedP50Ms,
            p99: relay.latency.addedP99Ms,
            ok: relay.latency.addedP50Ms <= FLV_GOALS.addedP50MaxMs && relay.latency.addedP99Ms <= FLV_GOALS.addedP99MaxMs,
          }
        : { text: '-' },
  );
  add('late joiner: time to first keyframe', `median <${FLV_GOALS.firstKeyframeP50MaxMs} ms`, ({ relay, nginx }) =>
    relay && relay.joiners.n
      ? {
          text: `relay p50 ${ms1(relay.joiners.firstKeyframeMs.p50)}, p90 ${ms1(relay.joiners.firstKeyframeMs.p90)}; nginx ${ms0(nginx?.joiners.firstKeyframeMs.p50)} / ${ms0(nginx?.joiners.firstKeyframeMs.p90)}`,
          p50: relay.joiners.firstKeyframeMs.p50,
          p90: relay.joiners.firstKeyframeMs.p90,
          ok: relay.joiners.withKeyframe === relay.joiners.n && relay.joiners.firstKeyframeMs.p50 < FLV_GOALS.firstKeyframeP50MaxMs,
        }
      : { text: '-' },
  );
  add('late joiner: HTTP headers at once', `median <${FLV_GOALS.headersP50MaxMs} ms`, ({ relay, nginx }) =>
    relay && relay.joiners.n
      ? {
          text: `relay p50 ${ms1(relay.joiners.headersMs.p50)}, p90 ${ms1(relay.joiners.headersMs.p90)}; nginx ${ms1(nginx?.joiners.headersMs.p50)} / ${ms1(nginx?.joiners.headersMs.p90)}`,
          p50: relay.joiners.headersMs.p50,
          ok: relay.joiners.headersMs.p50 < FLV_GOALS.headersP50MaxMs,
        }
      : { text: '-' },
  );
  add('late joiner starts on a decodable keyframe', 'all', ({ relay, nginx }) =>
    relay && relay.joiners.n
      ? {
          text: `relay ${relay.joiners.decodableStart}/${relay.joiners.n}; nginx ${nginx ? `${nginx.joiners.decodableStart}/${nginx.joiners.n}` : '-'}`,
          ok: relay.joiners.decodableStart === relay.joiners.n,
        }
      : { text: '-' },
  );
  return out;
}

/** "value (target)" with MISS appended when a hard target is missed. */
function withGoal(text, goal, ok) {
  if (!goal) return text;
  return `${text} (${goal})${ok === false ? ' MISS' : ''}`;
}

function printFlv({ rows, summary }) {
  const kbit = (bytesPerSec) => fmt.int((bytesPerSec * 8) / 1000);
  const rounds = SETTINGS.flvRounds;
  log(
    `\n== 2. HTTP-FLV fan-out (issue 3 point 8): one ${SETTINGS.bitrate / 1e6} Mbit/s H.264 FLV stream (a tag every 40 ms, keyframe every 25 = 1 s GOP) from an origin with no GOP cache`,
  );
  log(
    `   ${SETTINGS.viewSeconds}s window per run, ${rounds} interleaved round(s) per audience (nginx, then each relay row, per round); CPU ratios are per round (same-round nginx), shown as mean (range);`,
  );
  log(
    `   latency and late joiners pooled over the rounds. Per run: ${SETTINGS.latencySamplers} of the viewers are latency samplers in a probe process (spread through the ramp),`,
  );
  log(
    `   + ${SETTINGS.latencySamplers} direct to the origin; ${SETTINGS.joiners} late joiners, one every ${SETTINGS.joinerSpacingMs} ms from ${(SETTINGS.joinerDelayMs / 1000).toFixed(1)} s into the window (spread over the GOP)`,
  );
  if (SETTINGS.quietWaitS > 0)
    log(`   before the runs: waited ${(quietWaitedMs / 1000).toFixed(0)} s in all (bounded) for work outside the bench to calm down; see "other procs"`);
  for (const n of SETTINGS.viewers) {
    const { rows: mine, nginx } = groupFlv(rows, n);
    const rssMax = FLV_GOALS.rssMaxBytes(n);
    const tagged = (r) => r.label + (r.saturated.length ? ' [saturated]' : '') + (r.disturbedRounds.length ? ' [disturbed]' : '');
    log(`\n-- ${n} viewers: load`);
    log(
      table(
        [
          'proxy',
          'viewers >=90%',
          'min kbit/s',
          'writes/viewer/s',
          'proxy cores',
          'CPU vs nginx (target)',
          'RSS peak (target)',
          'RSS vs nginx',
          'upstream pulls opened/peak (target)',
          'open +2s (target)',
          'machine busy',
          'other procs',
        ],
        mine.map((r) => {
          const relayFanout = r.relay && r.fanout;
          const cpuGoal = !relayFanout
            ? undefined
            : r.writeBatchMs
              ? `aim ${FLV_GOALS.batchCpuRatioAim}x`
              : `<=${FLV_GOALS.cpuRatioMax}x, aim ${FLV_GOALS.cpuRatioAim}x`;
          return [
            tagged(r),
            `${r.viewersAtRate}/${r.viewersMeasured}`,
            kbit(r.minRateBytesPerSec),
            fmt.fixed(r.writesPerViewerPerSec, 1),
            fmt.fixed(r.cores.proxy, 3),
            r.id === 'nginx'
              ? '1.00x'
              : withGoal(cpuRatioText(r), cpuGoal, relayFanout && !r.writeBatchMs && r.cpuRatio ? r.cpuRatio.mean <= FLV_GOALS.cpuRatioMax : undefined),
            withGoal(fmt.mb(r.rssPeakBytes), relayFanout && Number.isFinite(rssMax) ? `<=${fmt.mb(rssMax)}` : undefined, r.rssPeakBytes <= rssMax),
            fmt.ratio(r.rssPeakBytes, nginx?.rssPeakBytes),
            withGoal(
              `${r.upstream.opened}/${r.upstream.peak}`,
              r.fanout ? '1' : '1 per viewer',
              r.fanout ? r.upstream.opened === 1 && r.upstream.peak === 1 : undefined,
            ),
            withGoal(
              String(r.upstreamOpenAfterLeave) +
                (r.upstreamOpenLater && r.upstreamOpenAfterLeave
                  ? `, ${r.upstreamOpenLater.open} at +${(r.upstreamOpenLater.afterMs / 1000).toFixed(1)}s`
                  : ''),
              '0',
              r.upstreamOpenAfterLeave === 0,
            ),
            `${Math.round(r.machineBusy * 100)}%`,
            `${fmt.fixed(r.otherCores)}${r.disturbedRounds.length ? ` (max ${fmt.fixed(r.otherCoresMax)})` : ''}`,
          ];
        }),
      ),
    );
    for (const r of mine.filter((x) => x.disturbedRounds.length))
      log(
        `   [disturbed] ${r.label}: round(s) ${r.disturbedRounds.join(', ')}: processes outside the bench used more than ${OTHER_CORES_DISTURBED} cores during the window`,
      );
    for (const r of mine.filter((x) => x.saturated.length)) log(`   [saturated] ${r.label}: ${r.saturated.join('; ')}: not a valid reference for that round`);
    for (const r of mine.filter((x) => x.cpuRatio?.estimated && x.id !== 'nginx')) {
      const est = r.perRound.filter((p) => p.estimated);
      log(
        `   est. ${batchTag(r)}: ${est.map((p) => `round ${p.round} against ${p.estimatedFrom} x ${n}/${p.estimatedFromViewers} = ${fmt.fixed(p.nginxCores, 3)} cores: ${ratioText(p.cpuRatio)} (vs the saturated run's ${fmt.fixed(p.nginxMeasuredCores, 3)} cores: ${ratioText(p.cpuRatioVsMeasured)})`).join('; ')}`,
      );
    }
    const others = mine
      .filter((r) => r.relay)
      .flatMap((r) => r.upstream.otherRequests)
      .filter((o) => o && Object.keys(o).length);
    if (others.length) {
      const total = {};
      for (const o of others) for (const [k, v] of Object.entries(o)) total[k] = (total[k] ?? 0) + v;
      log(
        `   other relay requests to the origin (not stream pulls): ${Object.entries(total)
          .map(([k, v]) => `${k} x${v}`)
          .join(', ')} over ${mine.filter((r) => r.relay).reduce((a, r) => a + r.rounds, 0)} relay runs (active health checks)`,
      );
    }
    log(`\n-- ${n} viewers: latency added over a direct origin connection, and late joiners`);
    log(
      table(
        [
          'proxy',
          'added p50 (target)',
          'added p99 (target)',
          'via proxy p50/p99',
          'direct p50/p99',
          'joiner headers p50/p90 (target)',
          'first keyframe p50 (target)',
          'p90',
          'vs nginx',
          'decodable start',
          'keyframe age p50',
        ],
        mine.map((r) => {
          const l = r.latency;
          const j = r.joiners;
          const goals = r.relay && r.fanout && !r.writeBatchMs;
          return [
            tagged(r),
            withGoal(ms1(l.addedP50Ms), goals ? `<=${FLV_GOALS.addedP50MaxMs} ms` : undefined, l.addedP50Ms <= FLV_GOALS.addedP50MaxMs),
            withGoal(ms1(l.addedP99Ms), goals ? `<=${FLV_GOALS.addedP99MaxMs} ms` : undefined, l.addedP99Ms <= FLV_GOALS.addedP99MaxMs),
            `${ms1(l.viaProxyMs.p50)} / ${ms1(l.viaProxyMs.p99)}`,
            `${ms1(l.directMs.p50)} / ${ms1(l.directMs.p99)}`,
            withGoal(
              `${ms1(j.headersMs.p50)} / ${ms1(j.headersMs.p90)}`,
              r.relay && r.fanout ? `<${FLV_GOALS.headersP50MaxMs} ms` : undefined,
              j.headersMs.p50 < FLV_GOALS.headersP50MaxMs,
            ),
            withGoal(
              ms1(j.firstKeyframeMs.p50),
              r.relay && r.fanout ? `<${FLV_GOALS.firstKeyframeP50MaxMs} ms` : undefined,
              j.withKeyframe === j.n && j.firstKeyframeMs.p50 < FLV_GOALS.firstKeyframeP50MaxMs,
            ),
            ms1(j.firstKeyframeMs.p90),
            r.id === 'nginx' ? '1.00x' : fmt.ratio(j.firstKeyframeMs.p50, nginx?.joiners.firstKeyframeMs.p50),
            `${j.decodableStart}/${j.n}`,
            ms0(j.keyframeAgeMs.p50),
          ];
        }),
      ),
    );
    log(
      `   latency per sampler (each sampler's median; it depends on its place in the proxy's viewer list): ${mine.map((r) => `${batchTag(r)} ${ms1(r.latency.perSamplerMedianMs.min)}..${ms1(r.latency.perSamplerMedianMs.max)}`).join(', ')}`,
    );
    log(
      `   other cores (mean): ${mine.map((r) => `${batchTag(r)}: origin ${fmt.fixed(r.cores.origin)}, viewers.mjs ${fmt.fixed(r.cores.viewers)}, probe ${fmt.fixed(r.cores.probe)}`).join('; ')}`,
    );
    log(
      `   load viewers: first byte p99 ${mine.map((r) => `${batchTag(r)} ${ms0(r.firstByteP99Ms)}`).join(', ')}; longest read gap p99 ${mine.map((r) => `${batchTag(r)} ${ms0(r.maxGapP99Ms)}`).join(', ')}`,
    );
  }
  log('   ("writes/viewer/s" = socket reads per load viewer per second, about the proxy\'s writes per viewer per second (25 tags/s);');
  log('    "upstream pulls" = live FLV requests the origin served to the proxy during the run / most at once; "open +2s" = pulls still');
  log('    open at the origin 2 s after every viewer left; "added" = latency through the proxy minus latency of the direct origin');
  log('    connections in the same run (origin send stamp -> end of the tag at the probe); "keyframe age" = age of the first keyframe');
  log('    a joiner got (GOP cache: up to one GOP); RSS: highest of the rounds, nginx = master + workers; MB = MiB; "other procs" = cores');
  log('    used by processes outside the bench during the window (other work on the machine); "est." = a round compared against');
  log("    nginx's per-viewer CPU from an unsaturated nginx run, scaled, because that round's nginx run saturated the machine)");

  log(`\n== Issue 3 point 8 (benchmark): the relay against its targets, nginx measured in the same run`);
  let last = '';
  log(
    table(
      ['criterion', 'target', 'viewers', 'measured', 'verdict'],
      summary.map((s) => {
        const first = s.criterion !== last;
        last = s.criterion;
        return [first ? s.criterion : '', first ? s.target : '', s.viewers, s.text, s.verdict];
      }),
      { left: 5 },
    ),
  );
}

// ---------------------------------------------------------------- amplification (issue 11, points 3 and 4)

/**
 * Distinct query strings against one HLS playlist and one FLV stream. The FLV part runs twice:
 * as configured (one pull per stream) and "keyed" (the query param listed in streamParams, the
 * pre-fix behaviour: one pull per distinct query), so the saving is a ratio from the same run.
 */
async function benchAmplification() {
  const progress = (line) => log(`  .. ${line}`);
  log('\n== Amplification: distinct query strings must not multiply node work (HLS playlist, FLV stream)');
  const hls = await runHlsAmplification({ skipBuild: true, progress });
  printHlsAmplification(hls, log);
  for (const line of hlsAmplificationAnomalies(hls)) anomaly(line);
  const flv = await runFlvAmplification({ skipBuild: true, progress });
  printFlvAmplification(flv, log);
  for (const line of flvAmplificationAnomalies(flv)) anomaly(line);
  const flvKeyed = await runFlvAmplification({ skipBuild: true, progress, keyed: true });
  printFlvAmplification(flvKeyed, log);
  const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
  log(
    `   FLV, as configured vs keyed (one pull per query, the pre-fix behaviour): node pulls ${flv.nodePulls} vs ${flvKeyed.nodePulls}; relay CPU ${ratio(flv.relayCpuSeconds, flvKeyed.relayCpuSeconds)}x; peak RSS ${ratio(flv.peakRssBytes, flvKeyed.peakRssBytes)}x`,
  );
  return { hls, flv, flvKeyed };
}

// ---------------------------------------------------------------- main

async function main() {
  const started = Date.now();
  const build = ensureBuilt();
  detectFanout();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    kernel: os.release(),
    node: process.version,
    nginx: nginxVersion(),
    wrk: wrkVersion(),
    memTotalBytes: os.totalmem(),
  };
  const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const source = {
    commit: git('rev-parse', 'HEAD'),
    uncommitted: git('status', '--short', '--', 'electron', 'shared', 'package.json').split('\n').filter(Boolean),
  };
  const results = {
    startedAt: new Date(started).toISOString(),
    source,
    machine,
    settings: SETTINGS,
    build,
    caveat: CAVEAT,
    peerConfig: {
      nginx: nginxConfig({ dir: '<tmp>', port: '<port>', originPort: '<origin>' }),
      nginxNotes: `worker_processes ${NGINX_WORKERS}; accept_mutex, multi_accept, keepalive_requests left at their defaults; access_log off.`,
      relay: relayConfig(
        '<native|http-proxy-3>',
        'http://127.0.0.1:<origin>',
        '<random>',
        FANOUT_SUPPORTED ? '<true|false: flv bench only; omitted elsewhere>' : undefined,
        SETTINGS.flvBatchMs.length ? { writeBatchMs: '<flv bench batching rows only: ' + SETTINGS.flvBatchMs.join(' or ') + '>' } : undefined,
      ),
      relayNotes: FANOUT_SUPPORTED
        ? 'flv bench: "fan-out (flv defaults)" = route default (fanout true, gopCache true, one upstream pull per stream, writeBatchMs 0, idleCloseMs 1500); "writeBatchMs N" = the same with flv.writeBatchMs N; "fanout off" (BENCH_FLV_NOFANOUT=1) = per-viewer proxy through the named engine; "bare Node fan-out" (BENCH_FLV_BARE) = tests/bench/bare-fanout.mjs, the least a Node fan-out can do (one socket.write per viewer per batch, no GOP cache, no stats), in one process and over cluster workers. Redirect and seg benches leave fanout and flv unset.'
        : 'this build has no flv fan-out option: every flv viewer is proxied through the named engine',
      origin: `tests/bench/flv-origin.mjs: no GOP cache; FLV header, onMetaData, AVC sequence header on connect, then one ${Math.round(((SETTINGS.bitrate / 8) * 40) / 1000)}-byte H.264 tag every 40 ms (keyframe every 25), send stamp in each tag, chunked; segment ${SETTINGS.segmentBytes} bytes`,
      flvMeasure:
        'viewers.mjs: load viewers (byte counts); flv-probe.mjs: latency samplers via the proxy (spread through the ramp) and direct to the origin, both ?stamp=1 (per-write send stamp), and late joiners parsing the FLV (tests/bench/flv-parse.mjs)',
      plainProxy: 'tests/bench/plain-proxy.mjs: http.request + pipe, keep-alive agent (maxFreeSockets 64)',
    },
  };

  log('RelayDeck bench');
  log(`machine: ${machine.cpus} x ${machine.cpuModel}, Linux ${machine.kernel}, Node ${machine.node}, nginx ${machine.nginx}, wrk ${machine.wrk}`);
  log(
    `source: ${source.commit.slice(0, 12)} + ${source.uncommitted.length} uncommitted change(s) under electron/ shared/ package.json; build: ${build.reason}`,
  );
  log(
    `peer: nginx worker_processes ${NGINX_WORKERS}, access_log off; /live/ proxy_buffering off, proxy_buffer_size 64k, proxy_http_version 1.1 (+ proxy_buffers 4 64k, required by nginx's config check);`,
  );
  log(
    `      /seg/ upstream keepalive 64, proxy_http_version 1.1, Connection "", ${NGINX_SEG_BUFFERING === 'on' ? 'proxy_buffering on, proxy_buffers 16 64k, no temp files' : 'proxy_buffering off, proxy_buffer_size 64k'} (BENCH_NGINX_SEG_BUFFERING=${NGINX_SEG_BUFFERING})`,
  );
  log(`CAVEAT: ${CAVEAT}`);

  if (SETTINGS.only.includes('redirect')) {
    results.redirect = await benchRedirect();
    printRedirect(results.redirect);
  }
  if (SETTINGS.only.includes('flv')) {
    results.flv = await benchFlv();
    printFlv(results.flv);
  }
  if (SETTINGS.only.includes('seg')) {
    results.seg = await benchSeg();
    printSeg(results.seg);
  }
  if (SETTINGS.only.includes('hls')) {
    results.hls = await benchHls();
    printHls(results.hls, log);
    for (const line of hlsAnomalies(results.hls)) anomaly(line);
  }

  if (SETTINGS.only.includes('amplification')) {
    results.amplification = await benchAmplification();
  }
  if (SETTINGS.only.includes('tls')) {
    results.tls = await benchTls({ progress, anomaly, note, waitQuiet: SETTINGS.quietWaitS > 0 ? waitQuiet : undefined }, TLS_SETTINGS);
    printTls(results.tls, log);
  }
  if (SETTINGS.only.includes('fleet')) {
    results.fleet = await benchFleet({ progress, note, tmpRoot, waitQuiet: SETTINGS.quietWaitS > 0 ? waitQuiet : undefined });
    printFleet(results.fleet, log);
  }

  results.anomalies = anomalies;
  results.notes = notes;
  results.durationSeconds = (Date.now() - started) / 1000;
  log('\n== Anomalies (errors, leaks, crashes, rate misses) seen during the run');
  if (anomalies.length === 0) log('   none');
  for (const line of anomalies) log(`   - ${line}`);
  if (notes.length) {
    log('\n== Notes (expected by design)');
    for (const line of notes) log(`   - ${line}`);
  }
  log(`\nCAVEAT: ${CAVEAT}`);
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  log(`results: ${path.relative(ROOT, RESULTS_FILE)} (${results.durationSeconds.toFixed(0)} s total)`);
}

try {
  await main();
  rmSync(tmpRoot, { recursive: true, force: true });
} catch (error) {
  process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
  killAllTracked();
  process.stderr.write(`(temporary files kept in ${tmpRoot})\n`);
  process.exitCode = 1;
} finally {
  clearTimeout(watchdog);
}
