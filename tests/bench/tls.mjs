// TLS bench (issue 14), the `tls` section of run.mjs (BENCH_ONLY=tls): RelayDeck's HTTPS listener
// against nginx (`listen ... ssl http2`, worker_processes 2) in the same run. Both serve the same
// test certificate (a throwaway CA and an ECDSA P-256 leaf for 127.0.0.1, made with `selfsigned`
// at start; every client verifies it against that CA) with the same TLS settings: TLS 1.2 and 1.3,
// TLS 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305 in the relay's order (server order), TLS
// 1.3 suites in the relay's order (TLS_AES_256_GCM_SHA384 first), OpenSSL's default curves.
//   a. HTTPS FLV: BENCH_TLS_VIEWERS (1000) viewers of one 2 Mbit/s stream from flv-origin.mjs,
//      HTTP/1.1 over TLS, one TLS session per viewer on both sides (viewers.mjs --ca): nginx
//      (proxy_buffering off: one upstream pull per viewer) against the relay's fan-out (one
//      pull). Proxy CPU and RSS over the window, like the FLV section; target relay CPU <= 0.8x
//      nginx's, RSS reported. The load generator decrypts every viewer's stream too (its CPU is
//      shown as "viewers.mjs cores").
//   b. HLS over HTTP/2: BENCH_TLS_HLS_VIEWERS (500) hls.js-like viewers (hls.mjs's live origin and
//      viewer logic) against nginx proxy_cache + proxy_cache_lock (hls.mjs's config, over ssl http2)
//      and the relay's hls route. One HTTP/2 session per viewer by default (each viewer is a
//      browser: one connection per origin; BENCH_TLS_HLS_PER_SESSION puts several viewers on one
//      session), stream window 6 MiB and session window 15 MiB as Chrome sets them. The protocol
//      is what ALPN picks: a server that does not offer h2 is run over HTTPS/1.1 (one keep-alive
//      connection per viewer) and its row says so; when the relay has no h2, nginx is also run
//      over HTTPS/1.1 so that the ratio compares like with like. Target relay CPU <= 1.5x nginx's,
//      as the mean over BENCH_TLS_ROUNDS interleaved rounds (relay, then nginx) of each relay run's
//      ratio to its round's nginx: one 12 s window swings by a third with the machine's state.
//      Each window opens once every viewer has started and the load has run
//      BENCH_TLS_HLS_WARMUP_SECONDS (20) more seconds (the steady state, as c's warm-up).
//      A last row (BENCH_TLS_FLOOR=0 leaves it out), run once, is Node's own HTTP/2 server with the
//      same TLS settings and a minimal in-memory cache (h2-floor.mjs): the floor any Node server pays.
//   c. TLS handshakes per CPU-second: a forked Node client runs BENCH_TLS_HANDSHAKE_CONCURRENCY
//      loops of full handshakes (no session resumption: each connection is new, and a resumed
//      one would be counted and reported) + one GET /healthz (the relay's health probe; nginx
//      answers the same JSON with `return 200`) for BENCH_TLS_HANDSHAKE_SECONDS, after
//      BENCH_TLS_HANDSHAKE_WARMUP_SECONDS (6) of the same load (V8's warm-up, for every server);
//      handshakes per second divided by the server's CPU-seconds in the window. Target relay >=
//      0.5x nginx's. The client pays for its half of every handshake on the same cores.
//      A third row (BENCH_TLS_FLOOR=0 leaves it out): Node's own HTTP/2 server (h2-floor.mjs) with
//      the same TLS settings answering /healthz with nothing else to do, the floor of any Node server.
// Every run starts a fresh origin and server, waits (bounded) for a quiet machine first, and
// marks a run [disturbed] when processes outside the bench used more than 0.25 core in its
// window, [saturated] when the machine was >= 95 % busy (or viewers fell behind).
//
// One file, three roles: imported by run.mjs (benchTls, printTls), forked as the HLS viewer load
// (`--hls-viewers`) and as the handshake client (`--handshakes`).
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { Connection, derive as deriveHls, nginxHlsConfig, startOrigin as startHlsOrigin, viewersMain as hlsViewersMain } from './hls.mjs';
import {
  HOST,
  NGINX_WORKERS,
  ask,
  cpuProbe,
  envNumber,
  fmt,
  forkHelper,
  forkTracked,
  groupRssBytes,
  nextMessage,
  nginxPrelude,
  nginxVersion,
  sleep,
  spawnServer,
  startNginx,
  stopChild,
  table,
  tcpListenDrops,
} from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const BENCH_DIR = path.dirname(SELF);
const ROOT = path.resolve(BENCH_DIR, '..', '..');

/** Issue 14's targets. */
export const TLS_GOALS = { flvCpuRatioMax: 0.8, hlsCpuRatioMax: 1.5, handshakeRatioMin: 0.5, minRateFraction: 0.9 };
/** A run during which processes outside the bench used more than this many cores is marked [disturbed]. */
const OTHER_CORES_DISTURBED = 0.25;
/** The relay's TLS 1.2 ciphers and TLS 1.3 suites, in its order (electron/engine/relay/tls/server-options.ts). */
const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];
/** HTTP/2 flow-control windows the HLS viewers announce (Chrome's: 6 MiB per stream, 15 MiB per session). */
const H2_STREAM_WINDOW = 6 * 1024 * 1024;
const H2_SESSION_WINDOW = 15 * 1024 * 1024;
const FLV_PATH = '/live/stream.flv';
const HLS_PATH = '/live/index.m3u8';
const TINY_PATH = '/healthz';

const argOf = (args, name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const mean = (values) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);
/** Mean, least and most of the rounds' ratios (rangeText prints it); undefined when no round gave one. */
const spread = (values) => (values.length ? { mean: mean(values), min: Math.min(...values), max: Math.max(...values) } : undefined);
const inc = (counts, key, by = 1) => (counts[key] = (counts[key] ?? 0) + by);

/** The section's settings from the environment (documented in run.mjs's header). */
export function tlsSettingsFromEnv(env = process.env) {
  const num = (name, fallback, min, max) => envNumber(env, name, fallback, min, max);
  const hlsSegmentSeconds = 2;
  const hlsBitrate = 2_000_000;
  const out = {
    only: (env.BENCH_TLS_ONLY || 'flv,hls,handshake').split(',').map((s) => s.trim()),
    rounds: num('BENCH_TLS_ROUNDS', 2, 1, 5),
    flvViewers: num('BENCH_TLS_VIEWERS', 1000, 1, 5000),
    flvSeconds: num('BENCH_TLS_VIEW_SECONDS', 10, 2, 120),
    // An extra relay row with flv.writeBatchMs set (the setting for large audiences); "none" for no such row.
    flvBatchMs: ['none', '0', 'off'].includes((env.BENCH_TLS_FLV_BATCH ?? '50').trim()) ? 0 : num('BENCH_TLS_FLV_BATCH', 50, 1, 100),
    bitrate: num('BENCH_BITRATE', 2_000_000, 10_000, 50_000_000),
    hlsViewers: num('BENCH_TLS_HLS_VIEWERS', 500, 1, 2000),
    hlsSeconds: num('BENCH_TLS_HLS_SECONDS', 12, 5, 300),
    hlsPerSession: num('BENCH_TLS_HLS_PER_SESSION', 1, 1, 100),
    // Rows for Node's own HTTP/2 server (h2-floor.mjs) in parts b and c: what any Node server pays for the same clients.
    floor: env.BENCH_TLS_FLOOR !== '0',
    hlsSegmentSeconds,
    hlsSegmentBytes: Math.round((hlsBitrate / 8) * hlsSegmentSeconds),
    hlsBitrate,
    hlsRampMs: 4_000,
    hlsStartWaitMs: 15_000,
    // The same reason as handshakeWarmupSeconds: the window opens once every viewer has started
    // and the load has run this much longer, on every server. A fresh relay's first seconds of
    // this load include V8 compiling its request path, and, once about 2 GB have been served, a
    // one-time deoptimisation of the functions that update the byte counters (a count past 2^31
    // changes the field from small integer to double, and V8 recompiles what used it).
    hlsWarmupSeconds: num('BENCH_TLS_HLS_WARMUP_SECONDS', 20, 0, 120),
    handshakeSeconds: num('BENCH_TLS_HANDSHAKE_SECONDS', 6, 1, 60),
    // V8 compiles and optimises the handshake and request path during the first few thousand
    // connections (a fresh Node server's first 6 s of this load cost it a fifth more CPU per
    // handshake than the next 6 s); the window measures the steady state a serving relay is in.
    handshakeWarmupSeconds: num('BENCH_TLS_HANDSHAKE_WARMUP_SECONDS', 6, 1, 60),
    handshakeConcurrency: num('BENCH_TLS_HANDSHAKE_CONCURRENCY', 8, 1, 256),
    handshakeVersions: (env.BENCH_TLS_HANDSHAKE_VERSIONS || 'TLSv1.3').split(',').map((s) => s.trim()),
  };
  for (const part of out.only) if (!['flv', 'hls', 'handshake'].includes(part)) throw new Error(`BENCH_TLS_ONLY: unknown part "${part}" (flv, hls, handshake)`);
  for (const v of out.handshakeVersions) if (!['TLSv1.2', 'TLSv1.3'].includes(v)) throw new Error('BENCH_TLS_HANDSHAKE_VERSIONS: TLSv1.2 and/or TLSv1.3');
  return out;
}

