#!/usr/bin/env node
// HLS bench (issue 5 point 5): N HLS viewers of one live stream, in the same run, through
//   1. nginx with proxy_cache + proxy_cache_lock (playlists cached for 50 % of the target
//      duration, like the relay's default; segments 60 s),
//   2. the RelayDeck hls route in proxy mode (hls defaults),
//   3. reference: a RelayDeck file route in proxy mode (no cache, no coalescing: what a plain
//      proxy does, one node request per viewer and segment).
// Reported per proxy: node requests per segment (target 1; a plain proxy makes N), node playlist
// requests per second, proxy CPU (and against nginx), RSS, segment fetch time, viewers that kept up.
//
// One file plays three roles so the bench stays a single file: `node tests/bench/hls.mjs` runs the
// bench and forks itself as the origin (`--origin`) and as the viewer load (`--viewers`).
// It can also be imported: `benchHls()` returns the results, `printHls(results, log)` prints them,
// `hlsAnomalies(results)` lists what went wrong (for run.mjs).
//
// Environment (all optional):
//   BENCH_HLS_VIEWERS=500           viewers (1..2000)
//   BENCH_HLS_SECONDS=30            measured window, s
//   BENCH_HLS_BITRATE=2000000       stream bitrate, bit/s (segment bytes = bitrate / 8 x segment seconds)
//   BENCH_HLS_SEGMENT_SECONDS=2     segment duration = target duration, s
//   BENCH_HLS_ONLY=nginx,relay,plain  which proxies to run
//   BENCH_SKIP_BUILD=1              never run `npm run build:node` (dist/ must exist)
//   BENCH_HLS_MAX_SECONDS=600       hard wall-clock limit
// Needs /usr/sbin/nginx. Linux only (/proc). Everything on 127.0.0.1.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HOST,
  NGINX_WORKERS,
  cpuProbe,
  fmt,
  groupRssBytes,
  killAllTracked,
  nginxPrelude,
  nginxVersion,
  sleep,
  spawnServer,
  ensureBuilt as ensureBuiltAt,
  startNginx,
  stopChild,
  table,
  trackedChildren,
  envNumber,
} from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const BENCH_DIR = path.dirname(SELF);
const ROOT = path.resolve(BENCH_DIR, '..', '..');
const RESULTS_FILE = path.join(BENCH_DIR, 'results', 'hls-latest.json');
/** Segments listed in the live playlist. */
const WINDOW_SEGMENTS = 6;
/** Segments a joining viewer loads behind the live edge (hls.js starts a few segments back). */
const JOIN_BACKLOG = 2;

