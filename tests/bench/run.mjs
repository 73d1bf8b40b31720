#!/usr/bin/env node
// RelayDeck bench (`npm run bench`): RelayDeck against nginx measured in the same run.
//   1. redirect: RelayDeck redirect route vs nginx `return 302` (wrk -t2 -c50 --latency)
//   2. HTTP-FLV fan-out to N viewers through RelayDeck (native, http-proxy-3) vs nginx proxy_pass
//   3. 500 KB segments at 50 connections: RelayDeck (native, http-proxy-3), nginx, a plain Node proxy
// Prints tables with ratios against nginx and writes tests/bench/results/latest.json.
//
// Environment (all optional):
//   BENCH_VIEWERS=200,1000     viewer counts for the FLV bench (comma-separated, each 1..5000)
//   BENCH_ONLY=redirect,flv,seg  run only these sections
//   BENCH_WRK_SECONDS=10       measured wrk duration (redirect, seg); BENCH_WARMUP_SECONDS=2
//   BENCH_ROUNDS=2             wrk sections: rounds per server, interleaved; the best round (highest
//                              req/s) is reported, the others are shown as the range
//   BENCH_VIEW_SECONDS=15      measured viewer window for the FLV bench
//   BENCH_BITRATE=2000000      FLV stream bitrate, bit/s
//   BENCH_NGINX_SEG_BUFFERING=off  nginx proxy_buffering for /seg/: off (default, faster here) or on
//   BENCH_SKIP_BUILD=1         never run `npm run build:node` (dist/ must exist)
//   BENCH_MAX_SECONDS=720      hard wall-clock limit for the whole run
// Needs /usr/sbin/nginx and wrk on PATH. Linux only (/proc).
import { spawnSync, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HOST,
  NGINX_BIN,
  NGINX_SEG_BUFFERING,
  NGINX_WORKERS,
  ask,
  cpuProbe,
  fmt,
  forkHelper,
  groupRssBytes,
  killAllTracked,
  nginxConfig,
  probe,
  runWrk,
  sleep,
  spawnServer,
  startNginx,
  stopChild,
  table,
  trackedChildren,
} from './lib.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..', '..');
const RESULTS_FILE = path.join(BENCH_DIR, 'results', 'latest.json');
const env = process.env;