// ================================================================ certificates and peers

/** A throwaway CA and a leaf for 127.0.0.1 and localhost that it signs (ECDSA P-256), as PEM files in `dir`. */
async function makeCertificates(dir) {
  const ca = await generate([{ name: 'commonName', value: 'RelayDeck Bench CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const notBeforeDate = new Date(Date.now() - 60_000);
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + 2 * 86_400_000),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const caFile = path.join(dir, 'ca.pem');
  const certFile = path.join(dir, 'leaf-cert.pem');
  const keyFile = path.join(dir, 'leaf-key.pem');
  writeFileSync(caFile, ca.cert);
  writeFileSync(certFile, leaf.cert);
  writeFileSync(keyFile, leaf.private, { mode: 0o600 });
  const x509 = new X509Certificate(leaf.cert);
  return {
    caFile,
    certFile,
    keyFile,
    ca: Buffer.from(ca.cert),
    leaf: { subject: x509.subject, subjectAltName: x509.subjectAltName, key: 'EC P-256', fingerprint256: x509.fingerprint256 },
  };
}

/** nginx's TLS lines (inside a server block) and the tiny route of part c. */
function nginxSsl({ certFile, keyFile }) {
  return `        ssl_certificate ${certFile};
        ssl_certificate_key ${keyFile};
        # The relay's TLS settings: TLS 1.2 and 1.3, its TLS 1.2 ciphers and TLS 1.3 suites in its order, server order.
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ${TLS12_CIPHERS.join(':')};
        ssl_prefer_server_ciphers on;
        ssl_conf_command Ciphersuites ${TLS13_SUITES.join(':')};
        # Part c's tiny route: the relay's health probe answer.
        location = ${TINY_PATH} {
            default_type application/json;
            return 200 '{"status":"ok"}';
        }
`;
}

/** Parts a and c: HTTP-FLV streamed unbuffered, as the FLV section's nginx, over ssl (+ http2, unused by these HTTP/1.1 clients). */
function nginxTlsFlvConfig({ dir, port, originPort, certs }) {
  return `${nginxPrelude({ dir, writtenBy: 'tests/bench/tls.mjs' })}
    server {
        listen ${HOST}:${port} ssl http2;
${nginxSsl(certs)}
        location /live/ {
            proxy_pass http://${HOST}:${originPort};
            proxy_buffering off;
            proxy_buffer_size 64k;
            proxy_http_version 1.1;
            # Unused with buffering off; nginx's config check requires it once proxy_buffer_size is 64k.
            proxy_buffers 4 64k;
        }
    }
}
`;
}

function nginxTlsHlsConfig({ dir, port, originPort, certs, segmentSeconds }) {
  return nginxHlsConfig({
    dir,
    port,
    originPort,
    playlistValidMs: segmentSeconds * 500,
    listen: `${HOST}:${port} ssl http2`,
    serverExtra: nginxSsl(certs),
  });
}

function relayConfig({ originUrl, token, certs, route, flv }) {
  return {
    relay: { host: HOST, port: 0, shutdownGraceMs: 1_000 },
    ...(flv ? { flv } : {}),
    admin: { host: HOST, port: 0, token },
    tls: { enabled: true, port: 0, certificates: [{ certFile: certs.certFile, keyFile: certs.keyFile }] },
    nodes: [{ id: 'a', url: originUrl }],
    routes: [route],
  };
}

const FLV_ROUTE = { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' };
const HLS_ROUTE = { id: 'live', path: '/live/', kind: 'hls', mode: 'proxy' };

/** nginx with `config`, as root its workers (nobody) must be able to write the temp and cache folders. */
async function startTlsNginx(ctx, name, originPort, config) {
  const dir = mkdtempSync(path.join(ctx.tmpRoot, `nginx-${name}-`));
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  mkdirSync(path.join(dir, 'cache'), { recursive: true });
  if (process.getuid?.() === 0) for (const d of [ctx.tmpRoot, dir, path.join(dir, 'tmp'), path.join(dir, 'cache')]) chmodSync(d, 0o777);
  const nginx = await startNginx({ dir, originPort, config: ({ port }) => config({ dir, port, originPort, certs: ctx.certs }) });
  return {
    url: nginx.url.replace(/^http:/, 'https:'),
    pids: nginx.pids,
    stop: () => stopChild(nginx.child, { signal: 'SIGTERM', timeoutMs: 5_000 }),
    async check() {
      const lines = existsSync(nginx.errorLog) ? readFileSync(nginx.errorLog, 'utf8').trim().split('\n').filter(Boolean) : [];
      return { alive: nginx.child.exitCode === null && nginx.child.signalCode === null, errorLogLines: lines.length, errorLogTail: lines.slice(-5) };
    },
  };
}

/** The relay with its HTTPS listener (tls.port 0): its URL from GET /api/tls. */
async function startTlsRelay(ctx, name, originUrl, route, flv) {
  const dir = mkdtempSync(path.join(ctx.tmpRoot, `relay-${name}-`));
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, `${JSON.stringify(relayConfig({ originUrl, token, certs: ctx.certs, route, flv }), null, 2)}\n`, { mode: 0o600 });
  // BENCH_RELAY_NODE_ARGS: extra Node flags for the relay alone (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it).
  const nodeArgs = (process.env.BENCH_RELAY_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const server = await spawnServer(process.execPath, [...nodeArgs, path.join(ROOT, 'electron', 'bin', 'relaydeck.mjs'), 'serve', '--config', configFile], {
    ready: [/relay listening on (http:\/\/\S+)/, /admin listening on (http:\/\/\S+)/],
    cwd: ROOT,
    env: { RELAYDECK_HOME: dir, RELAYDECK_LOG_LEVEL: 'warn' },
    stderrFile: path.join(dir, 'stderr.log'),
  });
  const stop = () => stopChild(server.child, { signal: 'SIGTERM', timeoutMs: 6_000 });
  const [, adminUrl] = server.matches;
  const api = async (p) => {
    const response = await fetch(adminUrl + p, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`admin ${p}: HTTP ${response.status}`);
    return response.json();
  };
  let tlsStatus;
  try {
    tlsStatus = await api('/api/tls');
    if (!tlsStatus.enabled || !/^https:\/\//.test(tlsStatus.url ?? '')) throw new Error(`GET /api/tls says ${JSON.stringify(tlsStatus)}: no HTTPS listener`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: tlsStatus.url.replace(/\/$/, ''),
    pids: () => [server.child.pid],
    stop,
    tlsStatus,
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
        return { ...out, stats: (await api('/api/stats')).totals };
      } catch (error) {
        return { ...out, adminError: error.message };
      }
    },
  };
}

async function startFlvOrigin(bitrate) {
  const { child, ready } = await forkHelper(path.join(BENCH_DIR, 'flv-origin.mjs'), ['--bitrate', String(bitrate)]);
  return {
    pid: child.pid,
    port: ready.port,
    url: `http://${HOST}:${ready.port}`,
    stats: () => ask(child, 'stats'),
    reset: () => ask(child, 'reset'),
    stop: () => stopChild(child, { timeoutMs: 3_000 }),
  };
}

const LABELS = {
  nginx: `nginx ${nginxVersion()} ssl http2 (${NGINX_WORKERS} workers)`,
  relay: 'RelayDeck HTTPS listener',
  'relay-batch': 'RelayDeck HTTPS listener, flv.writeBatchMs',
  floor: "Node's own HTTP/2 server, minimal cache (floor)",
};

/** The floor rows of parts b and c (BENCH_TLS_FLOOR): Node's HTTP/2 server with the bench's TLS settings and a minimal cache (h2-floor.mjs). */
async function startH2Floor(ctx, originPort, segmentSeconds) {
  const child = forkTracked(path.join(BENCH_DIR, 'h2-floor.mjs'), [
    ...['--origin-port', String(originPort), '--cert', ctx.certs.certFile, '--key', ctx.certs.keyFile],
    ...['--ciphers', [...TLS13_SUITES, ...TLS12_CIPHERS].join(':'), '--playlist-ms', String(segmentSeconds * 500)],
  ]);
  const ready = await nextMessage(child, 'ready', 10_000, 'h2-floor.mjs');
  return {
    url: `https://${HOST}:${ready.port}`,
    pids: () => [child.pid],
    stop: () => stopChild(child, { signal: 'SIGTERM', timeoutMs: 3_000 }),
    check: async () => ({ alive: child.exitCode === null && child.signalCode === null }),
  };
}

/** A part a / c server: nginx (FLV config) or the relay (FLV route), in front of the FLV origin. */
function startFlvServer(ctx, id, origin) {
  if (id === 'nginx') return startTlsNginx(ctx, 'flv', origin.port, nginxTlsFlvConfig);
  if (id === 'floor') return startH2Floor(ctx, origin.port, 2);
  return startTlsRelay(ctx, 'flv', origin.url, FLV_ROUTE, id === 'relay-batch' ? { writeBatchMs: ctx.settings.flvBatchMs } : undefined);
}

/** The part a rows: nginx, the relay with its defaults, and (BENCH_TLS_FLV_BATCH) the relay with flv.writeBatchMs. */
const flvIds = (settings) => ['nginx', 'relay', ...(settings.flvBatchMs ? ['relay-batch'] : [])];
const flvLabel = (ctx, id) => (id === 'relay-batch' ? `${LABELS[id]} ${ctx.settings.flvBatchMs}` : LABELS[id]);

// ================================================================ small TLS clients (bench side)

/** One HTTPS/1.1 GET (body read, at most 64 KB kept), verified against the test CA. */
function httpsGet(url, ca, timeoutMs = 5_000) {
  return new Promise((resolve) => {
    const req = https.get(url, { ca, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      let bytes = 0;
      res.on('data', (chunk) => {
        bytes += chunk.length;
        if (bytes <= 65_536) chunks.push(chunk);
      });
      res.on('end', () =>
        resolve({
          status: res.statusCode,
          bytes,
          body: Buffer.concat(chunks).toString('utf8', 0, 200),
          tls: `${res.socket.getProtocol?.()} ${res.socket.getCipher?.()?.standardName}`,
        }),
      );
      res.on('error', (error) => resolve({ status: 0, error: error.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ status: 0, error: error.code || error.message }));
  });
}

/** What ALPN a server picks when offered h2 and http/1.1 (a browser's offer). */
function alpnOf(url, ca) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const socket = tls.connect({ host: u.hostname, port: Number(u.port), ca, ALPNProtocols: ['h2', 'http/1.1'] });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: 'timeout' });
    }, 5_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve({ alpn: socket.alpnProtocol || 'none', protocol: socket.getProtocol(), cipher: socket.getCipher()?.standardName });
      socket.end();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve({ error: error.code || error.message });
    });
  });
}