const argOf = (args, name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

function settingsFromEnv(env = process.env) {
  const num = (name, fallback, min, max) => envNumber(env, name, fallback, min, max);
  const segmentSeconds = num('BENCH_HLS_SEGMENT_SECONDS', 2, 1, 10);
  const bitrate = num('BENCH_HLS_BITRATE', 2_000_000, 100_000, 20_000_000);
  return {
    viewers: num('BENCH_HLS_VIEWERS', 500, 1, 2000),
    seconds: num('BENCH_HLS_SECONDS', 30, 5, 300),
    bitrate,
    segmentSeconds,
    segmentBytes: Math.round((bitrate / 8) * segmentSeconds),
    only: (env.BENCH_HLS_ONLY || 'nginx,relay,plain').split(',').map((s) => s.trim()),
    maxSeconds: num('BENCH_HLS_MAX_SECONDS', 600, 60, 3600),
    rampMs: 5_000,
    startWaitMs: 20_000,
  };
}

// ================================================================ role: origin (--origin)

/** A live HLS origin: a new segment every segmentSeconds, six in the playlist; counts every request. */
async function originMain(args) {
  const segmentSeconds = Number(argOf(args, '--segment-seconds', 2));
  const segmentBytes = Number(argOf(args, '--segment-bytes', 500_000));
  const body = Buffer.alloc(segmentBytes, 0x47);
  const segmentMs = segmentSeconds * 1000;
  const epoch = Date.now() - WINDOW_SEGMENTS * segmentMs; // a full window exists from the start
  const newest = () => Math.floor((Date.now() - epoch) / segmentMs) - 1;
  const publishedAt = (seq) => epoch + (seq + 1) * segmentMs;
  let counters = { playlists: 0, segments: new Map(), other: 0, connections: 0 };
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    if (url === '/live/index.m3u8') {
      counters.playlists += 1;
      const last = newest();
      const first = Math.max(0, last - WINDOW_SEGMENTS + 1);
      let text = `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:${segmentSeconds}\n#EXT-X-MEDIA-SEQUENCE:${first}\n`;
      for (let seq = first; seq <= last; seq += 1) text += `#EXTINF:${segmentSeconds}.000,\nseg_${seq}.ts\n`;
      res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-cache' });
      res.end(text);
      return;
    }
    const match = /^\/live\/seg_(\d+)\.ts$/.exec(url);
    if (match && Number(match[1]) <= newest()) {
      const seq = Number(match[1]);
      counters.segments.set(seq, (counters.segments.get(seq) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': body.length });
      res.end(body);
      return;
    }
    counters.other += 1;
    res.writeHead(404, { 'content-length': 0 }).end();
  });
  server.on('connection', () => (counters.connections += 1));
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, HOST, resolve));
  process.on('message', (message) => {
    if (message?.cmd === 'stats') {
      const segments = [...counters.segments].map(([seq, count]) => ({ seq, count, publishedAt: publishedAt(seq) }));
      process.send({ id: message.id, playlists: counters.playlists, segments, other: counters.other, connections: counters.connections, now: Date.now() });
    } else if (message?.cmd === 'reset') {
      counters = { playlists: 0, segments: new Map(), other: 0, connections: 0 };
      process.send({ id: message.id });
    }
  });
  process.send({ type: 'ready', port: server.address().port });
}

// ================================================================ role: viewers (--viewers)

/** Every socket reads into this one buffer; segment bytes are counted, never kept. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);

/**
 * A keep-alive HTTP/1.1 connection with one request at a time; bodies need a content-length.
 * Exported for tls.mjs, which overrides openSocket() to speak HTTPS/1.1.
 */
export class Connection {
  constructor(host, port, userAgent) {
    Object.assign(this, { host, port, userAgent, socket: undefined, pending: undefined });
  }

  get(pathAndQuery, collect) {
    if (!this.socket) this.connect();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, collect, head: '', status: 0, remaining: -1, bytes: 0, chunks: [] };
      this.socket.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\nUser-Agent: ${this.userAgent}\r\nAccept: */*\r\n\r\n`);
    });
  }

  /** A new socket that hands every read to onRead(buf, n). */
  openSocket() {
    return net.connect({ host: this.host, port: this.port, onread: { buffer: readBuffer, callback: (n, buf) => this.onRead(buf, n) } });
  }

  connect() {
    const socket = this.openSocket();
    socket.setNoDelay(true);
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.fail(new Error('connection closed'));
    });
    this.socket = socket;
  }

  fail(error) {
    const pending = this.pending;
    this.pending = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    pending?.reject(error);
  }

  onRead(buf, n) {
    let at = 0;
    while (at < n && this.pending) {
      const p = this.pending;
      if (p.remaining < 0) {
        const before = p.head.length;
        p.head += buf.toString('latin1', at, n);
        const end = p.head.indexOf('\r\n\r\n');
        if (end < 0) return;
        at += end + 4 - before;
        const head = p.head.slice(0, end);
        p.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!length) return void this.fail(new Error(`no content-length (status ${p.status})`));
        p.remaining = Number(length[1]);
        p.cache = (/\r\n(?:x-cache-status|x-relaydeck-cache):\s*(\S+)/i.exec(head)?.[1] ?? '-').toUpperCase();
      } else {
        const take = Math.min(p.remaining, n - at);
        if (p.collect) p.chunks.push(Buffer.from(buf.subarray(at, at + take)));
        p.bytes += take;
        p.remaining -= take;
        at += take;
      }
      if (p.remaining === 0) {
        this.pending = undefined;
        p.resolve({ status: p.status, bytes: p.bytes, cache: p.cache, text: p.collect ? Buffer.concat(p.chunks).toString() : undefined });
      }
    }
    return true;
  }

  close() {
    this.socket?.destroy();
  }
}