const num = (name, fallback, min, max) => {
  const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number in ${min}..${max}`);
  return value;
};
const SETTINGS = {
  viewers: (env.BENCH_VIEWERS || '200,1000').split(',').map((s) => Number(s.trim())),
  only: (env.BENCH_ONLY || 'redirect,flv,seg').split(',').map((s) => s.trim()),
  wrkSeconds: num('BENCH_WRK_SECONDS', 10, 1, 120),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 2, 0, 30),
  viewSeconds: num('BENCH_VIEW_SECONDS', 15, 2, 120),
  bitrate: num('BENCH_BITRATE', 2_000_000, 10_000, 50_000_000),
  maxSeconds: num('BENCH_MAX_SECONDS', 720, 30, 3600),
  rounds: num('BENCH_ROUNDS', 2, 1, 10),
  wrkThreads: 2,
  wrkConnections: 50,
  segmentBytes: 500_000,
  leaveCheckMs: 2_000,
  leaveExtraWaitMs: 10_000,
};
for (const n of SETTINGS.viewers) if (!Number.isInteger(n) || n < 1 || n > 5000) throw new Error('BENCH_VIEWERS: each count must be an integer in 1..5000');

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
  const cli = path.join(ROOT, 'dist', 'electron', 'cli.js');
  if (env.BENCH_SKIP_BUILD === '1') {
    if (!existsSync(cli)) throw new Error('dist/electron/cli.js is missing and BENCH_SKIP_BUILD=1');
    return { built: false, reason: 'BENCH_SKIP_BUILD=1' };
  }
  const stale = [];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (/\.c?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const out = path.join(ROOT, 'dist', rel.replace(/\.ts$/, '.js').replace(/\.cts$/, '.cjs'));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(path.join(ROOT, rel)).mtimeMs) stale.push(rel);
      }
    }
  };
  walk('electron');
  walk('shared');
  if (existsSync(cli) && stale.length === 0) return { built: false, reason: 'dist/ up to date' };
  progress(`building: npm run build:node (${existsSync(cli) ? `${stale.length} stale file(s), e.g. ${stale[0]}` : 'dist/electron/cli.js missing'})`);
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
  const { child, ready } = await forkHelper(path.join(BENCH_DIR, 'flv-origin.mjs'), ['--bitrate', String(SETTINGS.bitrate), '--seg-bytes', String(SETTINGS.segmentBytes)]);
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
    FANOUT_SUPPORTED = /\bfanout\b/.test(readFileSync(path.join(ROOT, 'dist', 'shared', 'config.js'), 'utf8'));
  } catch {
    FANOUT_SUPPORTED = false;
  }
}

function relayConfig(engine, originUrl, token, fanout) {
  const live = { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' };
  if (fanout !== undefined) live.fanout = fanout;
  return {
    relay: { host: HOST, port: 0, proxyEngine: engine, shutdownGraceMs: 1_000 },
    admin: { host: HOST, port: 0, token },
    nodes: [{ id: 'a', url: originUrl }],
    routes: [
      live,
      { id: 'seg', path: '/seg/', kind: 'file', mode: 'proxy' },
      { id: 'r', path: '/r/', kind: 'file', mode: 'redirect' },
    ],
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
  // FLV only: the route's per-stream fan-out (default when supported) vs per-viewer proxying.
  'relay-fanout': relayTarget('native', true),
  'relay-native-nofanout': relayTarget('native', false),
  'relay-http-proxy-3-nofanout': relayTarget('http-proxy-3', false),
  'node-plain': {
    label: 'plain Node http.request pipe (reference)',
    async start(origin) {
      const server = await spawnServer(process.execPath, [path.join(BENCH_DIR, 'plain-proxy.mjs'), origin.url], { ready: [/listening on (http:\/\/\S+)/] });
      return simpleHandle(server);
    },
  },
  'node-bare-302': {
    label: 'bare Node 302 server (reference)',
    async start(origin) {
      const server = await spawnServer(process.execPath, [path.join(BENCH_DIR, 'bare-redirect.mjs'), origin.url], { ready: [/listening on (http:\/\/\S+)/] });
      return simpleHandle(server);
    },
  },
};

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

function relayTarget(engine, fanout) {
  const label = fanout === true ? 'RelayDeck fan-out (flv default)' : fanout === false ? `RelayDeck ${engine} engine, fanout off` : `RelayDeck (${engine} engine)`;
  return {
    label,
    relay: true,
    fanout,
    async start(origin) {
      const dir = freshDir(`relay-${engine}${fanout === undefined ? '' : fanout ? '-fanout' : '-nofanout'}`);
      const token = `bench-${randomBytes(16).toString('hex')}`;
      const configFile = path.join(dir, 'config.json');
      const config = relayConfig(engine, origin.url, token, FANOUT_SUPPORTED ? fanout : undefined);
      writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      const server = await spawnServer(process.execPath, [path.join(ROOT, 'electron', 'bin', 'relaydeck.mjs'), 'serve', '--config', configFile], {
        ready: [/relay listening on (http:\/\/\S+)/, /admin listening on (http:\/\/\S+)/],
        cwd: ROOT,
        env: { RELAYDECK_HOME: dir },
        stderrFile: path.join(dir, 'stderr.log'),
      });
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
          const out = { alive, stderrLines: server.stderrLines(), stderrTail: server.stderrTail().filter((l) => / (WARN|ERROR) /.test(l)).slice(-8) };
          if (!alive) return { ...out, exitCode: server.child.exitCode, signal: server.child.signalCode, stderrLast: server.stderrTail().slice(-10) };
          try {
            const [stats, sessions] = await Promise.all([api('/api/stats'), api('/api/sessions')]);
            const streams = FANOUT_SUPPORTED ? await api('/api/streams').catch(() => undefined) : undefined;
            const framesDropped = sessions.reduce((sum, session) => sum + (session.framesDropped ?? 0), 0);
            return { ...out, liveSessions: sessions.length, framesDroppedLive: framesDropped, liveStreams: streams?.length, streams, stats: stats.totals, routes: stats.routes };
          } catch (error) {
            return { ...out, adminError: error.message };
          }
        },
      };
    },
  };
}

function nginxVersion() {
  const run = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' });
  return (/nginx\/(\S+)/.exec(`${run.stderr}${run.stdout}`) ?? [])[1] ?? '?';
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
  if (check.alive === false) anomaly(`${section} / ${label}: process died during the run (exit ${check.exitCode}, signal ${check.signal}); last stderr: ${JSON.stringify(check.stderrLast ?? check.stderrTail)}`);
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
      anomaly(`${where}: ${row.check.stats.active} proxied request(s) still active and ${row.check.liveSessions} live session(s) ${quiet.waitedMs} ms after wrk ended (${row.activeAtWrkEnd} active when it ended)`);
    } else if (row.activeAtWrkEnd > SETTINGS.wrkConnections) {
      anomaly(`${where}: ${row.activeAtWrkEnd} proxied requests active when wrk (${SETTINGS.wrkConnections} connections) ended`);
    }
    noteCheck(section, `${target.label} (round ${round})`, row.check, { baseline, allowClientClosed });
    const errs = row.wrk.socketErrors;
    if (row.wrk.non2xx3xx || errs.connect || errs.read || errs.write || errs.timeout) anomaly(`${where}: wrk non-2xx/3xx ${row.wrk.non2xx3xx}, socket errors ${JSON.stringify(errs)}`);
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
    return { ...best, rounds: mine.map((r) => ({ round: r.round, requestsPerSec: r.wrk.requestsPerSec, p99Ms: r.wrk.p99Ms, cores: r.cpu.cores, requestsPerCpuSecond: r.requestsPerCpuSecond })), allRounds: mine };
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
      if (answer.status !== 302 || answer.headers.location !== expected) anomaly(`redirect / ${target.label}: sanity GET gave ${answer.status} location ${answer.headers.location}, expected 302 ${expected}`);
      return { status: answer.status, location: answer.headers.location, bodyLength: answer.bodyLength };
    },
  });
}

function printRedirect(rows) {
  const nginx = rows.find((r) => r.id === 'nginx');
  log(`\n== 1. Redirect: GET /r/x.ts?token=abc -> 302 to the node; wrk -t${SETTINGS.wrkThreads} -c${SETTINGS.wrkConnections} -d${SETTINGS.wrkSeconds}s --latency, ${SETTINGS.warmupSeconds}s warm-up, best of ${SETTINGS.rounds} interleaved round(s)`);
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
      if (answer.status !== 200 || answer.bodyLength !== SETTINGS.segmentBytes) anomaly(`seg / ${target.label}: sanity GET gave ${answer.status} with ${answer.bodyLength} bytes`);
      return { status: answer.status, bodyLength: answer.bodyLength, contentLength: answer.headers['content-length'] };
    },
  }).then((rows) => {
    for (const row of rows.flatMap((r) => r.allRounds)) {
      const where = `seg / ${row.label} (round ${row.round})`;
      const expectedBytes = row.wrk.requests * SETTINGS.segmentBytes;
      if (row.wrk.bytesRead < expectedBytes * 0.98) anomaly(`${where}: wrk read ${fmt.mb(row.wrk.bytesRead)} for ${row.wrk.requests} requests (expected at least ${fmt.mb(expectedBytes)})`);
      if (row.origin.segRequests < row.wrk.requests) anomaly(`${where}: origin served ${row.origin.segRequests} segments for ${row.wrk.requests} client requests`);
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
      ['proxy', 'req/s', 'vs nginx', 'req/s all rounds', 'p99', 'proxy cores', 'req/CPU-s', 'vs nginx', 'RSS', 'upstream opened', 'origin cores', 'machine busy', 'errors'],
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
  log('   ("upstream opened" = TCP connections the origin accepted during the measured run: about 50 or fewer means upstream keep-alive reuse; "machine busy" = all cores, all processes)');
}

// ---------------------------------------------------------------- 2. HTTP-FLV fan-out

function runViewers(url, n) {
  const child = fork(path.join(BENCH_DIR, 'viewers.mjs'), ['--url', url, '--n', String(n), '--seconds', String(SETTINGS.viewSeconds), '--bitrate', String(SETTINGS.bitrate)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  trackedChildren().add(child);
  child.once('exit', () => trackedChildren().delete(child));
  return child;
}

async function flvRun(id, n) {
  const target = TARGETS[id];
  progress(`flv: ${n} viewers via ${target.label}`);
  const origin = await startOrigin();
  const server = await target.start(origin);
  const row = { id, label: target.label, viewers: n, fanout: target.fanout === true };
  try {
    await origin.reset();
    const probes = { proxy: cpuProbe(server.pids), origin: cpuProbe(() => [origin.pid]) };
    const rssSamples = [];
    let rssTimer;
    const viewers = runViewers(`${server.url}/live/stream.flv`, n);
    probes.viewers = cpuProbe(() => [viewers.pid]);
    const exited = new Promise((resolve) => viewers.once('exit', resolve));
    let duringPromise;
    row.result = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        viewers.kill('SIGKILL');
        reject(new Error(`viewers did not finish within ${SETTINGS.viewSeconds + 45} s`));
      }, (SETTINGS.viewSeconds + 45) * 1000);
      viewers.on('message', (message) => {
        if (message.type === 'window-start') {
          for (const p of Object.values(probes)) p.start();
          duringPromise = origin.stats();
          rssSamples.push(groupRssBytes(server.pids()));
          rssTimer = setInterval(() => rssSamples.push(groupRssBytes(server.pids())), 1_000);
        } else if (message.type === 'window-end') {
          row.cpu = Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, p.stop()]));
          clearInterval(rssTimer);
          row.rssEndBytes = groupRssBytes(server.pids());
          rssSamples.push(row.rssEndBytes);
          row.rssPeakBytes = Math.max(...rssSamples);
        } else if (message.type === 'result') {
          clearTimeout(timer);
          resolve(message);
        }
      });
      exited.then((code) => {
        clearTimeout(timer);
        clearInterval(rssTimer);
        reject(new Error(`viewers exited with code ${code} before reporting`));
      });
    });
    row.originDuring = await duringPromise;
    await exited;
    const leftAt = Date.now();
    await sleep(SETTINGS.leaveCheckMs);
    row.originAfterLeave = await origin.stats();
    row.upstreamOpenAfterLeave = row.originAfterLeave.open;
    row.rssAfterLeaveBytes = groupRssBytes(server.pids());
    row.check = await server.check();
    if (row.upstreamOpenAfterLeave > 0) {
      // Bounded follow-up: does it clear by itself, and when?
      const deadline = Date.now() + SETTINGS.leaveExtraWaitMs;
      let open = row.upstreamOpenAfterLeave;
      while (open > 0 && Date.now() < deadline) {
        await sleep(250);
        open = (await origin.stats()).open;
      }
      row.upstreamOpenLater = { afterMs: Date.now() - leftAt, open };
      row.checkLater = await server.check();
    }
    row.cpuPerViewer = row.cpu.proxy.cores / n;
    noteFlv(row);
  } finally {
    row.stop = await server.stop();
    if (row.stop.killed) anomaly(`flv ${n} / ${target.label}: did not exit within the stop timeout after SIGTERM; killed`);
    await sleep(200);
    row.originAfterProxyStop = await origin.stats().catch(() => undefined);
    await origin.stop();
  }
  return row;
}

function noteFlv(row) {
  const r = row.result;
  const where = `flv ${row.viewers} / ${row.label}`;
  if (r.withFirstByte < r.n) anomaly(`${where}: only ${r.withFirstByte}/${r.n} viewers got a first byte`);
  if (r.statuses['200'] !== r.n) anomaly(`${where}: viewer statuses ${JSON.stringify(r.statuses)}`);
  if (Object.keys(r.errors).length) anomaly(`${where}: viewer socket errors ${JSON.stringify(r.errors)}`);
  if (r.closedEarly) anomaly(`${where}: ${r.closedEarly} viewer(s) were closed by the server before the end`);
  if (r.belowMinRate) anomaly(`${where}: ${r.belowMinRate}/${r.n} viewers got less than ${r.minFraction * 100}% of the bitrate (min ${fmt.int((r.rateBytesPerSec.min * 8) / 1000)} kbit/s)`);
  const expectedUpstream = row.fanout ? 1 : row.viewers;
  if (row.originDuring.open !== expectedUpstream) anomaly(`${where}: origin had ${row.originDuring.open} open connections during the window (expected ${expectedUpstream})`);
  if (row.originDuring.drops) anomaly(`${where}: origin skipped ${row.originDuring.drops} tag writes (proxy not reading fast enough)`);
  if (row.upstreamOpenAfterLeave) {
    const later = row.upstreamOpenLater;
    const text = `${where}: ${row.upstreamOpenAfterLeave} upstream connection(s) still open ${SETTINGS.leaveCheckMs} ms after the viewers left; ${later.open} still open ${later.afterMs} ms after`;
    if (later.open === 0 && row.fanout) note(`${text} (the fan-out's idle close, flv.idleCloseMs, default 3000 ms)`);
    else anomaly(text);
  }
  if (row.check?.liveSessions) anomaly(`${where}: relay lists ${row.check.liveSessions} live session(s) ${SETTINGS.leaveCheckMs} ms after the viewers left`);
  if (row.check?.stats?.active) anomaly(`${where}: relay stats say ${row.check.stats.active} proxied request(s) still active ${SETTINGS.leaveCheckMs} ms after the viewers left`);
  const laterStreams = (row.checkLater ?? row.check)?.liveStreams;
  if (laterStreams) anomaly(`${where}: relay still lists ${laterStreams} live FLV stream(s) after the upstream check`);
  noteCheck(`flv ${row.viewers}`, row.label, row.check, { expectClientClosed: true });
  if (row.check?.stats) {
    const closed = row.check.stats.errors.CLIENT_CLOSED ?? 0;
    if (closed !== row.viewers) anomaly(`${where}: relay counted ${closed} CLIENT_CLOSED for ${row.viewers} viewers that left`);
  }
}

