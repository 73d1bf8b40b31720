// Which base should RelayDeck's one upstream transport use: Node's http.request with a
// keep-alive http.Agent (what the relay uses today) or undici's Pool (request / dispatch)?
//
// Three processes, so each one's CPU is its own: an origin (plain node:http: 2 KB and 500 KB
// bodies, and a live FLV-like chunked stream), a front (the base under test) and this script
// (wrk and the stream/fetch clients). A fresh front per run; runs of the bases are interleaved
// (round r starts at base r mod 3) and each figure is printed as median [min-max] with the
// ratio to http.request.
//
// Shapes measured, per base:
//  - proxy: wrk -> front -> origin, the body piped to the ServerResponse (2 KB, 500 KB, and
//    BENCH_TP_STREAMS concurrent FLV-like streams of ~100 KB/s in 4 KB chunks);
//  - fetch: the front itself reads 2 KB and 500 KB bodies into a Buffer, BENCH_TP_FETCH_CONCURRENCY at a time.
//
// Usage: node tests/bench/transport.mjs (from the checkout root; no build needed).
// Env: BENCH_TP_ROUNDS (3), BENCH_TP_SECONDS (wrk seconds per proxy run, 3), BENCH_TP_CONNECTIONS (wrk, 32),
//      BENCH_TP_POOL (upstream sockets per base, 64), BENCH_TP_STREAMS (40), BENCH_TP_STREAM_SECONDS (3),
//      BENCH_TP_FETCH_2K (requests, 4000), BENCH_TP_FETCH_500K (requests, 600), BENCH_TP_FETCH_CONCURRENCY (32).
import http from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';
import { HOST, ask, envNumber, fmt, forkHelper, killAllTracked, percentiles, runWrk, sleep, stopChild, table } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const BASES = ['http', 'undici-request', 'undici-dispatch'];
const SIZES = { '2k': 2 * 1024, '500k': 500 * 1024 };
/** FLV-like live stream: one 4 KB chunk every 40 ms, about 100 KB/s. */
const STREAM_CHUNK_BYTES = 4 * 1024;
const STREAM_INTERVAL_MS = 40;
/** Request headers never forwarded (hop-by-hop, RFC 9110 section 7.6.1), the same for every base. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade'];

const env = process.env;
const settings = {
  rounds: envNumber(env, 'BENCH_TP_ROUNDS', 3, 1, 50),
  wrkSeconds: envNumber(env, 'BENCH_TP_SECONDS', 3, 1, 120),
  connections: envNumber(env, 'BENCH_TP_CONNECTIONS', 32, 1, 1000),
  pool: envNumber(env, 'BENCH_TP_POOL', 64, 1, 1000),
  streams: envNumber(env, 'BENCH_TP_STREAMS', 40, 1, 1000),
  streamSeconds: envNumber(env, 'BENCH_TP_STREAM_SECONDS', 3, 1, 60),
  fetch2k: envNumber(env, 'BENCH_TP_FETCH_2K', 4000, 10, 1e6),
  fetch500k: envNumber(env, 'BENCH_TP_FETCH_500K', 600, 10, 1e6),
  fetchConcurrency: envNumber(env, 'BENCH_TP_FETCH_CONCURRENCY', 32, 1, 1000),
};

function withoutHopByHop(headers) {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

// ---------------------------------------------------------------- origin process

function runOrigin() {
  const bodies = Object.fromEntries(Object.entries(SIZES).map(([name, bytes]) => [name, Buffer.alloc(bytes, name.charCodeAt(0))]));
  const chunk = Buffer.alloc(STREAM_CHUNK_BYTES, 0x46);
  const chunksPerStream = Math.round((settings.streamSeconds * 1000) / STREAM_INTERVAL_MS);
  const server = http.createServer((req, res) => {
    req.resume();
    const name = req.url.slice(1);
    if (bodies[name]) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bodies[name].length });
      res.end(bodies[name]);
    } else if (name === 'flv') {
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(chunk);
        if (++sent >= chunksPerStream) {
          clearInterval(timer);
          res.end();
        }
      }, STREAM_INTERVAL_MS);
      res.on('close', () => clearInterval(timer));
    } else {
      res.writeHead(404).end();
    }
  });
  // Longer than any pause between runs, so no idle upstream socket is closed under a client.
  server.keepAliveTimeout = 60_000;
  server.listen(0, HOST, () => process.send({ type: 'ready', port: server.address().port }));
}

// ---------------------------------------------------------------- front process (one base)

/** The three bases, each as { proxy(req, res, path), fetch(path) -> Promise<Buffer> }. */
function makeBase(base, originPort) {
  const origin = `http://${HOST}:${originPort}`;
  const host = `${HOST}:${originPort}`;
  if (base === 'http') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: settings.pool, maxFreeSockets: settings.pool, scheduling: 'lifo' });
    const options = (req, path) => ({
      host: HOST,
      port: originPort,
      path,
      method: req?.method ?? 'GET',
      agent,
      headers: req ? { ...withoutHopByHop(req.headers), host } : { host },
    });
    return {
      proxy(req, res, path) {
        const upstream = http.request(options(req, path), (up) => {
          res.writeHead(up.statusCode, withoutHopByHop(up.headers));
          pipeline(up, res, () => {});
        });
        upstream.on('error', () => res.destroy());
        res.on('close', () => !res.writableFinished && upstream.destroy());
        upstream.end();
      },
      fetch: (path) =>
        new Promise((resolve, reject) => {
          const upstream = http.request(options(undefined, path), (up) => {
            const chunks = [];
            up.on('data', (c) => chunks.push(c));
            up.on('end', () => resolve(Buffer.concat(chunks)));
            up.on('error', reject);
          });
          upstream.on('error', reject);
          upstream.end();
        }),
    };
  }
  const pool = new Pool(origin, { connections: settings.pool, keepAliveTimeout: 30_000 });
  if (base === 'undici-request') {
    return {
      async proxy(req, res, path) {
        try {
          const { statusCode, headers, body } = await pool.request({ path, method: req.method, headers: { ...withoutHopByHop(req.headers), host } });
          res.writeHead(statusCode, withoutHopByHop(headers));
          pipeline(body, res, () => {});
        } catch {
          res.destroy();
        }
      },
      async fetch(path) {
        const { body } = await pool.request({ path, method: 'GET' });
        const chunks = [];
        for await (const c of body) chunks.push(c);
        return Buffer.concat(chunks);
      },
    };
  }
  // undici-dispatch: the raw handler API, backpressure by controller.pause()/resume().
  return {
    proxy(req, res, path) {
      let controller;
      res.on('drain', () => controller?.resume());
      res.on('close', () => !res.writableFinished && controller?.abort(new Error('viewer gone')));
      pool.dispatch(
        { origin, path, method: req.method, headers: { ...withoutHopByHop(req.headers), host } },
        {
          onRequestStart(c) {
            controller = c;
          },
          onResponseStart(c, statusCode, headers) {
            res.writeHead(statusCode, withoutHopByHop(headers));
          },
          onResponseData(c, chunk) {
            if (!res.write(chunk)) c.pause();
          },
          onResponseEnd() {
            res.end();
          },
          onResponseError() {
            res.destroy();
          },
        },
      );
    },
    fetch: (path) =>
      new Promise((resolve, reject) => {
        const chunks = [];
        pool.dispatch(
          { origin, path, method: 'GET' },
          {
            onRequestStart() {},
            onResponseStart() {},
            onResponseData: (c, chunk) => chunks.push(chunk),
            onResponseEnd: () => resolve(Buffer.concat(chunks)),
            onResponseError: (c, error) => reject(error),
          },
        );
      }),
  };
}

