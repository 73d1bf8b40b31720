/**
 * One upstream pull of a live FLV stream from a node: a GET with the relay's connect,
 * response-header and idle-stream timeouts. It reports the response, the data and how it
 * ended, exactly once; abort() cuts it and frees the connection.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { classifyUpstreamError, RelayError } from '../../core/errors.js';
import type { ExchangeTimeouts } from '../exchange.js';

export interface PullEvents {
  /** The node answered; return false to stop (e.g. a non-2xx status). */
  onResponse(status: number): boolean;
  onData(chunk: Buffer): void;
  /** The pull ended: cleanly (undefined) or with an error. Called once. */
  onEnd(error?: RelayError): void;
}

export class FlvPull {
  private request: http.ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastDataAt = 0;
  private ended = false;

  constructor(
    readonly url: URL,
    private readonly timeouts: ExchangeTimeouts,
    private readonly events: PullEvents,
  ) {}

  start(headers: http.OutgoingHttpHeaders): void {
    const lib = this.url.protocol === 'https:' ? https : http;
    const request = lib.request(this.url, { method: 'GET', agent: false, headers });
    this.request = request;
    this.arm(this.timeouts.connectTimeoutMs, () => new RelayError('DIAL', `connect to node timed out after ${this.timeouts.connectTimeoutMs} ms`));
    request.on('socket', (socket: Socket) => {
      socket.setNoDelay(true);
      socket.once('connect', () => this.arm(this.timeouts.headerTimeoutMs, () => new RelayError('UPSTREAM_TIMEOUT', `node sent no response headers within ${this.timeouts.headerTimeoutMs} ms`)));
    });
    request.on('error', (error: NodeJS.ErrnoException) => this.finish(classifyUpstreamError(error, false)));
    request.on('response', (response) => {
      clearTimeout(this.timer);
      if (!this.events.onResponse(response.statusCode ?? 0)) {
        this.abort();
        return;
      }
      this.watchIdle();
      response.on('data', (chunk: Buffer) => {
        this.lastDataAt = Date.now();
        if (!this.ended) this.events.onData(chunk);
      });
      response.on('error', (error: NodeJS.ErrnoException) => this.finish(classifyUpstreamError(error, true)));
      response.on('end', () => this.finish());
      response.on('close', () => {
        if (!response.complete) this.finish(new RelayError('UPSTREAM_RESET', 'node connection lost mid-stream'));
      });
    });
    request.end();
  }

  private arm(ms: number, error: () => RelayError): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.finish(error());
      this.request?.destroy();
    }, ms);
  }

  private watchIdle(): void {
    const idleMs = this.timeouts.idleStreamTimeoutMs;
    if (idleMs <= 0) return;
    this.lastDataAt = Date.now();
    const check = () => {
      if (this.ended) return;
      const quietFor = Date.now() - this.lastDataAt;
      if (quietFor >= idleMs) {
        this.finish(new RelayError('IDLE_TIMEOUT', `node sent no bytes for ${idleMs} ms`));
        this.request?.destroy();
      } else this.timer = setTimeout(check, idleMs - quietFor);
    };
    this.timer = setTimeout(check, idleMs);
  }

  private finish(error?: RelayError): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.events.onEnd(error);
  }

  /** Cut the pull now (no onEnd call follows). */
  abort(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.request?.destroy();
  }
}