function flvTargetIds() {
  return FANOUT_SUPPORTED ? ['nginx', 'relay-fanout', 'relay-native-nofanout', 'relay-http-proxy-3-nofanout'] : ['nginx', 'relay-native', 'relay-http-proxy-3'];
}

async function benchFlv() {
  const runs = [];
  for (const n of SETTINGS.viewers) {
    for (const id of flvTargetIds()) runs.push(await flvRun(id, n));
  }
  return runs;
}

function printFlv(runs) {
  const kbit = (bytesPerSec) => fmt.int((bytesPerSec * 8) / 1000);
  log(`\n== 2. HTTP-FLV to N viewers: ${SETTINGS.bitrate / 1e6} Mbit/s synthetic FLV per upstream connection (one FLV tag every 40 ms), ${SETTINGS.viewSeconds}s window per run`);
  for (const n of SETTINGS.viewers) {
    const rows = runs.filter((r) => r.viewers === n);
    const nginx = rows.find((r) => r.id === 'nginx');
    log(`\n-- ${n} viewers`);
    log(
      table(
        ['proxy', 'viewers >=90%', 'min kbit/s', 'median kbit/s', 'proxy cores', 'CPU/viewer (core-s/s)', 'vs nginx', 'RSS end', 'vs nginx', 'RSS +2s', 'upstream opened', 'open in window', 'open +2s', 'machine busy'],
        rows.map((r) => [
          r.label,
          `${r.result.n - r.result.belowMinRate}/${r.result.n}`,
          kbit(r.result.rateBytesPerSec.min),
          kbit(r.result.rateBytesPerSec.median),
          fmt.fixed(r.cpu.proxy.cores, 3),
          fmt.sci(r.cpuPerViewer),
          fmt.ratio(r.cpuPerViewer, nginx?.cpuPerViewer),
          fmt.mb(r.rssEndBytes),
          fmt.ratio(r.rssEndBytes, nginx?.rssEndBytes),
          fmt.mb(r.rssAfterLeaveBytes),
          r.originDuring.opened,
          r.originDuring.open,
          r.upstreamOpenAfterLeave + (r.upstreamOpenLater ? ` (${r.upstreamOpenLater.open} at +${(r.upstreamOpenLater.afterMs / 1000).toFixed(1)}s)` : ''),
          `${Math.round(r.cpu.proxy.machineBusyFraction * 100)}%`,
        ]),
      ),
    );
    log(`   origin cores: ${rows.map((r) => `${r.id} ${fmt.fixed(r.cpu.origin.cores)}`).join(', ')}`);
    log(`   viewers.mjs cores: ${rows.map((r) => `${r.id} ${fmt.fixed(r.cpu.viewers.cores)}`).join(', ')}`);
    log(`   first byte p99: ${rows.map((r) => `${r.id} ${fmt.ms(r.result.firstByteMs.p99)}`).join(', ')}`);
    log(`   longest read gap per viewer, p99 over viewers: ${rows.map((r) => `${r.id} ${fmt.ms(r.result.maxGapMs.p99)}`).join(', ')}`);
  }
  log('   (RSS: nginx = master + workers summed; "upstream opened" = connections the origin accepted during the run;');
  log('    "open +2s" = still open at the origin 2 s after every viewer left, with a bounded follow-up when not 0)');
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
  const source = { commit: git('rev-parse', 'HEAD'), uncommitted: git('status', '--short', '--', 'electron', 'shared', 'package.json').split('\n').filter(Boolean) };
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
      relay: relayConfig('<native|http-proxy-3>', 'http://127.0.0.1:<origin>', '<random>', FANOUT_SUPPORTED ? '<true|false: flv bench only; omitted elsewhere>' : undefined),
      relayNotes: FANOUT_SUPPORTED
        ? 'flv bench: "fan-out" = route default (fanout true, one upstream pull per stream); "fanout off" = per-viewer proxy through the named engine. Redirect and seg benches leave fanout unset (it only applies to flv routes).'
        : 'this build has no flv fan-out option: every flv viewer is proxied through the named engine',
      origin: `tests/bench/flv-origin.mjs: FLV tag of ${Math.round(((SETTINGS.bitrate / 8) * 40) / 1000)} bytes every 40 ms per connection; segment ${SETTINGS.segmentBytes} bytes`,
      plainProxy: 'tests/bench/plain-proxy.mjs: http.request + pipe, keep-alive agent (maxFreeSockets 64)',
    },
  };

  log('RelayDeck bench');
  log(`machine: ${machine.cpus} x ${machine.cpuModel}, Linux ${machine.kernel}, Node ${machine.node}, nginx ${machine.nginx}, wrk ${machine.wrk}`);
  log(`source: ${source.commit.slice(0, 12)} + ${source.uncommitted.length} uncommitted change(s) under electron/ shared/ package.json; build: ${build.reason}`);
  log(`peer: nginx worker_processes ${NGINX_WORKERS}, access_log off; /live/ proxy_buffering off, proxy_buffer_size 64k, proxy_http_version 1.1 (+ proxy_buffers 4 64k, required by nginx's config check);`);
  log(`      /seg/ upstream keepalive 64, proxy_http_version 1.1, Connection "", ${NGINX_SEG_BUFFERING === 'on' ? 'proxy_buffering on, proxy_buffers 16 64k, no temp files' : 'proxy_buffering off, proxy_buffer_size 64k'} (BENCH_NGINX_SEG_BUFFERING=${NGINX_SEG_BUFFERING})`);
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