// ================================================================ the section

/**
 * Run the parts in BENCH_TLS_ONLY. `hooks`: progress(line), anomaly(text), note(text), and
 * waitQuiet() (run.mjs's bounded wait for a quiet machine, or undefined for none).
 */
export async function benchTls(hooks, settings = tlsSettingsFromEnv()) {
  if (!existsSync(path.join(ROOT, 'dist', 'shared', 'config', 'tls.js')))
    throw new Error('tls section: this dist/ has no HTTPS listener (dist/shared/config/tls.js is missing); run `npm run build:node`');
  const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'relaydeck-bench-tls-'));
  const ctx = { settings, hooks, tmpRoot, certs: await makeCertificates(tmpRoot) };
  const out = {
    settings,
    goals: TLS_GOALS,
    certificate: ctx.certs.leaf,
    peerConfig: {
      nginxFlvAndHandshake: nginxTlsFlvConfig({
        dir: '<tmp>',
        port: '<port>',
        originPort: '<origin>',
        certs: { certFile: '<leaf-cert.pem>', keyFile: '<leaf-key.pem>' },
      }),
      nginxHls: nginxTlsHlsConfig({
        dir: '<tmp>',
        port: '<port>',
        originPort: '<origin>',
        certs: { certFile: '<leaf-cert.pem>', keyFile: '<leaf-key.pem>' },
        segmentSeconds: settings.hlsSegmentSeconds,
      }),
      relay: relayConfig({
        originUrl: 'http://127.0.0.1:<origin>',
        token: '<random>',
        certs: { certFile: '<leaf-cert.pem>', keyFile: '<leaf-key.pem>' },
        route: { ...FLV_ROUTE, kind: '<flv (parts a, c) | hls (part b)>' },
      }),
      notes:
        'nginx: ssl_session_cache and ssl_session_tickets at their defaults (none / on), ssl_buffer_size 16k (default), access_log off. Relay: tls defaults (TLS 1.2+, session tickets on), logs at their defaults (every request is a line in access.log, and a viewer request one in sessions.jsonl too). No client resumes a session.',
    },
  };
  try {
    out.partSeconds = {};
    const part = async (name, fn) => {
      const started = Date.now();
      out[name] = await fn(ctx);
      out.partSeconds[name] = (Date.now() - started) / 1000;
    };
    if (settings.only.includes('flv')) await part('flv', benchFlv);
    if (settings.only.includes('hls')) await part('hls', benchHlsH2);
    if (settings.only.includes('handshake')) await part('handshake', benchHandshakes);
    out.summary = tlsSummary(out);
  } finally {
    rmSync(tmpRoot, { recursive: true, force: true });
  }
  return out;
}

/** Cores used outside the bench in a window: every process's task time minus ours. */
function otherCoresOf(cpu) {
  const ours = Object.values(cpu).reduce((a, p) => a + p.cores, 0);
  return Math.max(0, Object.values(cpu)[0].machineTaskCores - ours);
}

function startProbes(pidsByName) {
  const probes = Object.fromEntries(Object.entries(pidsByName).map(([k, fn]) => [k, cpuProbe(fn)]));
  for (const p of Object.values(probes)) p.start();
  return () => Object.fromEntries(Object.entries(probes).map(([k, p]) => [k, p.stop()]));
}

/** Anomalies about a server's health after a run. */
function checkServer(ctx, where, check) {
  const { anomaly } = ctx.hooks;
  if (!check) return;
  if (check.alive === false)
    anomaly(`${where}: process died during the run (exit ${check.exitCode}, signal ${check.signal}); last stderr: ${JSON.stringify(check.stderrLast ?? [])}`);
  if (check.adminError) anomaly(`${where}: admin API failed after the run: ${check.adminError}`);
  if (check.stderrTail?.length) anomaly(`${where}: ${check.stderrLines} stderr line(s); WARN/ERROR: ${JSON.stringify(check.stderrTail)}`);
  if (check.errorLogLines) anomaly(`${where}: nginx error.log has ${check.errorLogLines} line(s), e.g. ${JSON.stringify(check.errorLogTail)}`);
  if (check.stats?.active) anomaly(`${where}: relay stats say ${check.stats.active} proxied request(s) still active after the run`);
}

async function quietBefore(ctx) {
  const quiet = await ctx.hooks.waitQuiet?.();
  if (quiet && !quiet.quiet)
    ctx.hooks.progress(
      `machine not quiet before this run: other processes at ${fmt.fixed(quiet.otherCores)} cores after ${(quiet.waitedMs / 1000).toFixed(0)} s`,
    );
  return quiet;
}

// ---------------------------------------------------------------- a. HTTPS FLV

async function flvRun(ctx, id, round) {
  const { settings: s, hooks } = ctx;
  const quiet = await quietBefore(ctx);
  const n = s.flvViewers;
  hooks.progress(`tls flv round ${round}: ${n} HTTPS viewers via ${flvLabel(ctx, id)}`);
  const origin = await startFlvOrigin(s.bitrate);
  const row = { id, label: flvLabel(ctx, id), round, viewers: n, quietBefore: quiet, relay: id !== 'nginx' };
  const where = `tls flv ${n} / ${row.label} (round ${round})`;
  let server;
  let viewers;
  try {
    server = await startFlvServer(ctx, id, origin);
    row.sanity = await httpsGet(server.url + TINY_PATH, ctx.certs.ca);
    if (row.sanity.status !== 200) throw new Error(`${where}: GET ${TINY_PATH} over HTTPS gave ${row.sanity.status} ${row.sanity.error ?? ''}`);
    await origin.reset();
    const listenAtStart = tcpListenDrops();
    viewers = forkTracked(path.join(BENCH_DIR, 'viewers.mjs'), [
      ...['--url', server.url + FLV_PATH, '--n', String(n), '--seconds', String(s.flvSeconds), '--bitrate', String(s.bitrate)],
      ...['--ca', ctx.certs.caFile, '--first-byte-wait-ms', '20000'],
    ]);
    const startBudget = 60_000;
    const vStart = nextMessage(viewers, 'window-start', startBudget, 'viewers.mjs');
    const vEnd = nextMessage(viewers, 'window-end', startBudget + (s.flvSeconds + 15) * 1000, 'viewers.mjs');
    const vResult = nextMessage(viewers, 'result', startBudget + (s.flvSeconds + 60) * 1000, 'viewers.mjs');
    await vStart;
    row.listenOverflowsInRamp = tcpListenDrops().overflows - listenAtStart.overflows;
    const stop = startProbes({ proxy: server.pids, origin: () => [origin.pid], viewers: () => [viewers.pid], bench: () => [process.pid] });
    const rss = [groupRssBytes(server.pids())];
    const rssTimer = setInterval(() => rss.push(groupRssBytes(server.pids())), 1_000);
    try {
      row.originAtStart = await origin.stats();
      await vEnd;
    } finally {
      clearInterval(rssTimer);
    }
    row.cpu = stop();
    rss.push(groupRssBytes(server.pids()));
    row.rssPeakBytes = Math.max(...rss);
    row.originAtEnd = await origin.stats();
    viewers.send({ cmd: 'leave' });
    row.result = await vResult;
    const leftAt = Date.now();
    await sleep(2_000);
    row.originAfterLeave = await origin.stats();
    row.check = await server.check();
    if (row.originAfterLeave.liveOpen > 0) {
      // Bounded follow-up, as the FLV section: does it clear by itself, and when?
      let stats = row.originAfterLeave;
      while (stats.liveOpen > 0 && Date.now() - leftAt < 12_000) {
        await sleep(250);
        stats = await origin.stats();
      }
      row.upstreamOpenLater = { afterMs: Date.now() - leftAt, open: stats.liveOpen };
    }
    deriveFlv(row, s);
    noteFlv(ctx, row, where);
  } finally {
    if (viewers) await stopChild(viewers, { timeoutMs: 3_000 });
    if (server) row.stop = await server.stop();
    if (row.stop?.killed) hooks.anomaly(`${where}: did not exit within the stop timeout after SIGTERM; killed`);
    await origin.stop();
  }
  return row;
}

