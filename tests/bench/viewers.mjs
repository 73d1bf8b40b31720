// Viewer load for the HTTP-FLV bench, forked by run.mjs with an IPC channel.
// Opens N plain TCP connections that each send one GET and keep reading (bytes are counted,
// not parsed: every read lands in one shared buffer, so the load generator stays cheap),
// ramped in batches; after each batch it sends { type: 'ramp', opened } so the parent can
// spread its measuring viewers through the ramp. Once every viewer has its first bytes (or
// after a bounded wait) and a 1 s settle, it measures a window of --seconds: it sends
// { type: 'window-start' } and { type: 'window-end' } so the parent can sample CPU, then waits
// for { cmd: 'leave' } (at most --leave-wait-ms), closes every socket at once and sends
// { type: 'result', ... } with per-viewer byte rates.
// HTTPS: an https:// URL with --ca FILE (the PEM of the CA that signed the server's certificate;
// the certificate is verified, never "ignore errors") speaks HTTP/1.1 over TLS (ALPN http/1.1,
// full handshake per viewer, no session resumption). A TLS socket cannot read into the shared
// buffer: each decrypted record arrives as its own Buffer, and the decryption runs in this
// process, so the load generator itself costs more CPU than with plain TCP. The result then
// also says which TLS version and cipher the viewers got (tls: { "TLSv1.3 TLS_AES_256_GCM_SHA384": N }).
// Usage: node viewers.mjs --url URL --n N --seconds S --bitrate BITS [--ca FILE]
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const url = new URL(opt('--url'));
const N = Number(opt('--n', 200));
const SECONDS = Number(opt('--seconds', 15));
const BITRATE = Number(opt('--bitrate', 2_000_000));
const BATCH = Number(opt('--batch', 100));
const BATCH_GAP_MS = Number(opt('--batch-gap-ms', 25));
const FIRST_BYTE_WAIT_MS = Number(opt('--first-byte-wait-ms', 10_000));
const LEAVE_WAIT_MS = Number(opt('--leave-wait-ms', 15_000));
const CA_FILE = opt('--ca');
const CA = CA_FILE ? readFileSync(CA_FILE) : undefined;
const TLS = url.protocol === 'https:';
if (TLS && !CA) throw new Error('viewers.mjs: an https:// URL needs --ca FILE');
const SETTLE_MS = 1_000;
const MIN_FRACTION = 0.9;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const send = (message) => process.send?.(message);

