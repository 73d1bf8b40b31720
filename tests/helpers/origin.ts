/**
 * A real HTTP origin for tests: each test gives it a handler and reads what it saw
 * (requests, connections opened, connections open now, when each closed).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
}

export class TestOrigin {
  readonly server: http.Server;
  readonly requests: SeenRequest[] = [];
  connectionsOpened = 0;
  readonly openSockets = new Set<Socket>();
  /** Resolvers waiting for the next socket close. */
  private closeWaiters: (() => void)[] = [];
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok');

  constructor() {
    this.server = http.createServer((req, res) => {
      this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders });
      this.handler(req, res);
    });
    this.server.on('connection', (socket: Socket) => {
      this.connectionsOpened += 1;
      this.openSockets.add(socket);
      socket.on('close', () => {
        this.openSockets.delete(socket);
        const waiters = this.closeWaiters;
        this.closeWaiters = [];
        waiters.forEach((w) => w());
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves when the origin has no open connections, or rejects after `ms`. */
  async waitAllClosed(ms: number): Promise<number> {
    const started = Date.now();
    while (this.openSockets.size > 0) {
      const left = ms - (Date.now() - started);
      if (left <= 0) throw new Error(`origin still has ${this.openSockets.size} open connection(s) after ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.closeWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return Date.now() - started;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A handler that streams `chunk` every `intervalMs` until the client goes away. */
export function streamingHandler(chunk: Buffer, intervalMs: number, headers: http.OutgoingHttpHeaders = { 'content-type': 'video/x-flv' }) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, headers);
    res.write(chunk);
    const timer = setInterval(() => res.write(chunk), intervalMs);
    res.on('close', () => clearInterval(timer));
  };
}