/** An hls.js-like live viewer: reload the playlist every target duration (half when unchanged), load each new segment. */
class Viewer {
  constructor(id, url, targetMs, shared, conn) {
    Object.assign(this, {
      id,
      url,
      targetMs,
      shared,
      lastSeq: -1,
      stopped: false,
      errors: 0,
      statuses: {},
      inWindow: { segments: 0, bytes: 0, gaps: 0 },
      firstSegmentAt: 0,
    });
    this.conn = conn ?? new Connection(url.hostname, Number(url.port), `relaydeck-bench-hls-viewer-${id}`);
    this.dir = url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1);
  }

  resolve(uri) {
    if (/^https?:\/\//.test(uri)) {
      const u = new URL(uri);
      return u.pathname + u.search;
    }
    return uri.startsWith('/') ? uri : this.dir + uri;
  }

  count(status) {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }

  async run() {
    while (!this.stopped) {
      const loadedAt = Date.now();
      let changed = false;
      try {
        const playlist = await this.conn.get(this.url.pathname + this.url.search, true);
        this.count(playlist.status);
        if (this.shared.measuring) this.shared.cache[`playlist ${playlist.cache}`] = (this.shared.cache[`playlist ${playlist.cache}`] ?? 0) + 1;
        if (playlist.status !== 200) throw new Error(`playlist ${playlist.status}`);
        const lines = playlist.text.split('\n');
        let seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(playlist.text)?.[1] ?? 0);
        const segments = [];
        for (const line of lines) if (line && !line.startsWith('#')) segments.push({ seq: seq++, uri: line.trim() });
        if (this.lastSeq < 0 && segments.length) this.lastSeq = segments[Math.max(0, segments.length - JOIN_BACKLOG)].seq - 1;
        for (const segment of segments) {
          if (segment.seq <= this.lastSeq || this.stopped) continue;
          changed = true;
          const started = performance.now();
          const answer = await this.conn.get(this.resolve(segment.uri), false);
          this.count(answer.status);
          if (this.shared.measuring) this.shared.cache[`segment ${answer.cache}`] = (this.shared.cache[`segment ${answer.cache}`] ?? 0) + 1;
          if (answer.status !== 200) throw new Error(`segment ${answer.status}`);
          if (!this.firstSegmentAt) this.firstSegmentAt = Date.now();
          if (this.shared.measuring) {
            if (segment.seq > this.lastSeq + 1 && this.inWindow.segments > 0) this.inWindow.gaps += segment.seq - this.lastSeq - 1;
            this.inWindow.segments += 1;
            this.inWindow.bytes += answer.bytes;
            this.shared.latencies.push(performance.now() - started);
          }
          this.lastSeq = segment.seq;
        }
      } catch {
        this.errors += 1;
        await sleep(500);
      }
      const wait = loadedAt + (changed ? this.targetMs : this.targetMs / 2) - Date.now();
      if (wait > 0) await sleep(wait);
    }
    this.conn.close();
  }
}

/**
 * The viewer load: N viewers, then the window (IPC messages window-start, window-end, result).
 * `makeConnection(id, url)` gives each viewer its connection (tls.mjs: HTTPS/1.1 or HTTP/2);
 * default: a plain HTTP/1.1 Connection. `describe()` adds its fields to the result.
 */