async function fetchShape(base, sizeName, count, concurrency) {
  const expected = SIZES[sizeName];
  const latencies = [];
  let errors = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (next < count) {
      next += 1;
      const started = performance.now();
      try {
        const body = await base.fetch(`/${sizeName}`);
        if (body.length !== expected) errors += 1;
      } catch {
        errors += 1;
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { requests: count, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, errors, ...percentiles(latencies) };
}

function peakRssBytes() {
  return Number(/^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
}

function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // not Linux or not allowed: peaks then cover the whole run
  }
}

function runFront(baseName, originPort) {
  const base = makeBase(baseName, originPort);
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url.startsWith('/p/')) base.proxy(req, res, req.url.slice(2));
    else res.writeHead(404).end();
  });
  server.keepAliveTimeout = 60_000;
  process.on('message', async ({ cmd, id }) => {
    const [name, ...args] = cmd.split(' ');
    if (name === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send({ id, cpuSeconds: (user + system) / 1e6, peakRssBytes: peakRssBytes() });
    } else if (name === 'reset-peak') {
      resetPeakRss();
      process.send({ id });
    } else if (name === 'fetch') {
      resetPeakRss();
      const result = await fetchShape(base, args[0], Number(args[1]), Number(args[2]));
      process.send({ id, ...result, peakRssBytes: peakRssBytes() });
    }
  });
  server.listen(0, HOST, () => process.send({ type: 'ready', port: server.address().port }));
}

