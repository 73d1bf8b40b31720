// Shared helpers for the bench: /proc sampling, child processes, wrk, nginx.
// Everything binds to 127.0.0.1; every wait has a time bound.
import { spawn, spawnSync, fork, execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const HOST = '127.0.0.1';
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the Linux default
}
export const CLK_TCK = clockTicks;

// ---------------------------------------------------------------- /proc sampling

/** utime + stime of one process, in seconds; undefined when the process is gone. */
export function procCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces: split after the last ')'. Fields after it start at #3.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[14 - 3]);
    const stime = Number(rest[15 - 3]);
    return (utime + stime) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** VmRSS of one process, in bytes; undefined when the process is gone. */
export function procRssBytes(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Direct children of `pid` (scans /proc; used for nginx workers). */
export function childPids(pid) {
  const out = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[4 - 3]) === pid) out.push(Number(entry));
    } catch {
      // raced with an exit
    }
  }
  return out;
}

/** Sum of CPU seconds over a set of pids (missing pids count 0). */
export function groupCpuSeconds(pids) {
  let total = 0;
  for (const pid of pids) total += procCpuSeconds(pid) ?? 0;
  return total;
}

export function groupRssBytes(pids) {
  let total = 0;
  for (const pid of pids) total += procRssBytes(pid) ?? 0;
  return total;
}

/** Whole-machine CPU counters from /proc/stat (ticks): busy, total, task time (user+nice+system) and irq+softirq. */
export function machineTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = values;
  const total = user + nice + system + idle + iowait + irq + softirq + (steal || 0);
  return { busy: total - idle - iowait, total, task: user + nice + system, irq: irq + softirq };
}

const CPU_COUNT = (() => {
  try {
    return (
      readFileSync('/proc/stat', 'utf8')
        .split('\n')
        .filter((l) => /^cpu\d+ /.test(l)).length || 1
    );
  } catch {
    return 1;
  }
})();

/** TCP listen-queue overflows and drops, machine-wide (/proc/net/netstat TcpExt). */
export function tcpListenDrops() {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0].split(/\s+/);
    const values = lines[1].split(/\s+/).map(Number);
    const get = (name) => values[names.indexOf(name)] ?? 0;
    return { overflows: get('ListenOverflows'), drops: get('ListenDrops') };
  } catch {
    return { overflows: 0, drops: 0 };
  }
}

/** A CPU probe over a group of pids plus the whole machine: call start(), then stop(). */
export function cpuProbe(pidsFn) {
  let t0, cpu0, m0;
  return {
    start() {
      t0 = process.hrtime.bigint();
      cpu0 = groupCpuSeconds(pidsFn());
      m0 = machineTicks();
    },
    stop() {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const cpu = groupCpuSeconds(pidsFn()) - cpu0;
      const m1 = machineTicks();
      const totalTicks = Math.max(1, m1.total - m0.total);
      const machineBusy = (m1.busy - m0.busy) / totalTicks;
      return {
        seconds,
        cpuSeconds: cpu,
        cores: cpu / seconds,
        machineBusyFraction: machineBusy,
        // Every process's user+system time on the machine, and irq+softirq (e.g. loopback TCP), in cores.
        machineTaskCores: ((m1.task - m0.task) / totalTicks) * CPU_COUNT,
        machineIrqCores: ((m1.irq - m0.irq) / totalTicks) * CPU_COUNT,
      };
    },
  };
}

// ---------------------------------------------------------------- child processes

const children = new Set();