export async function viewersMain(args, makeConnection, describe) {
  const url = new URL(argOf(args, '--url'));
  const n = Number(argOf(args, '--n', 500));
  const seconds = Number(argOf(args, '--seconds', 30));
  const targetMs = Number(argOf(args, '--target-ms', 2000));
  const rampMs = Number(argOf(args, '--ramp-ms', 5000));
  const startWaitMs = Number(argOf(args, '--start-wait-ms', 20000));
  const warmupMs = Number(argOf(args, '--warmup-ms', 0));
  const shared = { measuring: false, latencies: [], cache: {} };
  const viewers = [];
  const runs = [];
  for (let i = 0; i < n; i += 1) {
    const viewer = new Viewer(i, url, targetMs, shared, makeConnection?.(i, url));
    viewers.push(viewer);
    runs.push(viewer.run());
    if (i % 25 === 24) await sleep((rampMs * 25) / n);
  }
  const deadline = Date.now() + startWaitMs;
  while (viewers.some((v) => !v.firstSegmentAt) && Date.now() < deadline) await sleep(100);
  await sleep(1_000 + warmupMs);
  shared.measuring = true;
  process.send({ type: 'window-start', started: viewers.filter((v) => v.firstSegmentAt).length });
  await sleep(seconds * 1000);
  shared.measuring = false;
  process.send({ type: 'window-end' });
  for (const viewer of viewers) viewer.stopped = true;
  await Promise.race([Promise.all(runs), sleep(targetMs + 5_000)]);
  for (const viewer of viewers) viewer.conn.close();
  const statuses = {};
  for (const viewer of viewers) for (const [code, count] of Object.entries(viewer.statuses)) statuses[code] = (statuses[code] ?? 0) + count;
  const expected = seconds / (targetMs / 1000);
  const latencies = shared.latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? NaN;
  process.send({
    type: 'result',
    n,
    started: viewers.filter((v) => v.firstSegmentAt).length,
    keptUp: viewers.filter((v) => v.inWindow.gaps === 0 && v.inWindow.segments >= expected - 1).length,
    segmentsPerViewer: { min: Math.min(...viewers.map((v) => v.inWindow.segments)), mean: viewers.reduce((s, v) => s + v.inWindow.segments, 0) / n, expected },
    gaps: viewers.reduce((s, v) => s + v.inWindow.gaps, 0),
    bytes: viewers.reduce((s, v) => s + v.inWindow.bytes, 0),
    errors: viewers.reduce((s, v) => s + v.errors, 0),
    statuses,
    cacheAnswers: shared.cache,
    segmentMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: latencies.at(-1) ?? NaN, samples: latencies.length },
    ...describe?.(),
  });
  setTimeout(() => process.exit(0), 200);
}

// ================================================================ role: the bench

const log = (line = '') => process.stdout.write(`${line}\n`);
const progress = (line) => process.stderr.write(`  .. ${line}\n`);