function deriveFlv(row, s) {
  const r = row.result;
  row.viewersAtRate = r.n - r.belowMinRate;
  row.minRateBytesPerSec = r.rateBytesPerSec.min;
  row.upstream = {
    expected: row.relay ? 1 : row.viewers,
    atWindowStart: row.originAtStart.liveOpen,
    opened: row.originAtEnd.liveOpened,
    peak: row.originAtEnd.livePeak,
  };
  row.upstreamOpenAfterLeave = row.originAfterLeave.liveOpen;
  row.originInWindow = { drops: row.originAtEnd.drops - row.originAtStart.drops, tagsSkipped: row.originAtEnd.tagsSkipped - row.originAtStart.tagsSkipped };
  row.otherCores = otherCoresOf(row.cpu);
  row.disturbed = row.otherCores > OTHER_CORES_DISTURBED;
  row.machineBusy = row.cpu.proxy.machineBusyFraction;
  row.saturated = [];
  if (row.machineBusy >= 0.95) row.saturated.push(`machine ${Math.round(row.machineBusy * 100)}% busy`);
  if (row.originInWindow.tagsSkipped) row.saturated.push(`origin fell ${row.originInWindow.tagsSkipped} tags behind`);
  if (row.originInWindow.drops) row.saturated.push(`origin skipped ${row.originInWindow.drops} writes to full sockets`);
  if (row.viewersAtRate < r.n) row.saturated.push(`${r.n - row.viewersAtRate}/${r.n} viewers below ${TLS_GOALS.minRateFraction * 100}% of the bitrate`);
  row.expectedBytesPerSec = s.bitrate / 8;
}

function noteFlv(ctx, row, where) {
  const { anomaly, note } = ctx.hooks;
  const r = row.result;
  if (r.withFirstByte < r.n) anomaly(`${where}: only ${r.withFirstByte}/${r.n} viewers got a first byte`);
  if (r.statuses['200'] !== r.n) anomaly(`${where}: viewer statuses ${JSON.stringify(r.statuses)}`);
  if (Object.keys(r.errors).length) anomaly(`${where}: viewer socket errors ${JSON.stringify(r.errors)}`);
  if (r.closedEarly) anomaly(`${where}: ${r.closedEarly} viewer(s) were closed by the server before the end`);
  if (Object.keys(r.tls ?? {}).some((k) => k.endsWith('resumed'))) anomaly(`${where}: resumed TLS sessions among the viewers ${JSON.stringify(r.tls)}`);
  if (row.viewersAtRate < r.n)
    anomaly(
      `${where}: ${r.n - row.viewersAtRate}/${r.n} viewers got less than 90% of the bitrate (min ${fmt.int((row.minRateBytesPerSec * 8) / 1000)} kbit/s)`,
    );
  const u = row.upstream;
  if (u.atWindowStart !== u.expected) anomaly(`${where}: origin had ${u.atWindowStart} live FLV pulls open at the window start (expected ${u.expected})`);
  if (row.relay && (u.opened !== 1 || u.peak !== 1)) anomaly(`${where}: origin served ${u.opened} live pull(s), at most ${u.peak} at once (expected 1)`);
  if (row.upstreamOpenAfterLeave)
    anomaly(
      `${where}: ${row.upstreamOpenAfterLeave} live FLV pull(s) still open at the origin 2 s after the viewers left; ${row.upstreamOpenLater.open} still open ${row.upstreamOpenLater.afterMs} ms after (flv.idleCloseMs default is 1500 ms)`,
    );
  if (row.machineBusy >= 0.95) anomaly(`${where}: machine ${Math.round(row.machineBusy * 100)}% busy in the window: the figures of this run are distorted`);
  if (row.disturbed)
    anomaly(`${where}: processes outside the bench used ${fmt.fixed(row.otherCores)} cores during the window: this run's figures are disturbed`);
  if (row.listenOverflowsInRamp)
    note(`${where}: ${row.listenOverflowsInRamp} TCP listen-queue overflow(s) while ${row.viewers} viewers connected (SYNs retried)`);
  checkServer(ctx, where, row.check);
}

async function benchFlv(ctx) {
  const runs = [];
  // Interleaved rounds: nginx and the relay of one round run back to back (same machine conditions).
  for (let round = 1; round <= ctx.settings.rounds; round += 1) for (const id of flvIds(ctx.settings)) runs.push(await flvRun(ctx, id, round));
  const rows = flvIds(ctx.settings).map((id) => {
    const mine = runs.filter((r) => r.id === id && r.cpu);
    if (!mine.length) return undefined;
    const perRound = mine.map((r) => {
      const ref = runs.find((x) => x.id === 'nginx' && x.round === r.round && x.cpu);
      return {
        round: r.round,
        proxyCores: r.cpu.proxy.cores,
        nginxCores: ref?.cpu.proxy.cores,
        cpuRatio: ref ? r.cpu.proxy.cores / ref.cpu.proxy.cores : NaN,
        rssPeakBytes: r.rssPeakBytes,
        rssRatio: ref ? r.rssPeakBytes / ref.rssPeakBytes : NaN,
        otherCores: r.otherCores,
        machineBusy: r.machineBusy,
        saturated: r.saturated,
        disturbed: r.disturbed,
      };
    });
    const ratios = perRound.map((p) => p.cpuRatio).filter(Number.isFinite);
    const rssRatios = perRound.map((p) => p.rssRatio).filter(Number.isFinite);
    return {
      id,
      label: mine[0].label,
      relay: id !== 'nginx',
      rounds: mine.length,
      perRound,
      viewers: mine[0].viewers,
      cores: {
        proxy: mean(mine.map((r) => r.cpu.proxy.cores)),
        origin: mean(mine.map((r) => r.cpu.origin.cores)),
        viewers: mean(mine.map((r) => r.cpu.viewers.cores)),
      },
      cpuRatio: spread(ratios),
      rssPeakBytes: Math.max(...mine.map((r) => r.rssPeakBytes)),
      rssRatio: spread(rssRatios),
      viewersAtRate: Math.min(...mine.map((r) => r.viewersAtRate)),
      minRateBytesPerSec: Math.min(...mine.map((r) => r.minRateBytesPerSec)),
      firstByteP99Ms: Math.max(...mine.map((r) => r.result.firstByteMs.p99)),
      upstream: {
        opened: Math.max(...mine.map((r) => r.upstream.opened)),
        peak: Math.max(...mine.map((r) => r.upstream.peak)),
        expected: mine[0].upstream.expected,
      },
      upstreamOpenAfterLeave: Math.max(...mine.map((r) => r.upstreamOpenAfterLeave)),
      upstreamOpenLater: mine.map((r) => r.upstreamOpenLater).find(Boolean),
      tls: mine[0].result.tls,
      machineBusy: mean(mine.map((r) => r.machineBusy)),
      otherCores: mean(mine.map((r) => r.otherCores)),
      otherCoresMax: Math.max(...mine.map((r) => r.otherCores)),
      disturbedRounds: mine.filter((r) => r.disturbed).map((r) => r.round),
      saturated: mine.flatMap((r) => r.saturated.map((why) => `round ${r.round}: ${why}`)),
    };
  });
  return { rows: rows.filter(Boolean), runs };
}

// ---------------------------------------------------------------- b. HLS over HTTP/2