const request = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: relaydeck-bench-viewer\r\nAccept: */*\r\n\r\n`;
/** Every socket reads into this one buffer: its bytes are only counted, never kept. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);

class Viewer {
  bytes = 0;
  reads = 0;
  status = 0;
  firstByteAt = 0;
  startedAt = performance.now();
  error = '';
  closedEarly = false;
  windowStartBytes = 0;
  windowEndBytes = 0;
  windowStartReads = 0;
  windowEndReads = 0;
  inWindow = false;
  lastDataAt = 0;
  maxGapMs = 0;

  tlsInfo = '';

  constructor() {
    if (TLS) {
      this.socket = tls.connect({ host: url.hostname, port: Number(url.port), ca: CA, ALPNProtocols: ['http/1.1'] });
      this.socket.on('data', (buf) => this.onRead(buf.length, buf));
      this.socket.on('secureConnect', () => {
        this.tlsInfo = `${this.socket.getProtocol()} ${this.socket.getCipher()?.standardName ?? this.socket.getCipher()?.name}${this.socket.isSessionReused() ? ' resumed' : ''}`;
        this.socket.write(request);
      });
    } else {
      this.socket = net.connect({
        host: url.hostname,
        port: Number(url.port),
        onread: { buffer: readBuffer, callback: (nread, buf) => this.onRead(nread, buf) },
      });
      this.socket.on('connect', () => this.socket.write(request));
    }
    this.socket.setNoDelay(true);
    this.socket.on('error', (error) => {
      this.error ||= error.code || error.message;
    });
    this.socket.on('close', () => {
      if (!this.finished) this.closedEarly = true;
    });
  }

  onRead(nread, buf) {
    const now = performance.now();
    if (this.bytes === 0) {
      this.firstByteAt = now;
      const line = buf.toString('latin1', 0, Math.min(nread, 32));
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(line);
      this.status = match ? Number(match[1]) : -1;
    }
    if (this.inWindow && this.lastDataAt) this.maxGapMs = Math.max(this.maxGapMs, now - this.lastDataAt);
    this.lastDataAt = now;
    this.bytes += nread;
    this.reads += 1;
  }
}

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

let leaveAsked;
const leave = new Promise((resolve) => (leaveAsked = resolve));
process.on('message', (message) => {
  if (message?.cmd === 'leave') leaveAsked();
});
process.on('disconnect', () => process.exit(0));

const viewers = [];
const rampStart = performance.now();
for (let i = 0; i < N; i += BATCH) {
  for (let j = i; j < Math.min(N, i + BATCH); j += 1) viewers.push(new Viewer());
  send({ type: 'ramp', opened: viewers.length, of: N });
  await sleep(BATCH_GAP_MS);
}
const rampMs = performance.now() - rampStart;

const waitDeadline = performance.now() + FIRST_BYTE_WAIT_MS;
while (performance.now() < waitDeadline && viewers.some((v) => v.bytes === 0 && !v.closedEarly)) await sleep(50);
const withFirstByte = viewers.filter((v) => v.bytes > 0).length;
await sleep(SETTLE_MS);

send({ type: 'window-start' });
const windowStart = performance.now();
for (const v of viewers) {
  v.windowStartBytes = v.bytes;
  v.windowStartReads = v.reads;
  v.inWindow = true;
}
await sleep(SECONDS * 1000);
const windowSeconds = (performance.now() - windowStart) / 1000;
for (const v of viewers) {
  v.windowEndBytes = v.bytes;
  v.windowEndReads = v.reads;
  v.inWindow = false;
}
send({ type: 'window-end', windowSeconds });
await Promise.race([leave, sleep(LEAVE_WAIT_MS)]);

// Leave all at once, as a crowd leaving when a stream ends.
for (const v of viewers) {
  v.finished = true;
  v.socket.destroy();
}

const expectedBytesPerSec = BITRATE / 8;
const rates = viewers.map((v) => (v.windowEndBytes - v.windowStartBytes) / windowSeconds);
const sorted = [...rates].sort((a, b) => a - b);
const firstByteMs = viewers
  .filter((v) => v.firstByteAt)
  .map((v) => v.firstByteAt - v.startedAt)
  .sort((a, b) => a - b);
const gaps = viewers.map((v) => v.maxGapMs).sort((a, b) => a - b);
const statuses = {};
for (const v of viewers) statuses[v.status] = (statuses[v.status] ?? 0) + 1;
const errors = {};
for (const v of viewers) if (v.error) errors[v.error] = (errors[v.error] ?? 0) + 1;
const tlsSessions = {};
for (const v of viewers) if (v.tlsInfo) tlsSessions[v.tlsInfo] = (tlsSessions[v.tlsInfo] ?? 0) + 1;
const readsInWindow = viewers.reduce((sum, v) => sum + v.windowEndReads - v.windowStartReads, 0);

send({
  type: 'result',
  n: N,
  url: url.href,
  rampMs,
  withFirstByte,
  windowSeconds,
  expectedBytesPerSec,
  statuses,
  errors,
  ...(TLS ? { tls: tlsSessions } : {}),
  closedEarly: viewers.filter((v) => v.closedEarly).length,
  belowMinRate: rates.filter((r) => r < MIN_FRACTION * expectedBytesPerSec).length,
  minFraction: MIN_FRACTION,
  rateBytesPerSec: { min: sorted[0], p5: quantile(sorted, 0.05), median: quantile(sorted, 0.5), max: sorted[sorted.length - 1] },
  totalBytesInWindow: viewers.reduce((sum, v) => sum + v.windowEndBytes - v.windowStartBytes, 0),
  /** Socket reads per viewer per second in the window: about the proxy's writes per viewer per second. */
  readsPerViewerPerSec: readsInWindow / N / windowSeconds,
  firstByteMs: { median: quantile(firstByteMs, 0.5), p99: quantile(firstByteMs, 0.99), max: firstByteMs[firstByteMs.length - 1] },
  maxGapMs: { median: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), max: gaps[gaps.length - 1] },
});
setTimeout(() => process.exit(0), 100);