function forkRole(role, args) {
  const child = fork(SELF, [role, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  trackedChildren().add(child);
  child.once('exit', () => trackedChildren().delete(child));
  return child;
}

/** The next message of `type` from `child`, bounded in time. */
function nextMessage(child, type, timeoutMs) {
  const promise = new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(reject, new Error(`no "${type}" message within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message) => message?.type === type && done(resolve, message);
    const onExit = (code) => done(reject, new Error(`child exited (${code}) before "${type}"`));
    const done = (settle, value) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      settle(value);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  promise.catch(() => {});
  return promise;
}

let askId = 1;
function ask(child, cmd) {
  const id = askId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`origin did not answer ${cmd}`)), 5_000);
    const onMessage = (message) => {
      if (message?.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ cmd, id });
  });
}

/** nginx's HLS peer; tls.mjs passes `listen` ("... ssl http2") and `serverExtra` (its ssl_* lines). */
export function nginxHlsConfig({ dir, port, originPort, playlistValidMs, listen = `${HOST}:${port}`, serverExtra = '' }) {
  return `${nginxPrelude({ dir, writtenBy: 'tests/bench/hls.mjs' })}    proxy_cache_path ${dir}/cache levels=1:2 keys_zone=hls:16m max_size=512m inactive=60s use_temp_path=off;
    upstream origin {
        server ${HOST}:${originPort};
        keepalive 64;
    }
    server {
        listen ${listen};
${serverExtra}        location /live/ {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering on;
            proxy_buffers 16 64k;
            proxy_buffer_size 64k;
            proxy_cache hls;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10s;
            proxy_cache_lock_age 10s;
            # An expired entry is not covered by the lock: one request refreshes it, the others get the stale copy meanwhile.
            proxy_cache_use_stale updating;
            proxy_ignore_headers Cache-Control Expires Set-Cookie;
            proxy_cache_valid 200 60s;
            proxy_cache_valid any 1s;
            add_header X-Cache-Status $upstream_cache_status;
            # Playlists: 50 % of the target duration, as the relay's hls.playlistCachePercent default (nginx counts whole seconds).
            location ~ \\.m3u8$ {
                proxy_pass http://origin;
                proxy_cache_valid 200 ${Math.max(1, Math.round(playlistValidMs / 1000))}s;
                proxy_cache_valid any 1s;
            }
        }
    }
}
`;
}

function relayConfig(originUrl, token) {
  return {
    relay: { host: HOST, port: 0, shutdownGraceMs: 1_000 },
    admin: { host: HOST, port: 0, token },
    nodes: [{ id: 'a', url: originUrl }],
    routes: [
      { id: 'live', path: '/live/', kind: 'hls', mode: 'proxy' },
      { id: 'plain', path: '/plain/', kind: 'file', mode: 'proxy', stripPrefix: true },
    ],
  };
}

function targets(settings, tmpRoot) {
  const relay = (label, urlPath) => ({
    label,
    urlPath,
    async start(origin) {
      const dir = mkdtempSync(path.join(tmpRoot, 'relay-'));
      const token = `bench-${randomBytes(16).toString('hex')}`;
      const configFile = path.join(dir, 'config.json');
      writeFileSync(configFile, `${JSON.stringify(relayConfig(origin.url, token), null, 2)}\n`, { mode: 0o600 });
      const server = await spawnServer(process.execPath, [path.join(ROOT, 'electron', 'bin', 'relaydeck.mjs'), 'serve', '--config', configFile], {
        ready: [/relay listening on (http:\/\/\S+)/, /admin listening on (http:\/\/\S+)/],
        cwd: ROOT,
        env: { RELAYDECK_HOME: dir, RELAYDECK_LOG_LEVEL: 'warn' },
        stderrFile: path.join(dir, 'stderr.log'),
      });
      const [url, adminUrl] = server.matches;
      const api = async (p) => (await fetch(adminUrl + p, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) })).json();
      return {
        url,
        pids: () => [server.child.pid],
        stop: () => stopChild(server.child, { timeoutMs: 6_000 }),
        extra: async () => ({
          hlsStreams: await api('/api/hls/streams'),
          hlsCache: await api('/api/hls/cache'),
          stats: (await api('/api/stats')).totals,
          stderrTail: server.stderrTail().slice(-5),
        }),
      };
    },
  });
  const all = {
    nginx: {
      label: `nginx ${nginxVersion()} proxy_cache + proxy_cache_lock (${NGINX_WORKERS} workers)`,
      urlPath: '/live/index.m3u8',
      async start(origin) {
        const dir = mkdtempSync(path.join(tmpRoot, 'nginx-'));
        mkdirSync(path.join(dir, 'tmp'), { recursive: true });
        mkdirSync(path.join(dir, 'cache'), { recursive: true });
        // Run as root, nginx's workers drop to "nobody": they must be able to write the cache and temp folders.
        if (process.getuid?.() === 0) for (const d of [tmpRoot, dir, path.join(dir, 'tmp'), path.join(dir, 'cache')]) chmodSync(d, 0o777);
        const playlistValidMs = settings.segmentSeconds * 500;
        const nginx = await startNginx({
          dir,
          originPort: origin.port,
          config: ({ port, originPort }) => nginxHlsConfig({ dir, port, originPort, playlistValidMs }),
        });
        return {
          url: nginx.url,
          pids: nginx.pids,
          stop: () => stopChild(nginx.child, { timeoutMs: 5_000 }),
          extra: async () => {
            const lines = existsSync(nginx.errorLog) ? readFileSync(nginx.errorLog, 'utf8').trim().split('\n').filter(Boolean) : [];
            return { errorLogLines: lines.length, errorLogTail: lines.slice(-3) };
          },
        };
      },
    },
    relay: relay('RelayDeck hls route, proxy mode (hls defaults)', '/live/index.m3u8'),
    plain: relay('reference: RelayDeck file route (plain proxy, no cache)', '/plain/live/index.m3u8'),
  };
  return settings.only.map((id) => ({ id, ...all[id] })).filter((t) => t.start);
}

export async function startOrigin(settings) {
  const child = forkRole('--origin', ['--segment-seconds', String(settings.segmentSeconds), '--segment-bytes', String(settings.segmentBytes)]);
  const ready = await nextMessage(child, 'ready', 10_000);
  return { child, port: ready.port, url: `http://${HOST}:${ready.port}`, stats: () => ask(child, 'stats'), stop: () => stopChild(child, { timeoutMs: 3_000 }) };
}

/** One proxy under load: fresh origin and proxy, N viewers, CPU over the measured window. */
async function runTarget(target, settings) {
  progress(`${settings.viewers} HLS viewers via ${target.label}`);
  const origin = await startOrigin(settings);
  const server = await target.start(origin);
  const row = { id: target.id, label: target.label };
  let viewers;
  try {
    const sanity = await fetch(server.url + target.urlPath, { signal: AbortSignal.timeout(5_000) });
    row.sanity = {
      status: sanity.status,
      uris: (await sanity.text())
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .slice(-2),
    };
    viewers = forkRole('--viewers', [
      '--url',
      server.url + target.urlPath,
      '--n',
      String(settings.viewers),
      '--seconds',
      String(settings.seconds),
      '--target-ms',
      String(settings.segmentSeconds * 1000),
      '--ramp-ms',
      String(settings.rampMs),
      '--start-wait-ms',
      String(settings.startWaitMs),
    ]);
    const start = nextMessage(viewers, 'window-start', settings.rampMs + settings.startWaitMs + 15_000);
    const end = nextMessage(viewers, 'window-end', settings.rampMs + settings.startWaitMs + settings.seconds * 1000 + 30_000);
    const result = nextMessage(viewers, 'result', settings.rampMs + settings.startWaitMs + settings.seconds * 1000 + 60_000);
    row.startedViewers = (await start).started;
    const windowStart = Date.now();
    const probes = { proxy: cpuProbe(server.pids), origin: cpuProbe(() => [origin.child.pid]), viewers: cpuProbe(() => [viewers.pid]) };
    for (const p of Object.values(probes)) p.start();
    const rss = [groupRssBytes(server.pids())];
    const rssTimer = setInterval(() => rss.push(groupRssBytes(server.pids())), 1_000);
    const originAtStart = await origin.stats();
    await end;
    clearInterval(rssTimer);
    const windowEnd = Date.now();
    row.cpu = Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, p.stop()]));
    rss.push(groupRssBytes(server.pids()));
    row.rssPeakBytes = Math.max(...rss);
    const originAtEnd = await origin.stats();
    row.viewers = await result;
    const originFinal = await origin.stats();
    row.extra = await server.extra();
    derive(row, { originAtStart, originAtEnd, originFinal, windowStart, windowEnd, settings });
  } finally {
    if (viewers) await stopChild(viewers, { timeoutMs: 3_000 });
    row.stop = await server.stop();
    await origin.stop();
  }
  return row;
}