async function hlsRun(ctx, id, wanted, round) {
  const { settings: s, hooks } = ctx;
  const quiet = await quietBefore(ctx);
  const hlsSettings = { segmentSeconds: s.hlsSegmentSeconds, segmentBytes: s.hlsSegmentBytes };
  const origin = await startHlsOrigin(hlsSettings);
  const row = { id, relay: id === 'relay', round, quietBefore: quiet };
  let server;
  let viewers;
  try {
    server =
      id === 'nginx'
        ? await startTlsNginx(ctx, 'hls', origin.port, ({ dir, port, originPort, certs }) =>
            nginxTlsHlsConfig({ dir, port, originPort, certs, segmentSeconds: s.hlsSegmentSeconds }),
          )
        : id === 'floor'
          ? await startH2Floor(ctx, origin.port, s.hlsSegmentSeconds)
          : await startTlsRelay(ctx, 'hls', origin.url, HLS_ROUTE);
    row.alpn = await alpnOf(server.url, ctx.certs.ca);
    if (row.alpn.error) throw new Error(`tls hls / ${LABELS[id]}: TLS handshake failed: ${row.alpn.error}`);
    row.protocol = wanted === 'http/1.1' || row.alpn.alpn !== 'h2' ? 'http/1.1' : 'h2';
    row.label = `${LABELS[id]}, ${row.protocol === 'h2' ? 'HTTP/2' : `HTTPS/1.1${row.alpn.alpn === 'h2' ? ' (forced)' : ' (no h2 in ALPN)'}`}`;
    const roundText = round > 0 && s.rounds > 1 ? ` (round ${round})` : '';
    const where = `tls hls / ${row.label}${roundText}`;
    hooks.progress(`tls hls${roundText}: ${s.hlsViewers} viewers via ${row.label}`);
    row.sanity = await httpsGet(server.url + HLS_PATH, ctx.certs.ca);
    if (row.sanity.status !== 200) throw new Error(`${where}: GET ${HLS_PATH} gave ${row.sanity.status} ${row.sanity.error ?? ''}`);
    delete row.sanity.body;
    viewers = forkTracked(SELF, [
      '--hls-viewers',
      ...['--url', server.url + HLS_PATH, '--n', String(s.hlsViewers), '--seconds', String(s.hlsSeconds)],
      ...['--target-ms', String(s.hlsSegmentSeconds * 1000), '--ramp-ms', String(s.hlsRampMs), '--start-wait-ms', String(s.hlsStartWaitMs)],
      ...['--warmup-ms', String(s.hlsWarmupSeconds * 1000)],
      ...['--ca', ctx.certs.caFile, '--protocol', row.protocol, '--per-session', String(s.hlsPerSession)],
    ]);
    const budget = s.hlsRampMs + s.hlsStartWaitMs + s.hlsWarmupSeconds * 1000;
    const start = nextMessage(viewers, 'window-start', budget + 15_000, 'hls viewers');
    const end = nextMessage(viewers, 'window-end', budget + s.hlsSeconds * 1000 + 30_000, 'hls viewers');
    const result = nextMessage(viewers, 'result', budget + s.hlsSeconds * 1000 + 60_000, 'hls viewers');
    row.startedViewers = (await start).started;
    const windowStart = Date.now();
    const stop = startProbes({ proxy: server.pids, origin: () => [origin.child.pid], viewers: () => [viewers.pid], bench: () => [process.pid] });
    const rss = [groupRssBytes(server.pids())];
    const rssTimer = setInterval(() => rss.push(groupRssBytes(server.pids())), 1_000);
    let originAtStart;
    try {
      originAtStart = await origin.stats();
      await end;
    } finally {
      clearInterval(rssTimer);
    }
    const windowEnd = Date.now();
    row.cpu = stop();
    rss.push(groupRssBytes(server.pids()));
    row.rssPeakBytes = Math.max(...rss);
    const originAtEnd = await origin.stats();
    row.viewers = await result;
    const originFinal = await origin.stats();
    deriveHls(row, { originAtStart, originAtEnd, originFinal, windowStart, windowEnd, settings: hlsSettings });
    row.check = await server.check();
    row.otherCores = otherCoresOf(row.cpu);
    row.disturbed = row.otherCores > OTHER_CORES_DISTURBED;
    row.machineBusy = row.cpu.proxy.machineBusyFraction;
    noteHls(ctx, row, where);
  } finally {
    if (viewers) await stopChild(viewers, { timeoutMs: 3_000 });
    if (server) row.stop = await server.stop();
    if (row.stop?.killed) hooks.anomaly(`tls hls / ${row.label ?? id}: did not exit within the stop timeout after SIGTERM; killed`);
    await origin.stop();
  }
  return row;
}

function noteHls(ctx, row, where) {
  const { anomaly } = ctx.hooks;
  const v = row.viewers;
  if (v.keptUp < v.n) anomaly(`${where}: ${v.n - v.keptUp}/${v.n} viewers did not keep up (${v.gaps} missed segments)`);
  if (v.errors)
    anomaly(`${where}: ${v.errors} viewer errors, answers ${JSON.stringify(v.statuses)}, connection errors ${JSON.stringify(v.transport?.errors ?? {})}`);
  if (!(row.node.requestsPerSegment <= 1.05)) anomaly(`${where}: ${fmt.fixed(row.node.requestsPerSegment, 2)} node requests per segment (target 1)`);
  const expectedSessions = row.protocol === 'h2' ? Math.ceil(v.n / ctx.settings.hlsPerSession) : v.n;
  if (v.transport && v.transport.opened > expectedSessions)
    anomaly(`${where}: ${v.transport.opened} TLS connections opened for ${expectedSessions} expected (reconnects)`);
  if (Object.keys(v.transport?.tls ?? {}).some((k) => k.includes('resumed'))) anomaly(`${where}: resumed TLS sessions ${JSON.stringify(v.transport.tls)}`);
  if (row.machineBusy >= 0.95) anomaly(`${where}: machine ${Math.round(row.machineBusy * 100)}% busy in the window: the figures of this run are distorted`);
  if (row.disturbed)
    anomaly(`${where}: processes outside the bench used ${fmt.fixed(row.otherCores)} cores during the window: this run's figures are disturbed`);
  checkServer(ctx, where, row.check);
}

async function benchHlsH2(ctx) {
  const rows = [];
  // Interleaved rounds, like parts a and c: the relay and nginx of one round run back to back (same machine conditions).
  // The relay first: whether it offers h2 decides whether nginx also runs over HTTPS/1.1.
  for (let round = 1; round <= ctx.settings.rounds; round += 1) {
    const relay = await hlsRun(ctx, 'relay', 'auto', round);
    rows.push(relay, await hlsRun(ctx, 'nginx', 'auto', round));
    if (relay.protocol !== 'h2') {
      if (round === 1)
        ctx.hooks.note(
          `tls hls: the relay's HTTPS listener offered ALPN "${relay.alpn.alpn}", not h2: the relay row runs over HTTPS/1.1, and nginx too for the ratio`,
        );
      rows.push(await hlsRun(ctx, 'nginx', 'http/1.1', round));
    }
  }
  // The floor once: it has no target, and its ratio is against the mean of nginx's rounds.
  if (ctx.settings.floor) rows.push(await hlsRun(ctx, 'floor', 'auto', 0));
  const nginxCores = (protocol, round) => {
    const refs = rows.filter((r) => r.id === 'nginx' && r.protocol === protocol && r.cpu);
    const same = refs.find((r) => r.round === round);
    return same ? same.cpu.proxy.cores : refs.length ? mean(refs.map((r) => r.cpu.proxy.cores)) : NaN;
  };
  for (const row of rows) {
    row.cpuRatio = row.cpu ? row.cpu.proxy.cores / nginxCores(row.protocol, row.round) : NaN;
    row.cpuRatioVsNginxH2 = row.cpu ? row.cpu.proxy.cores / nginxCores('h2', row.round) : NaN;
  }
  return { rows, sessions: ctx.settings.hlsPerSession === 1 ? 'one HTTP/2 session per viewer' : `${ctx.settings.hlsPerSession} viewers per HTTP/2 session` };
}

/** The relay's HLS rounds in one: CPU ratio against nginx (mean, min, max over the rounds) and mean cores of both. */
function hlsRelaySummary(hls) {
  const relays = hls.rows.filter((r) => r.relay && r.cpu);
  if (!relays.length) return undefined;
  const protocol = relays[0].protocol;
  const nginx = hls.rows.filter((r) => r.id === 'nginx' && r.protocol === protocol && r.cpu);
  const ratios = relays.map((r) => r.cpuRatio).filter(Number.isFinite);
  const vsH2 = relays.map((r) => r.cpuRatioVsNginxH2).filter(Number.isFinite);
  return {
    protocol,
    rounds: relays.length,
    viewers: relays[0].viewers.n,
    cores: mean(relays.map((r) => r.cpu.proxy.cores)),
    nginxCores: mean(nginx.map((r) => r.cpu.proxy.cores)),
    cpuRatio: spread(ratios),
    cpuRatioVsNginxH2: vsH2.length ? mean(vsH2) : NaN,
    disturbed: relays.some((r) => r.disturbed) || nginx.some((r) => r.disturbed),
  };
}

// ---------------------------------------------------------------- c. handshakes per CPU-second

