/**
 * An operator's admission webhook for tests: a real HTTP server on 127.0.0.1 whose answer
 * each test sets (`answer`), recording every call it got, start ("play") and end ("stop")
 * alike. `hang` holds calls unanswered until the server stops.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One call the service received: its path, headers and JSON body. */
export interface WebhookCall {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  at: number;
}

/** How the service answers a call: a status and a JSON body, or "hang" (never answer). */
export type WebhookReply = { status: number; body?: unknown } | 'hang';

export class WebhookService {
  readonly calls: WebhookCall[] = [];
  /** The answer by path (the default for any other path: 200 with no body). */
  readonly answers = new Map<string, WebhookReply | ((call: WebhookCall) => WebhookReply)>();
  private readonly server = http.createServer((req, res) => this.serve(req, res));
  private readonly held = new Set<ServerResponse>();
  url = '';

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Calls to one path. */
  callsTo(path: string): WebhookCall[] {
    return this.calls.filter((call) => call.path === path);
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call: WebhookCall = { path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString() || 'null'), at: Date.now() };
      this.calls.push(call);
      const configured = this.answers.get(call.path) ?? { status: 200 };
      const reply = typeof configured === 'function' ? configured(call) : configured;
      if (reply === 'hang') {
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      }
      const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
      res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  }
}