export function derive(row, { originAtStart, originAtEnd, originFinal, windowStart, windowEnd, settings }) {
  const segmentMs = settings.segmentSeconds * 1000;
  // Segments published inside the window, early enough that every viewer had time to load them.
  const measured = originFinal.segments.filter((s) => s.publishedAt >= windowStart && s.publishedAt <= windowEnd - 2 * segmentMs);
  const requests = measured.reduce((sum, s) => sum + s.count, 0);
  row.node = {
    segmentsMeasured: measured.length,
    requestsPerSegment: measured.length ? requests / measured.length : NaN,
    maxRequestsPerSegment: Math.max(0, ...measured.map((s) => s.count)),
    playlistRequestsPerSecond: (originAtEnd.playlists - originAtStart.playlists) / ((windowEnd - windowStart) / 1000),
    connectionsInWindow: originAtEnd.connections - originAtStart.connections,
  };
}

export async function benchHls(settings = settingsFromEnv()) {
  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'relaydeck-bench-hls-'));
  const build = ensureBuiltAt(ROOT, process.env.BENCH_SKIP_BUILD === '1', progress);
  const rows = [];
  try {
    for (const target of targets(settings, tmpRoot)) rows.push(await runTarget(target, settings));
  } finally {
    rmSync(tmpRoot, { recursive: true, force: true });
  }
  return {
    settings,
    build,
    rows,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, nginx: nginxVersion() },
    nginxConfig: nginxHlsConfig({ dir: '<tmp>', port: '<port>', originPort: '<origin>', playlistValidMs: settings.segmentSeconds * 500 }),
  };
}