async function handshakeRun(ctx, id, version, round) {
  const { settings: s, hooks } = ctx;
  const quiet = await quietBefore(ctx);
  hooks.progress(`tls handshake round ${round}: ${version} full handshakes against ${LABELS[id]}`);
  const origin = await startFlvOrigin(s.bitrate);
  const row = { id, label: LABELS[id], version, round, quietBefore: quiet, relay: id === 'relay' };
  const where = `tls handshake ${version} / ${row.label} (round ${round})`;
  let server;
  let client;
  try {
    server = await startFlvServer(ctx, id, origin);
    row.sanity = await httpsGet(server.url + TINY_PATH, ctx.certs.ca);
    if (row.sanity.status !== 200) throw new Error(`${where}: GET ${TINY_PATH} over HTTPS gave ${row.sanity.status} ${row.sanity.error ?? ''}`);
    row.tinyBody = row.sanity.body;
    delete row.sanity.body;
    client = forkTracked(SELF, [
      '--handshakes',
      ...['--url', server.url + TINY_PATH, '--ca', ctx.certs.caFile, '--version', version],
      ...['--seconds', String(s.handshakeSeconds), '--warmup-seconds', String(s.handshakeWarmupSeconds), '--concurrency', String(s.handshakeConcurrency)],
    ]);
    const wStart = nextMessage(client, 'window-start', (s.handshakeWarmupSeconds + 15) * 1000, 'handshake client');
    const wEnd = nextMessage(client, 'window-end', (s.handshakeWarmupSeconds + s.handshakeSeconds + 20) * 1000, 'handshake client');
    const wResult = nextMessage(client, 'result', (s.handshakeWarmupSeconds + s.handshakeSeconds + 40) * 1000, 'handshake client');
    await wStart;
    const stop = startProbes({ proxy: server.pids, client: () => [client.pid], origin: () => [origin.pid], bench: () => [process.pid] });
    const end = await wEnd;
    row.cpu = stop();
    row.rssBytes = groupRssBytes(server.pids());
    row.window = end.window;
    row.result = await wResult;
    row.check = await server.check();
    row.handshakesPerSec = end.window.handshakes / end.window.seconds;
    row.handshakesPerCpuSecond = end.window.handshakes / row.cpu.proxy.cpuSeconds;
    row.otherCores = otherCoresOf(row.cpu);
    row.disturbed = row.otherCores > OTHER_CORES_DISTURBED;
    row.machineBusy = row.cpu.proxy.machineBusyFraction;
    const w = end.window;
    if (!w.handshakes) hooks.anomaly(`${where}: no handshake in the window`);
    if (w.reused) hooks.anomaly(`${where}: ${w.reused} resumed TLS sessions (expected full handshakes only)`);
    if (Object.keys(w.errors).length) hooks.anomaly(`${where}: client errors ${JSON.stringify(w.errors)}`);
    if (w.requests < w.handshakes - s.handshakeConcurrency || Object.keys(w.statuses).some((code) => code !== '200'))
      hooks.anomaly(`${where}: ${w.requests} answers for ${w.handshakes} handshakes, statuses ${JSON.stringify(w.statuses)}`);
    if (row.disturbed)
      hooks.anomaly(`${where}: processes outside the bench used ${fmt.fixed(row.otherCores)} cores during the window: this run's figures are disturbed`);
    checkServer(ctx, where, row.check);
  } finally {
    if (client) await stopChild(client, { timeoutMs: 3_000 });
    if (server) row.stop = await server.stop();
    if (row.stop?.killed) hooks.anomaly(`${where}: did not exit within the stop timeout after SIGTERM; killed`);
    await origin.stop();
  }
  return row;
}

/** Part c's servers: nginx, the relay, and (BENCH_TLS_FLOOR) Node's own HTTP/2 server answering /healthz. */
const handshakeIds = (ctx) => ['nginx', 'relay', ...(ctx.settings.floor ? ['floor'] : [])];

async function benchHandshakes(ctx) {
  const runs = [];
  for (const version of ctx.settings.handshakeVersions)
    for (let round = 1; round <= ctx.settings.rounds; round += 1) for (const id of handshakeIds(ctx)) runs.push(await handshakeRun(ctx, id, version, round));
  const rows = [];
  for (const version of ctx.settings.handshakeVersions) {
    for (const id of handshakeIds(ctx)) {
      const mine = runs.filter((r) => r.id === id && r.version === version && r.window);
      if (!mine.length) continue;
      const perRound = mine.map((r) => {
        const ref = runs.find((x) => x.id === 'nginx' && x.version === version && x.round === r.round && x.window);
        return {
          round: r.round,
          handshakesPerSec: r.handshakesPerSec,
          serverCores: r.cpu.proxy.cores,
          handshakesPerCpuSecond: r.handshakesPerCpuSecond,
          ratio: ref ? r.handshakesPerCpuSecond / ref.handshakesPerCpuSecond : NaN,
          otherCores: r.otherCores,
          disturbed: r.disturbed,
        };
      });
      const ratios = perRound.map((p) => p.ratio).filter(Number.isFinite);
      rows.push({
        id,
        label: mine[0].label,
        version,
        rounds: mine.length,
        perRound,
        sessions: mine[0].window.sessions,
        handshakesPerSec: mean(perRound.map((p) => p.handshakesPerSec)),
        serverCores: mean(perRound.map((p) => p.serverCores)),
        clientCores: mean(mine.map((r) => r.cpu.client.cores)),
        handshakesPerCpuSecond: mean(perRound.map((p) => p.handshakesPerCpuSecond)),
        ratio: spread(ratios),
        handshakeMsP50: mean(mine.map((r) => r.window.handshakeMs.p50)),
        errors: mine.reduce((a, r) => a + Object.values(r.window.errors).reduce((x, y) => x + y, 0), 0),
        reused: mine.reduce((a, r) => a + r.window.reused, 0),
        rssBytes: Math.max(...mine.map((r) => r.rssBytes)),
        machineBusy: mean(mine.map((r) => r.machineBusy)),
        otherCores: mean(mine.map((r) => r.otherCores)),
        disturbedRounds: mine.filter((r) => r.disturbed).map((r) => r.round),
      });
    }
  }
  return { rows, runs };
}

// ---------------------------------------------------------------- verdicts and printing

const ratioText = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : '-');
const rangeText = (c, rounds) => (c ? `${ratioText(c.mean)}${rounds > 1 ? ` (${c.min.toFixed(2)}-${c.max.toFixed(2)})` : ''}` : '-');
const tags = (r) => (r.saturated?.length ? ' [saturated]' : '') + (r.disturbedRounds?.length || r.disturbed ? ' [disturbed]' : '');

/** Issue 14's criteria: one line each, with the measured value and a verdict. */
function tlsSummary({ flv, hls, handshake }) {
  const out = [];
  const flvRelay = flv?.rows.find((r) => r.relay);
  const flvNginx = flv?.rows.find((r) => !r.relay);
  if (flvRelay) {
    const noisy = flvRelay.disturbedRounds.length || flvNginx?.disturbedRounds.length ? ' [disturbed]' : '';
    out.push({
      criterion: `HTTPS FLV, ${flvRelay.viewers} viewers: relay CPU vs nginx`,
      target: `<=${TLS_GOALS.flvCpuRatioMax}x`,
      text: `${rangeText(flvRelay.cpuRatio, flvRelay.rounds)}: ${fmt.fixed(flvRelay.cores.proxy, 3)} cores, nginx ${fmt.fixed(flvNginx?.cores.proxy, 3)}${noisy}`,
      value: flvRelay.cpuRatio?.mean,
      ok: flvRelay.cpuRatio ? flvRelay.cpuRatio.mean <= TLS_GOALS.flvCpuRatioMax : undefined,
    });
    const batch = flv.rows.find((r) => r.id === 'relay-batch');
    if (batch)
      out.push({
        criterion: `HTTPS FLV, ${batch.viewers} viewers, ${batch.label.replace(/^RelayDeck HTTPS listener, /, '')}: relay CPU vs nginx`,
        target: 'reported',
        text: `${rangeText(batch.cpuRatio, batch.rounds)}: ${fmt.fixed(batch.cores.proxy, 3)} cores, first byte p99 ${Math.round(batch.firstByteP99Ms)} ms`,
        value: batch.cpuRatio?.mean,
      });
    out.push({
      criterion: `HTTPS FLV, ${flvRelay.viewers} viewers: relay RSS vs nginx`,
      target: 'reported',
      text: `${rangeText(flvRelay.rssRatio, flvRelay.rounds)}: ${fmt.mb(flvRelay.rssPeakBytes)}, nginx ${fmt.mb(flvNginx?.rssPeakBytes)}`,
      value: flvRelay.rssRatio?.mean,
    });
    out.push({
      criterion: `HTTPS FLV: every viewer keeps the bitrate (>=90%)`,
      target: 'all viewers',
      text: `relay ${flvRelay.viewersAtRate}/${flvRelay.viewers}; nginx ${flvNginx ? `${flvNginx.viewersAtRate}/${flvNginx.viewers}` : '-'}`,
      ok: flvRelay.viewersAtRate === flvRelay.viewers,
    });
  }
  const hlsRelay = hls ? hlsRelaySummary(hls) : undefined;
  if (hlsRelay) {
    const h2 = hlsRelay.protocol === 'h2';
    const ok = hlsRelay.cpuRatio ? hlsRelay.cpuRatio.mean <= TLS_GOALS.hlsCpuRatioMax : undefined;
    out.push({
      criterion: `HLS, ${hlsRelay.viewers} viewers over HTTP/2: relay CPU vs nginx`,
      target: `<=${TLS_GOALS.hlsCpuRatioMax}x`,
      text: h2
        ? `${rangeText(hlsRelay.cpuRatio, hlsRelay.rounds)}: ${fmt.fixed(hlsRelay.cores, 3)} cores, nginx ${fmt.fixed(hlsRelay.nginxCores, 3)}${hlsRelay.disturbed ? ' [disturbed]' : ''}`
        : `relay has no h2: over HTTPS/1.1 ${rangeText(hlsRelay.cpuRatio, hlsRelay.rounds)} (${fmt.fixed(hlsRelay.cores, 3)} cores vs nginx HTTPS/1.1 ${fmt.fixed(hlsRelay.nginxCores, 3)}); vs nginx h2 ${ratioText(hlsRelay.cpuRatioVsNginxH2)}`,
      value: hlsRelay.cpuRatio?.mean,
      protocol: hlsRelay.protocol,
      ok: h2 ? ok : undefined,
      verdict: h2 ? undefined : `not measured over h2 (HTTPS/1.1: ${ok === undefined ? '-' : ok ? 'within' : 'over'} the target)`,
    });
  }
  for (const version of [...new Set(handshake?.rows.map((r) => r.version) ?? [])]) {
    const relay = handshake.rows.find((r) => r.id === 'relay' && r.version === version);
    const nginx = handshake.rows.find((r) => r.id === 'nginx' && r.version === version);
    if (!relay) continue;
    const noisy = relay.disturbedRounds.length || nginx?.disturbedRounds.length ? ' [disturbed]' : '';
    out.push({
      criterion: `${version} full handshakes per server CPU-second: relay vs nginx`,
      target: `>=${TLS_GOALS.handshakeRatioMin}x`,
      text: `${rangeText(relay.ratio, relay.rounds)}: ${fmt.int(relay.handshakesPerCpuSecond)}/CPU-s, nginx ${fmt.int(nginx?.handshakesPerCpuSecond)}${noisy}`,
      value: relay.ratio?.mean,
      ok: relay.ratio ? relay.ratio.mean >= TLS_GOALS.handshakeRatioMin : undefined,
    });
  }
  for (const cell of out) cell.verdict ??= cell.ok === undefined ? 'reported' : cell.ok ? 'ok' : 'MISS';
  return out;
}

