/** Small real-socket HTTP helpers for tests. */
import http from 'node:http';
import type http2 from 'node:http2';
import net from 'node:net';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** One request with Node's client (no redirects followed, no keep-alive). */
export function request(url: string, options: http.RequestOptions = {}, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An answer read over HTTP/2 (h2Get). */
export interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
}

/** One GET on an open HTTP/2 session, read to its end. */
export function h2Get(session: http2.ClientHttp2Session, urlPath: string): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': urlPath });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
  });
}

/** Send raw bytes on a fresh TCP connection and collect everything until the server closes or `ms` passes. */
export function rawExchange(port: number, bytes: string | Buffer, ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

/** Status code of a raw HTTP answer ("HTTP/1.1 400 ..." → 400), or 0. */
export function rawStatus(answer: string): number {
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
  return match ? Number(match[1]) : 0;
}

/** JSON body of a raw HTTP answer. */
export function rawJson(answer: string): any {
  const at = answer.indexOf('\r\n\r\n');
  return JSON.parse(answer.slice(at + 4));
}

export function portOf(url: string): number {
  return Number(new URL(url).port);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns truthy or `ms` passes. */
export async function waitFor<T>(check: () => T | Promise<T>, ms: number, what: string): Promise<Exclude<T, undefined | null | false | 0 | ''>> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, undefined | null | false | 0 | ''>;
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Wait until `read` gives the same number for `quietMs` in a row (for example a node's byte
 * count once backpressure has stopped it), and return that number. There is no event for
 * "nothing more happens", so the quiet window is the input; `ms` bounds the whole wait.
 */
export async function waitUntilSteady(read: () => number, quietMs: number, ms: number, what: string): Promise<number> {
  let last = read();
  let since = Date.now();
  return waitFor(
    () => {
      const now = read();
      if (now !== last) {
        last = now;
        since = Date.now();
        return false;
      }
      return Date.now() - since >= quietMs ? { value: now } : false;
    },
    ms,
    what,
  ).then((steady) => steady.value);
}