export function printHls({ settings, rows }, print = log) {
  const nginx = rows.find((r) => r.id === 'nginx');
  const ms = (n) => (Number.isFinite(n) ? `${n.toFixed(1)}ms` : '-');
  print(
    `\n== HLS (issue 5 point 5): ${settings.viewers} viewers of one live stream, ${settings.bitrate / 1e6} Mbit/s, ${settings.segmentSeconds} s segments of ${settings.segmentBytes.toLocaleString('en-US')} bytes, ${WINDOW_SEGMENTS} in the playlist; ${settings.seconds} s window`,
  );
  print(
    '   nginx: proxy_cache_lock on, proxy_cache_use_stale updating, playlists valid 1 s, segments 60 s; viewers behave like hls.js: reload the playlist every target duration (half when unchanged), load each new segment, start 2 segments behind the live edge',
  );
  print(
    table(
      [
        'proxy',
        'viewers kept up',
        'node req/segment (target 1)',
        'max',
        'node playlist req/s',
        'proxy cores',
        'CPU vs nginx',
        'RSS peak',
        'segment time p50/p99',
        'viewer errors',
        'machine busy',
      ],
      rows.map((r) => [
        r.label,
        `${r.viewers.keptUp}/${r.viewers.n}`,
        fmt.fixed(r.node.requestsPerSegment, 2),
        r.node.maxRequestsPerSegment,
        fmt.fixed(r.node.playlistRequestsPerSecond, 2),
        fmt.fixed(r.cpu.proxy.cores, 3),
        r.id === 'nginx' ? '1.00x' : fmt.ratio(r.cpu.proxy.cores, nginx?.cpu.proxy.cores),
        fmt.mb(r.rssPeakBytes),
        `${ms(r.viewers.segmentMs.p50)} / ${ms(r.viewers.segmentMs.p99)}`,
        r.viewers.errors,
        `${Math.round(r.cpu.proxy.machineBusyFraction * 100)}%`,
      ]),
    ),
  );
  print(
    `   answers by cache state (viewers' view, X-Cache-Status / x-relaydeck-cache): ${rows.map((r) => `${r.id} ${JSON.stringify(r.viewers.cacheAnswers)}`).join('; ')}`,
  );
  print(`   cores: ${rows.map((r) => `${r.id}: origin ${fmt.fixed(r.cpu.origin.cores)}, viewers ${fmt.fixed(r.cpu.viewers.cores)}`).join('; ')}`);
  print(
    `   segments measured (published in the window, 2 segments before its end): ${rows.map((r) => `${r.id} ${r.node.segmentsMeasured}`).join(', ')}; viewer segments mean/expected: ${rows.map((r) => `${r.id} ${fmt.fixed(r.viewers.segmentsPerViewer.mean, 1)}/${fmt.fixed(r.viewers.segmentsPerViewer.expected, 1)}`).join(', ')}`,
  );
  const relay = rows.find((r) => r.id === 'relay');
  const stream = relay?.extra?.hlsStreams?.[0];
  if (stream)
    print(
      `   relay's own stats: ${stream.viewers} viewers, hit ratio ${stream.hitRatio}, node requests saved ${stream.upstreamRequestsSaved.toLocaleString('en-US')}, bytes out/in ${fmt.ratio(stream.bytesOut, stream.bytesIn)}; cache ${fmt.mb(relay.extra.hlsCache.segmentBytes)} of ${fmt.mb(relay.extra.hlsCache.segmentMaxBytes)}`,
    );
  for (const r of rows) {
    const statuses = Object.entries(r.viewers.statuses).filter(([code]) => code !== '200');
    if (statuses.length || r.viewers.gaps)
      print(`   ${r.id}: non-200 answers ${JSON.stringify(Object.fromEntries(statuses))}, missed segments ${r.viewers.gaps}`);
    if (r.extra?.errorLogLines) print(`   ${r.id}: nginx error.log has ${r.extra.errorLogLines} line(s), e.g. ${JSON.stringify(r.extra.errorLogTail)}`);
  }
  print('   ("node req/segment" = node requests for the segments published in the window / their number; "kept up" = no missed segment and');
  print('    at least all but one of the expected segments loaded in the window; load generator, origin and proxy share this machine)');
}