/** "value (goal)" with MISS appended when a hard target is missed. */
const withGoal = (text, goal, ok) => (goal ? `${text} (${goal})${ok === false ? ' MISS' : ''}` : text);

export function printTls(results, log) {
  const s = results.settings;
  const { flv, hls, handshake } = results;
  log(`\n== TLS (issue 14): RelayDeck's HTTPS listener vs nginx ${nginxVersion()} (ssl, http2, ${NGINX_WORKERS} workers) in the same run`);
  log(
    `   one test certificate for both (${results.certificate.key}, signed by a throwaway CA every client verifies); TLS 1.2/1.3, ECDHE + AES-GCM/ChaCha20 in the relay's order (server order); no session resumption`,
  );
  if (flv) {
    const nginx = flv.rows.find((r) => !r.relay);
    log(
      `\n-- a. HTTPS FLV: ${s.flvViewers} viewers of one ${s.bitrate / 1e6} Mbit/s stream, HTTP/1.1 over TLS (${Object.keys(nginx?.tls ?? flv.rows[0]?.tls ?? {}).join(', ') || '?'}), one TLS session per viewer on both sides;`,
    );
    log(`   ${s.flvSeconds}s window per run, ${s.rounds} interleaved round(s); CPU and RSS ratios per round against the same round's nginx: mean (range)`);
    log(
      table(
        [
          'proxy',
          'viewers >=90%',
          'min kbit/s',
          'proxy cores',
          'CPU vs nginx (target)',
          'RSS peak',
          'RSS vs nginx',
          'upstream pulls opened/peak',
          'open +2s',
          'first byte p99',
          'viewers.mjs cores',
          'machine busy',
          'other procs',
        ],
        flv.rows.map((r) => [
          r.label + tags(r),
          `${r.viewersAtRate}/${r.viewers}`,
          fmt.int((r.minRateBytesPerSec * 8) / 1000),
          fmt.fixed(r.cores.proxy, 3),
          r.relay
            ? withGoal(rangeText(r.cpuRatio, r.rounds), `<=${TLS_GOALS.flvCpuRatioMax}x`, r.cpuRatio ? r.cpuRatio.mean <= TLS_GOALS.flvCpuRatioMax : undefined)
            : '1.00x',
          fmt.mb(r.rssPeakBytes),
          r.relay ? rangeText(r.rssRatio, r.rounds) : '1.00x',
          `${r.upstream.opened}/${r.upstream.peak}`,
          `${r.upstreamOpenAfterLeave}${r.upstreamOpenLater && r.upstreamOpenAfterLeave ? `, ${r.upstreamOpenLater.open} at +${(r.upstreamOpenLater.afterMs / 1000).toFixed(1)}s` : ''}`,
          `${Math.round(r.firstByteP99Ms)} ms`,
          fmt.fixed(r.cores.viewers, 2),
          `${Math.round(r.machineBusy * 100)}%`,
          `${fmt.fixed(r.otherCores)}${r.disturbedRounds.length ? ` (max ${fmt.fixed(r.otherCoresMax)})` : ''}`,
        ]),
      ),
    );
    for (const r of flv.rows.filter((x) => x.saturated.length)) log(`   [saturated] ${r.label}: ${r.saturated.join('; ')}`);
    log('   ("viewers.mjs cores" = the load generator, which decrypts every stream too; "other procs" = cores used outside the bench in the window;');
    log('    RSS: highest of the rounds, nginx = master + workers; MB = MiB; nginx pulls one upstream stream per viewer, the relay one in all)');
  }
  if (hls) {
    log(
      `\n-- b. HLS: ${s.hlsViewers} viewers of one live stream (${s.hlsSegmentSeconds} s segments of ${s.hlsSegmentBytes.toLocaleString('en-US')} bytes), ${hls.sessions}; protocol as ALPN picks it; ${s.hlsSeconds}s window per run after ${s.hlsWarmupSeconds}s of the same load, ${s.rounds} interleaved round(s) of relay and nginx, each relay run against its round's nginx, the floor once against nginx's mean`,
    );
    log(
      '   nginx: proxy_cache + proxy_cache_lock (hls.mjs config) over ssl http2; relay: hls route (hls defaults), its logs on as by default (nginx: access_log off); viewers as in the HLS section (hls.js-like)',
    );
    log(
      table(
        [
          'proxy',
          'protocol',
          'viewers kept up',
          'node req/segment',
          'proxy cores',
          'CPU vs nginx (target)',
          'RSS peak',
          'segment time p50/p99',
          'TLS connections',
          'viewer errors',
          'viewers cores',
          'machine busy',
          'other procs',
        ],
        hls.rows
          .filter((r) => r.cpu)
          .map((r) => [
            r.label + (r.round > 0 && s.rounds > 1 ? ` (round ${r.round})` : '') + (r.disturbed ? ' [disturbed]' : ''),
            r.protocol === 'h2' ? 'h2' : 'http/1.1',
            `${r.viewers.keptUp}/${r.viewers.n}`,
            fmt.fixed(r.node.requestsPerSegment, 2),
            fmt.fixed(r.cpu.proxy.cores, 3),
            r.relay
              ? withGoal(
                  `${ratioText(r.cpuRatio)}${r.protocol === 'h2' ? '' : ` (vs h2 ${ratioText(r.cpuRatioVsNginxH2)})`}`,
                  `<=${TLS_GOALS.hlsCpuRatioMax}x`,
                  Number.isFinite(r.cpuRatio) ? r.cpuRatio <= TLS_GOALS.hlsCpuRatioMax : undefined,
                )
              : r.id === 'floor'
                ? `${ratioText(r.cpuRatio)} (no target)`
                : r.protocol === 'h2'
                  ? '1.00x'
                  : `ref. for HTTPS/1.1`,
            fmt.mb(r.rssPeakBytes),
            `${fmt.fixed(r.viewers.segmentMs.p50, 1)} / ${fmt.fixed(r.viewers.segmentMs.p99, 1)} ms`,
            r.viewers.transport?.opened ?? '-',
            r.viewers.errors,
            fmt.fixed(r.cpu.viewers.cores, 2),
            `${Math.round(r.machineBusy * 100)}%`,
            fmt.fixed(r.otherCores),
          ]),
      ),
    );
    log(
      `   TLS and ALPN seen by the viewers: ${hls.rows.map((r) => `${r.id}${r.round > 1 ? ` (round ${r.round})` : ''} ${JSON.stringify(r.viewers?.transport?.tls ?? {})}`).join('; ')}`,
    );
    log('   ("TLS connections" = TLS connections the viewers opened: one per session or per HTTPS/1.1 viewer, more means reconnects;');
    log('    the ratio of an HTTPS/1.1 relay row is against nginx over HTTPS/1.1, "vs h2" against nginx over HTTP/2)');
  }
  if (handshake) {
    log(
      `\n-- c. TLS handshakes per CPU-second: ${s.handshakeConcurrency} concurrent loops of full handshakes (no resumption) + GET ${TINY_PATH}, ${s.handshakeSeconds}s window after ${s.handshakeWarmupSeconds}s warm-up, ${s.rounds} interleaved round(s)`,
    );
    log(
      table(
        [
          'server',
          'TLS',
          'handshakes/s',
          'server cores',
          'handshakes/CPU-s',
          'vs nginx (target)',
          'handshake p50',
          'client cores',
          'RSS',
          'errors',
          'resumed',
          'other procs',
        ],
        handshake.rows.map((r) => [
          r.label + (r.disturbedRounds.length ? ' [disturbed]' : ''),
          Object.keys(r.sessions).join(', '),
          fmt.int(r.handshakesPerSec),
          fmt.fixed(r.serverCores, 3),
          fmt.int(r.handshakesPerCpuSecond),
          r.id === 'relay'
            ? withGoal(rangeText(r.ratio, r.rounds), `>=${TLS_GOALS.handshakeRatioMin}x`, r.ratio ? r.ratio.mean >= TLS_GOALS.handshakeRatioMin : undefined)
            : r.id === 'floor'
              ? `${rangeText(r.ratio, r.rounds)} (no target)`
              : '1.00x',
          `${fmt.fixed(r.handshakeMsP50, 2)} ms`,
          fmt.fixed(r.clientCores, 2),
          fmt.mb(r.rssBytes),
          r.errors,
          r.reused,
          fmt.fixed(r.otherCores),
        ]),
      ),
    );
    log('   (the client is one Node process on the same cores: it bounds the rate, so compare handshakes per server CPU-second, not per second;');
    log('    "handshake p50" = TCP connect + TLS handshake as the client saw it)');
  }
  log(`\n== Issue 14 (benchmark): the relay's HTTPS listener against its targets, nginx measured in the same run`);
  log(
    `   (parts took ${Object.entries(results.partSeconds ?? {})
      .map(([k, v]) => `${k} ${Math.round(v)} s`)
      .join(', ')})`,
  );
  log(
    table(
      ['criterion', 'target', 'measured', 'verdict'],
      results.summary.map((c) => [c.criterion, c.target, c.text, c.verdict]),
      { left: 4 },
    ),
  );
}

