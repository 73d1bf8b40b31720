/**
 * A raw TCP "node" for request-smuggling tests: it parses requests out of each connection's
 * byte stream the way a lenient backend would (keep-alive, pipelining, Content-Length, any
 * Transfer-Encoding that mentions chunked, no framing = no body) and logs every request it
 * finds, with the framing headers it carried. A body the relay forwards without its framing
 * shows up here as an extra request. Each request is answered 200 with a JSON echo.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ParsedRequest {
  /** Which connection (1, 2, ...) and which request on it (1, 2, ...). */
  connection: number;
  index: number;
  method: string;
  path: string;
  headers: [string, string][];
  /** The Content-Length and Transfer-Encoding fields as sent ("content-length: 5"). */
  framing: string[];
  body: Buffer;
}

const HEAD_END = '\r\n\r\n';

/** One request from the front of `buffer`, or undefined when more bytes are needed. */
function parseOne(buffer: Buffer): { request: Omit<ParsedRequest, 'connection' | 'index'>; used: number } | undefined {
  const headEnd = buffer.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const [requestLine, ...lines] = buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
  const [method = '', path = ''] = requestLine.split(' ');
  const headers = lines.map((line): [string, string] => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]);
  const framing = headers.filter(([name]) => name === 'content-length' || name === 'transfer-encoding').map(([name, value]) => `${name}: ${value}`);
  const chunked = headers.some(([name, value]) => name === 'transfer-encoding' && /chunked/i.test(value));
  const length = Number(headers.find(([name]) => name === 'content-length')?.[1] ?? 0);
  let at = headEnd + HEAD_END.length;
  const parts: Buffer[] = [];
  if (chunked) {
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buffer.subarray(at, lineEnd).toString('latin1'), 16) || 0;
      if (size === 0) {
        // The last chunk: trailer fields, if any, up to an empty line.
        const trailerEnd = buffer.indexOf(HEAD_END, lineEnd);
        if (trailerEnd < 0) return undefined;
        at = trailerEnd + HEAD_END.length;
        break;
      }
      if (buffer.length < lineEnd + 2 + size + 2) return undefined;
      parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  } else if (length > 0) {
    if (buffer.length < at + length) return undefined;
    parts.push(buffer.subarray(at, at + length));
    at += length;
  }
  return { request: { method, path, headers, framing, body: Buffer.concat(parts) }, used: at };
}

export class FramingOrigin {
  readonly server: net.Server;
  readonly requests: ParsedRequest[] = [];
  private connections = 0;
  private readonly sockets = new Set<net.Socket>();
  private waiters: (() => void)[] = [];

  constructor() {
    this.server = net.createServer((socket) => {
      const connection = ++this.connections;
      let index = 0;
      let pending = Buffer.alloc(0);
      this.sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('data', (data: Buffer) => {
        pending = Buffer.concat([pending, data]);
        for (let parsed = parseOne(pending); parsed; parsed = parseOne(pending)) {
          pending = pending.subarray(parsed.used);
          this.requests.push({ connection, index: ++index, ...parsed.request });
          const echo = JSON.stringify({ path: parsed.request.path, body: parsed.request.body.toString('latin1') });
          const body = parsed.request.method === 'HEAD' ? '' : echo;
          socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(echo)}\r\n\r\n${body}`);
          const waiters = this.waiters;
          this.waiters = [];
          waiters.forEach((wake) => wake());
        }
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves once `count` requests have been logged in all, or rejects after `ms`. */
  async waitForRequests(count: number, ms = 3000): Promise<ParsedRequest[]> {
    const deadline = Date.now() + ms;
    while (this.requests.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`node logged ${this.requests.length} of ${count} requests within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.requests;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