/** Problems seen in a run, one line each (for run.mjs's anomaly list). */
export function hlsAnomalies({ rows }) {
  const out = [];
  for (const r of rows) {
    const where = `hls / ${r.label}`;
    if (r.viewers.keptUp < r.viewers.n)
      out.push(`${where}: ${r.viewers.n - r.viewers.keptUp}/${r.viewers.n} viewers did not keep up (${r.viewers.gaps} missed segments)`);
    if (r.viewers.errors) out.push(`${where}: ${r.viewers.errors} viewer errors, answers ${JSON.stringify(r.viewers.statuses)}`);
    if (r.id !== 'plain' && !(r.node.requestsPerSegment <= 1.05))
      out.push(`${where}: ${fmt.fixed(r.node.requestsPerSegment, 2)} node requests per segment (target 1)`);
    if (r.extra?.errorLogLines) out.push(`${where}: nginx error.log has ${r.extra.errorLogLines} line(s), e.g. ${JSON.stringify(r.extra.errorLogTail)}`);
    const warnings = (r.extra?.stderrTail ?? []).filter((line) => / (WARN|ERROR) /.test(line));
    if (warnings.length) out.push(`${where}: relay WARN/ERROR lines ${JSON.stringify(warnings)}`);
    if (r.stop?.killed) out.push(`${where}: did not stop within its timeout; killed`);
  }
  return out;
}

async function main() {
  const settings = settingsFromEnv();
  const watchdog = setTimeout(() => {
    process.stderr.write(`hls bench: exceeded BENCH_HLS_MAX_SECONDS=${settings.maxSeconds}\n`);
    killAllTracked();
    process.exit(3);
  }, settings.maxSeconds * 1000);
  watchdog.unref();
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (killAllTracked(), process.exit(130)));
  try {
    const results = await benchHls(settings);
    printHls(results);
    const anomalies = hlsAnomalies(results);
    log('\n== Anomalies');
    log(anomalies.length ? anomalies.map((line) => `   - ${line}`).join('\n') : '   none');
    mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    writeFileSync(RESULTS_FILE, `${JSON.stringify({ startedAt: new Date().toISOString(), ...results }, null, 2)}\n`);
    log(`results: ${path.relative(ROOT, RESULTS_FILE)}`);
  } catch (error) {
    process.stderr.write(`hls bench failed: ${error.stack ?? error}\n`);
    killAllTracked();
    process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
  }
}

const role = process.argv[2];
if (role === '--origin') await originMain(process.argv.slice(3));
else if (role === '--viewers') await viewersMain(process.argv.slice(3));
else if (process.argv[1] && path.resolve(process.argv[1]) === SELF) await main();