// ================================================================ role: HLS viewers over HTTPS (--hls-viewers)

/** HLS viewer connection over HTTPS/1.1: hls.mjs's Connection on a TLS socket. */
class TlsConnection extends Connection {
  constructor(host, port, userAgent, ca, transport) {
    super(host, port, userAgent);
    Object.assign(this, { ca, transport });
  }

  openSocket() {
    const socket = tls.connect({ host: this.host, port: this.port, ca: this.ca, ALPNProtocols: ['http/1.1'] });
    this.transport.opened += 1;
    socket.on('secureConnect', () =>
      inc(
        this.transport.tls,
        `${socket.getProtocol()} ${socket.getCipher()?.standardName} ${socket.alpnProtocol || 'no-alpn'}${socket.isSessionReused() ? ' resumed' : ''}`,
      ),
    );
    socket.on('error', (error) => inc(this.transport.errors, error.code || error.message));
    socket.on('data', (buf) => this.onRead(buf, buf.length));
    return socket;
  }
}

/** HTTP/2 sessions by index, opened on first use and again after one closed. */
class H2Sessions {
  constructor(origin, ca, transport) {
    Object.assign(this, { origin, ca, transport, sessions: new Map() });
  }

  get(index) {
    const existing = this.sessions.get(index);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const session = http2.connect(this.origin, { ca: this.ca, settings: { initialWindowSize: H2_STREAM_WINDOW } });
    this.transport.opened += 1;
    session.on('connect', () => {
      session.setLocalWindowSize(H2_SESSION_WINDOW);
      const socket = session.socket;
      inc(
        this.transport.tls,
        `${socket.getProtocol?.()} ${socket.getCipher?.()?.standardName} ${session.alpnProtocol}${socket.isSessionReused?.() ? ' resumed' : ''}`,
      );
    });
    session.on('error', (error) => inc(this.transport.errors, error.code || error.message));
    session.on('goaway', (code) => inc(this.transport.errors, `GOAWAY ${code}`));
    this.sessions.set(index, session);
    return session;
  }

  close(index) {
    this.sessions.get(index)?.close();
  }
}

/** One viewer's requests over an HTTP/2 session (hls.mjs's Connection interface: get, close). */
class H2Connection {
  constructor(sessions, index, userAgent) {
    Object.assign(this, { sessions, index, userAgent });
  }

  get(pathAndQuery, collect) {
    return new Promise((resolve, reject) => {
      let stream;
      try {
        stream = this.sessions.get(this.index).request({ ':path': pathAndQuery, 'user-agent': this.userAgent, accept: '*/*' }, { endStream: true });
      } catch (error) {
        reject(error);
        return;
      }
      let status = 0;
      let cache = '-';
      let bytes = 0;
      let ended = false;
      const chunks = [];
      stream.setTimeout(15_000, () => stream.close(http2.constants.NGHTTP2_CANCEL));
      stream.on('response', (headers) => {
        status = Number(headers[':status']);
        cache = String(headers['x-cache-status'] ?? headers['x-relaydeck-cache'] ?? '-').toUpperCase();
      });
      stream.on('data', (chunk) => {
        bytes += chunk.length;
        if (collect) chunks.push(chunk);
      });
      stream.on('end', () => {
        ended = true;
        resolve({ status, bytes, cache, text: collect ? Buffer.concat(chunks).toString() : undefined });
      });
      stream.on('error', (error) => reject(error));
      stream.on('close', () => {
        if (!ended) reject(new Error(`stream closed (code ${stream.rstCode})`));
      });
    });
  }

  close() {
    this.sessions.close(this.index);
  }
}

async function hlsViewersRole(args) {
  const url = new URL(argOf(args, '--url'));
  const ca = readFileSync(argOf(args, '--ca'));
  const protocol = argOf(args, '--protocol', 'h2');
  const perSession = Number(argOf(args, '--per-session', 1));
  const transport = { protocol, opened: 0, tls: {}, errors: {} };
  const userAgent = (id) => `relaydeck-bench-hls-viewer-${id}`;
  let makeConnection;
  if (protocol === 'h2') {
    const sessions = new H2Sessions(url.origin, ca, transport);
    makeConnection = (id) => new H2Connection(sessions, Math.floor(id / perSession), userAgent(id));
  } else {
    makeConnection = (id, u) => new TlsConnection(u.hostname, Number(u.port), userAgent(id), ca, transport);
  }
  await hlsViewersMain(args, makeConnection, () => ({ transport }));
}

// ================================================================ role: handshake client (--handshakes)

async function handshakesRole(args) {
  const url = new URL(argOf(args, '--url'));
  const ca = readFileSync(argOf(args, '--ca'));
  const version = argOf(args, '--version', 'TLSv1.3');
  const seconds = Number(argOf(args, '--seconds', 6));
  const warmupSeconds = Number(argOf(args, '--warmup-seconds', 1));
  const concurrency = Number(argOf(args, '--concurrency', 8));
  const request = `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: relaydeck-bench-handshake\r\nAccept: */*\r\n\r\n`;
  const fresh = () => ({ handshakes: 0, requests: 0, reused: 0, errors: {}, statuses: {}, sessions: {}, handshakeMs: [] });
  let current = fresh();
  let stopped = false;
  process.on('disconnect', () => process.exit(0));

  /** One connection: full handshake, one GET, read the answer, close (close_notify, then FIN). */
  const once = () =>
    new Promise((resolve) => {
      const counters = current;
      const started = performance.now();
      let head = '';
      let done = false;
      const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca, minVersion: version, maxVersion: version, ALPNProtocols: ['http/1.1'] });
      const finish = (error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error) {
          inc(counters.errors, error);
          socket.destroy();
        } else {
          socket.end();
          setTimeout(() => socket.destroy(), 2_000).unref();
        }
        resolve(error);
      };
      const timer = setTimeout(() => finish('timeout'), 5_000);
      socket.on('secureConnect', () => {
        counters.handshakes += 1;
        if (counters.handshakeMs.length < 20_000) counters.handshakeMs.push(performance.now() - started);
        if (socket.isSessionReused()) counters.reused += 1;
        inc(counters.sessions, `${socket.getProtocol()} ${socket.getCipher()?.standardName}`);
        socket.write(request);
      });
      socket.on('data', (buf) => {
        head += buf.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head.slice(0, end))?.[1] ?? -1);
        if (length >= 0 && head.length < end + 4 + length) return;
        inc(counters.statuses, /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? '?');
        counters.requests += 1;
        finish();
      });
      socket.on('error', (error) => finish(error.code || error.message));
      socket.on('close', () => finish('closed before the answer'));
    });

  const loops = Array.from({ length: concurrency }, async () => {
    // A failed connection backs off a little, so a refused port does not spin.
    while (!stopped) if (await once()) await sleep(50);
  });
  await sleep(warmupSeconds * 1000);
  current = fresh();
  const windowStart = performance.now();
  process.send({ type: 'window-start' });
  await sleep(seconds * 1000);
  const window = current;
  current = fresh();
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const sorted = window.handshakeMs.sort((a, b) => a - b);
  const summary = {
    ...window,
    seconds: windowSeconds,
    handshakeMs: { n: sorted.length, p50: sorted[Math.floor(sorted.length / 2)] ?? NaN, p99: sorted[Math.floor(sorted.length * 0.99)] ?? NaN },
  };
  process.send({ type: 'window-end', window: summary });
  stopped = true;
  await Promise.race([Promise.all(loops), sleep(6_000)]);
  // What finished after the window (in-flight connections), as counts.
  process.send({ type: 'result', after: { ...current, handshakeMs: undefined } });
  setTimeout(() => process.exit(0), 100);
}

const role = process.argv[2];
if (role === '--hls-viewers') await hlsViewersRole(process.argv.slice(3));
else if (role === '--handshakes') await handshakesRole(process.argv.slice(3));