/** Every child started by the bench, so a failure can stop exactly those (by pid). */
export function trackedChildren() {
  return children;
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kill every child this bench started (by pid, SIGKILL). Used on fatal errors only. */
export function killAllTracked() {
  for (const child of children) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Spawn a server process and wait until its stdout has printed every regex in `ready`
 * (each with one capture group). Resolves { child, matches, stderrTail(), stderrLines() }.
 */
export function spawnServer(command, args, { ready, cwd, env, timeoutMs = 20_000, stderrFile } = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
    const tail = [];
    let stderrCount = 0;
    const fileStream = stderrFile ? createWriteStream(stderrFile) : undefined;
    let stdoutText = '';
    let pending = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text) => {
      fileStream?.write(text);
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) {
        stderrCount += 1;
        tail.push(line);
        if (tail.length > 200) tail.shift();
      }
    });
    child.stdout.setEncoding('utf8');
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: not ready within ${timeoutMs} ms\nstdout: ${stdoutText}\nstderr: ${tail.join('\n')}`));
    }, timeoutMs);
    const api = {
      child,
      stderrTail: () => tail.slice(),
      stderrLines: () => stderrCount,
    };
    const onData = (text) => {
      stdoutText += text;
      const matches = ready.map((re) => re.exec(stdoutText));
      if (matches.every(Boolean)) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ ...api, matches: matches.map((m) => m[1]) });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fileStream?.end();
      reject(new Error(`${command} exited early (code ${code}, signal ${signal})\nstdout: ${stdoutText}\nstderr: ${tail.join('\n')}`));
    });
  });
}

/** Fork a Node helper with an IPC channel; resolves once it sends { type: 'ready' }. */
export function forkHelper(file, args, { timeoutMs = 15_000, execArgv = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = track(fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv }));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file}: not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${file} exited early with code ${code}`));
    });
    child.on('message', function onMessage(message) {
      if (message?.type === 'ready') {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve({ child, ready: message });
      }
    });
  });
}

/** Fork a Node helper (IPC channel, stdio inherited), tracked so a failure stops it; no ready handshake. */
export function forkTracked(file, args, { execArgv = [] } = {}) {
  return track(fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv }));
}

/** The next message of `type` from a child, bounded in time; rejects when the child exits first (never unhandled). */
export function nextMessage(child, type, timeoutMs, name = 'child') {
  const promise = new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${name}: no "${type}" message within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const onMessage = (message) => {
      if (message?.type !== type) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`${name} exited (code ${code}, signal ${signal}) before its "${type}" message`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  promise.catch(() => {}); // awaited later; never an unhandled rejection
  return promise;
}

/** Ask a forked helper something and wait for the answer with the same id. */
let nextRequestId = 1;
export function ask(child, cmd, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const id = nextRequestId++;
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`helper did not answer "${cmd}" within ${timeoutMs} ms`));
    }, timeoutMs);
    function onMessage(message) {
      if (message?.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    }
    child.on('message', onMessage);
    child.send({ cmd, id });
  });
}

/** Stop one child: `signal`, then SIGKILL after `timeoutMs`. Resolves { code, signal, killed }. */
export function stopChild(child, { signal = 'SIGTERM', timeoutMs = 8_000 } = {}) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode, killed: false, alreadyExited: true });
  }
  return new Promise((resolve) => {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, timeoutMs);
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, killed, alreadyExited: false });
    });
    try {
      process.kill(child.pid, signal);
    } catch {
      // gone
    }
  });
}

/** A free TCP port on 127.0.0.1 (listen on 0, close, reuse the number). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Wait until a TCP connect to host:port succeeds. */
export async function waitForPort(port, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise((resolve) => {
      const socket = net.connect(port, HOST);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

/** One GET (no redirects followed) with a time bound: { status, headers, bodyLength }. */
export async function probe(url, timeoutMs = 5_000) {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: Object.fromEntries(response.headers), bodyLength: body.length };
}

// ---------------------------------------------------------------- wrk

const TIME_UNITS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function toMs(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  return match ? Number(match[1]) * TIME_UNITS[match[2]] : undefined;
}

function toBytes(text) {
  const match = /^([\d.]+)(B|KB|MB|GB|TB)$/.exec(text);
  return match ? Number(match[1]) * SIZE_UNITS[match[2]] : undefined;
}

export function parseWrk(output) {
  const result = { raw: output };
  const latency = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(output);
  if (latency) {
    result.latencyAvgMs = toMs(latency[1]);
    result.latencyStdevMs = toMs(latency[2]);
    result.latencyMaxMs = toMs(latency[3]);
  }
  for (const pct of ['50', '75', '90', '99']) {
    const match = new RegExp(`^\\s*${pct}%\\s+(\\S+)`, 'm').exec(output);
    if (match) result[`p${pct}Ms`] = toMs(match[1]);
  }
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),\s+(\S+) read/m.exec(output);
  if (total) {
    result.requests = Number(total[1]);
    result.durationS = (Number(total[2]) * TIME_UNITS[total[3]]) / 1000;
    result.bytesRead = toBytes(total[4]);
  }
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output);
  if (rps) result.requestsPerSec = Number(rps[1]);
  const transfer = /^Transfer\/sec:\s+(\S+)/m.exec(output);
  if (transfer) result.transferBytesPerSec = toBytes(transfer[1]);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  result.socketErrors = socketErrors
    ? { connect: Number(socketErrors[1]), read: Number(socketErrors[2]), write: Number(socketErrors[3]), timeout: Number(socketErrors[4]) }
    : { connect: 0, read: 0, write: 0, timeout: 0 };
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  result.non2xx3xx = non2xx ? Number(non2xx[1]) : 0;
  return result;
}