// ---------------------------------------------------------------- load (this process)

/** `count` concurrent GETs of the live stream through the front: time to first byte and bytes. */
function streamLoad(url, count) {
  const agent = new http.Agent({ keepAlive: true });
  const one = () =>
    new Promise((resolve) => {
      const started = performance.now();
      let firstByteMs;
      let bytes = 0;
      const req = http.get(url, { agent }, (res) => {
        res.on('data', (c) => {
          firstByteMs ??= performance.now() - started;
          bytes += c.length;
        });
        res.on('end', () => resolve({ firstByteMs, bytes, ok: res.statusCode === 200 }));
        res.on('error', () => resolve({ firstByteMs, bytes, ok: false }));
      });
      req.on('error', () => resolve({ firstByteMs, bytes, ok: false }));
    });
  return Promise.all(Array.from({ length: count }, one)).finally(() => agent.destroy());
}

async function measureCpu(front, work) {
  await ask(front, 'reset-peak');
  const before = await ask(front, 'cpu');
  const result = await work();
  const after = await ask(front, 'cpu');
  return { ...result, cpuSeconds: after.cpuSeconds - before.cpuSeconds, peakRssBytes: after.peakRssBytes };
}

async function proxyRun(front, url, sizeName) {
  return measureCpu(front, async () => {
    const wrk = await runWrk(`${url}/p/${sizeName}`, { threads: 1, connections: settings.connections, durationS: settings.wrkSeconds });
    const errors = wrk.non2xx3xx + Object.values(wrk.socketErrors).reduce((a, b) => a + b, 0);
    return { requests: wrk.requests, seconds: wrk.durationS, p50Ms: wrk.p50Ms, p99Ms: wrk.p99Ms, errors };
  });
}

async function streamRun(front, url) {
  return measureCpu(front, async () => {
    const t0 = performance.now();
    const results = await streamLoad(`${url}/p/flv`, settings.streams);
    const expected = Math.round((settings.streamSeconds * 1000) / STREAM_INTERVAL_MS) * STREAM_CHUNK_BYTES;
    const bytes = results.reduce((sum, r) => sum + r.bytes, 0);
    const errors = results.filter((r) => !r.ok || r.bytes !== expected).length;
    return { requests: results.length, seconds: (performance.now() - t0) / 1000, bytes, errors, ...percentiles(results.map((r) => r.firstByteMs)) };
  });
}

/** One run of one base in a fresh front: every shape, warmed up first. */
async function oneRun(baseName, originPort) {
  const { child: front, ready } = await forkHelper(SELF, ['--front', baseName, String(originPort)]);
  const url = `http://${HOST}:${ready.port}`;
  try {
    await runWrk(`${url}/p/2k`, { threads: 1, connections: settings.connections, durationS: 1, latency: false });
    await ask(front, `fetch 500k 100 ${settings.fetchConcurrency}`, 30_000);
    const out = {};
    out['proxy 2k'] = await proxyRun(front, url, '2k');
    out['proxy 500k'] = await proxyRun(front, url, '500k');
    out['proxy flv'] = await streamRun(front, url);
    out['fetch 2k'] = await ask(front, `fetch 2k ${settings.fetch2k} ${settings.fetchConcurrency}`, 120_000);
    out['fetch 500k'] = await ask(front, `fetch 500k ${settings.fetch500k} ${settings.fetchConcurrency}`, 120_000);
    return out;
  } finally {
    await stopChild(front);
  }
}

// ---------------------------------------------------------------- report

const median = (values) => {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** The figures printed per shape: label, how to read it from one run, how to format it. */
const METRICS = [
  ['req/s', (r) => r.requests / r.seconds, fmt.int, (s) => s !== 'proxy flv'],
  ['CPU s/1k req', (r) => (r.cpuSeconds / r.requests) * 1000, (n) => fmt.fixed(n, 3), (s) => s !== 'proxy flv'],
  ['CPU ms/MB', (r) => (r.cpuSeconds * 1000) / (r.bytes / 1024 ** 2), (n) => fmt.fixed(n, 2), (s) => s === 'proxy flv'],
  ['p50 ms', (r) => r.p50Ms, (n) => fmt.fixed(n, 2), () => true],
  ['p99 ms', (r) => r.p99Ms, (n) => fmt.fixed(n, 2), () => true],
  ['peak RSS MB', (r) => r.peakRssBytes / 1024 ** 2, (n) => fmt.fixed(n, 1), () => true],
];

function report(runs) {
  const shapes = Object.keys(runs[BASES[0]][0]);
  const rows = [];
  for (const shape of shapes) {
    for (const [label, read, format, applies] of METRICS) {
      if (!applies(shape)) continue;
      const row = [shape, label];
      const base0 = median(runs[BASES[0]].map((r) => read(r[shape])));
      for (const base of BASES) {
        const values = runs[base].map((r) => read(r[shape]));
        const m = median(values);
        row.push(`${format(m)} [${format(Math.min(...values))}-${format(Math.max(...values))}]`);
        if (base !== BASES[0]) row.push(fmt.ratio(m, base0));
      }
      rows.push(row);
    }
  }
  const headers = ['shape', 'figure', ...BASES.flatMap((b) => (b === BASES[0] ? [`${b} med [min-max]`] : [`${b} med [min-max]`, 'ratio']))];
  console.log(table(headers, rows, { left: 2 }));
  const errors = BASES.flatMap((b) => runs[b].flatMap((r) => shapes.filter((s) => r[s].errors).map((s) => `${b} ${s}: ${r[s].errors}`)));
  console.log(errors.length ? `errors: ${errors.join('; ')}` : 'errors: none (every body had its expected length)');
}

async function main() {
  const progress = (text) => process.stderr.write(`[transport] ${text}\n`);
  progress(`settings ${JSON.stringify(settings)}; load: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const { child: origin, ready } = await forkHelper(SELF, ['--origin']);
  const runs = Object.fromEntries(BASES.map((b) => [b, []]));
  const t0 = Date.now();
  try {
    for (let round = 0; round < settings.rounds; round++) {
      for (let i = 0; i < BASES.length; i++) {
        const base = BASES[(round + i) % BASES.length];
        progress(`round ${round + 1}/${settings.rounds}: ${base}`);
        runs[base].push(await oneRun(base, ready.port));
        await sleep(200);
      }
    }
  } finally {
    await stopChild(origin);
  }
  console.log(
    `transport bench: node ${process.version}, ${settings.rounds} runs per base (interleaved), ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
      `wrk -t1 -c${settings.connections} -d${settings.wrkSeconds}s; pool ${settings.pool}; ${settings.streams} streams x ${settings.streamSeconds} s; ` +
      `fetch concurrency ${settings.fetchConcurrency}; load after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`,
  );
  report(runs);
}

if (process.argv[2] === '--origin') runOrigin();
else if (process.argv[2] === '--front') runFront(process.argv[3], Number(process.argv[4]));
else {
  main().catch((error) => {
    killAllTracked();
    console.error(error);
    process.exitCode = 1;
  });
}