/** Run wrk (bounded: killed after duration + 20 s) and parse its report. */
export function runWrk(url, { threads = 2, connections = 50, durationS = 10, latency = true, timeoutS } = {}) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${durationS}s`];
  if (latency) args.push('--latency');
  if (timeoutS) args.push('--timeout', `${timeoutS}s`);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = track(spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), (durationS + 20) * 1000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`wrk ${args.join(' ')} exited ${code}: ${err || out}`));
      else resolve({ ...parseWrk(out), command: `wrk ${args.join(' ')}` });
    });
  });
}

// ---------------------------------------------------------------- nginx

export const NGINX_BIN = '/usr/sbin/nginx';
export const NGINX_WORKERS = 2;

/** The nginx config used by every nginx run (also stored in the JSON results). */
const SEG_BUFFERING_OFF = `            # Streamed like the Node proxies (measured faster here than buffering on).
            proxy_buffering off;
            proxy_buffer_size 64k;
            proxy_buffers 4 64k;`;
const SEG_BUFFERING_ON = `            # Whole 500 KB response held in memory buffers, never in temp files.
            proxy_buffering on;
            proxy_buffer_size 64k;
            proxy_buffers 16 64k;
            proxy_busy_buffers_size 128k;
            proxy_max_temp_file_size 0;`;

/** proxy_buffering for the /seg/ location: "off" (default) or "on" (BENCH_NGINX_SEG_BUFFERING). */
export const NGINX_SEG_BUFFERING = process.env.BENCH_NGINX_SEG_BUFFERING === 'on' ? 'on' : 'off';

/**
 * What every bench nginx config starts with: foreground, NGINX_WORKERS workers, pid, error log
 * and temp folders under `dir`, no access log; it ends inside the open `http {` block.
 */
export function nginxPrelude({ dir, writtenBy }) {
  const tmp = path.join(dir, 'tmp');
  return `# RelayDeck bench peer: written by ${writtenBy}
daemon off;
master_process on;
worker_processes ${NGINX_WORKERS};
worker_rlimit_nofile 16384;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;

events {
    worker_connections 8192;
}

http {
    access_log off;
    client_body_temp_path ${tmp}/body;
    proxy_temp_path ${tmp}/proxy;
    fastcgi_temp_path ${tmp}/fastcgi;
    uwsgi_temp_path ${tmp}/uwsgi;
    scgi_temp_path ${tmp}/scgi;
`;
}

export function nginxConfig({ dir, port, originPort, segBuffering = NGINX_SEG_BUFFERING }) {
  return `${nginxPrelude({ dir, writtenBy: 'tests/bench/lib.mjs' })}
    # Segment upstream: keep-alive pool to the origin.
    upstream origin_keepalive {
        server ${HOST}:${originPort};
        keepalive 64;
    }

    server {
        listen ${HOST}:${port};

        # Benchmark 1: 302 to the node.
        location /r/ {
            return 302 http://${HOST}:${originPort}$request_uri;
        }

        # Benchmark 2: HTTP-FLV, streamed unbuffered.
        location /live/ {
            proxy_pass http://${HOST}:${originPort};
            proxy_buffering off;
            proxy_buffer_size 64k;
            proxy_http_version 1.1;
            # Unused with buffering off; nginx's config check requires it once proxy_buffer_size is 64k.
            proxy_buffers 4 64k;
        }

        # Benchmark 3: 500 KB segments, upstream keep-alive.
        location /seg/ {
            proxy_pass http://origin_keepalive;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
${segBuffering === 'on' ? SEG_BUFFERING_ON : SEG_BUFFERING_OFF}
        }
    }
}
`;
}

/** Start nginx in the foreground with its own config; resolves { child, url, pids(), conf, errorLog }. */
/** A number from the environment variable `name` (`fallback` when unset or empty); throws unless it is in min..max. */
export function envNumber(env, name, fallback, min, max) {
  const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isFinite(value) || value < min || value > max) throw new Error(`${name} must be a number in ${min}..${max}`);
  return value;
}

/**
 * Make sure dist/ runs the current sources: `npm run build:node` when any is stale, never when
 * `skipBuild` (then dist/ must exist). Returns what it did, for the report.
 */
export function ensureBuilt(root, skipBuild, progress) {
  const cli = path.join(root, 'dist', 'electron', 'engine', 'cli.js');
  if (skipBuild) {
    if (!existsSync(cli)) throw new Error('dist/electron/engine/cli.js is missing and BENCH_SKIP_BUILD=1');
    return 'BENCH_SKIP_BUILD=1';
  }
  if (existsSync(cli) && staleSources(root).length === 0) return 'dist/ up to date';
  progress('building: npm run build:node');
  const run = spawnSync('npm', ['run', 'build:node'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 300_000 });
  if (run.status !== 0) throw new Error(`npm run build:node failed:\n${run.stdout}\n${run.stderr}`);
  return 'built';
}

/** Peak resident set of a process so far (VmHWM, Linux), bytes; undefined when it cannot be read. */
export function procPeakRssBytes(pid) {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Count, p50, p99 and max of `values` (ms; non-finite values left out). */
export function percentiles(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
  return { count: sorted.length, p50Ms: at(50), p99Ms: at(99), maxMs: sorted.length ? sorted[sorted.length - 1] : NaN };
}

/** Sources under electron/ and shared/ whose dist/ output is missing or older than they are (paths relative to `root`). */
export function staleSources(root) {
  const stale = [];
  const walk = (dir) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (/\.c?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        const out = path.join(root, 'dist', rel.replace(/\.ts$/, '.js').replace(/\.cts$/, '.cjs'));
        if (!existsSync(out) || statSync(out).mtimeMs < statSync(path.join(root, rel)).mtimeMs) stale.push(rel);
      }
    }
  };
  walk('electron');
  walk('shared');
  return stale;
}

/** The version of Debian's nginx (`nginx -v`), or "?". */
export function nginxVersion() {
  const run = spawnSync(NGINX_BIN, ['-v'], { encoding: 'utf8' });
  return (/nginx\/(\S+)/.exec(`${run.stderr}${run.stdout}`) ?? [])[1] ?? '?';
}

/** Start nginx with the config `config({ dir, port, originPort })` builds (default: nginxConfig). */
export async function startNginx({ dir, originPort, config = nginxConfig }) {
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const port = await freePort();
  const conf = config({ dir, port, originPort });
  const confFile = path.join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const child = track(spawn(NGINX_BIN, ['-c', confFile, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] }));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  const ok = await Promise.race([waitForPort(port, 10_000).then(() => true), exited.then(() => false)]);
  if (!ok) throw new Error(`nginx exited early: ${stderr}`);
  // Workers start right after the listen socket opens; wait for all of them.
  const deadline = Date.now() + 5_000;
  while (childPids(child.pid).length < NGINX_WORKERS && Date.now() < deadline) await sleep(20);
  return {
    child,
    url: `http://${HOST}:${port}`,
    pids: () => [child.pid, ...childPids(child.pid)],
    conf,
    errorLog: path.join(dir, 'error.log'),
  };
}

// ---------------------------------------------------------------- formatting

/** A plain-text table: the first `left` columns left-aligned (default 1), the others right-aligned. */
export function table(headers, rows, { left = 1 } = {}) {
  const cells = [headers, ...rows].map((row) => row.map((c) => (c === undefined || c === null ? '-' : String(c))));
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) =>
    row
      .map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n');
}

export const fmt = {
  int: (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-'),
  fixed: (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '-'),
  ms: (n) => (Number.isFinite(n) ? (n < 1 ? `${(n * 1000).toFixed(0)}us` : `${n.toFixed(2)}ms`) : '-'),
  mb: (bytes) => (Number.isFinite(bytes) ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : '-'),
  ratio: (a, b) => {
    if (!(Number.isFinite(a) && Number.isFinite(b) && b !== 0)) return '-';
    const r = a / b;
    return Math.abs(r) < 0.1 && r !== 0 ? `${r.toPrecision(2)}x` : `${r.toFixed(2)}x`;
  },
  sci: (n) => (Number.isFinite(n) ? n.toExponential(2) : '-'),
};
