/**
 * What every proxy engine shares for one proxied request: the connect, response-header
 * and idle-stream timers, byte counting, the viewer-left rule (abort upstream at once),
 * error answers, and closing the session exactly once with its final status.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../log.js';
import { classifyUpstreamError, ERROR_STATUS, RelayError } from './errors.js';
import { sendError } from './respond.js';
import type { Session, SessionRegistry } from './sessions.js';

/** Timeouts for one proxied request, in ms (see RelaySettings). */
export interface ExchangeTimeouts {
  connectTimeoutMs: number;
  headerTimeoutMs: number;
  /** 0 disables. */
  idleStreamTimeoutMs: number;
}

export class ProxyExchange {
  private done = false;
  private upstream: ClientRequest | undefined;
  private upstreamResponse: IncomingMessage | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private headerTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastDataAt = 0;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly session: Session,
    private readonly sessions: SessionRegistry,
    private readonly timeouts: ExchangeTimeouts,
    private readonly log: Logger,
    /** Reports an upstream failure (by error code) so it can count against the node. */
    private readonly onUpstreamFailure: (code: string) => void = () => {},
  ) {
    session.abort = (reason) => this.abort(reason);
    session.finishGracefully = () => this.finishGracefully();
    res.on('close', () => this.onViewerClosed());
  }

  /** Attach the upstream request: starts the connect and header timers. */
  attachUpstream(upstream: ClientRequest): void {
    this.upstream = upstream;
    this.connectTimer = setTimeout(() => this.fail(new RelayError('DIAL', `connect to node timed out after ${this.timeouts.connectTimeoutMs} ms`)), this.timeouts.connectTimeoutMs);
    const watch = (socket: Socket) => {
      if (socket.connecting) socket.once('connect', () => this.onConnected());
      else this.onConnected();
    };
    if (upstream.socket) watch(upstream.socket);
    else upstream.once('socket', watch);
  }

  private onConnected(): void {
    clearTimeout(this.connectTimer);
    if (this.done || this.upstreamResponse) return;
    this.headerTimer = setTimeout(
      () => this.fail(new RelayError('UPSTREAM_TIMEOUT', `node sent no response headers within ${this.timeouts.headerTimeoutMs} ms`)),
      this.timeouts.headerTimeoutMs,
    );
  }

  /** The node answered: stop header timing, start counting bytes and idle timing. */
  onUpstreamResponse(upstreamResponse: IncomingMessage): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.headerTimer);
    this.upstreamResponse = upstreamResponse;
    this.session.status = upstreamResponse.statusCode ?? 0;
    const stats = this.session.routeStats;
    const node = this.session.node;
    upstreamResponse.on('data', (chunk: Buffer) => {
      this.lastDataAt = Date.now();
      this.session.bytesIn += chunk.length;
      stats.bytesIn += chunk.length;
      if (node) node.bytesIn += chunk.length;
    });
    upstreamResponse.on('error', (error: NodeJS.ErrnoException) => this.upstreamError(error));
    upstreamResponse.on('close', () => {
      if (!upstreamResponse.complete) this.fail(new RelayError('UPSTREAM_RESET', 'node connection lost mid-response'));
    });
    this.armIdleTimer();
  }

  /** Count bytes handed to the viewer (the engine calls this per written chunk). */
  countOut(length: number): void {
    this.session.bytesOut += length;
    this.session.routeStats.bytesOut += length;
    if (this.session.node) this.session.node.bytesOut += length;
  }

  private armIdleTimer(): void {
    const idleMs = this.timeouts.idleStreamTimeoutMs;
    if (idleMs <= 0 || this.done) return;
    this.lastDataAt = Date.now();
    const check = () => {
      if (this.done) return;
      const quietFor = Date.now() - this.lastDataAt;
      if (quietFor >= idleMs) this.fail(new RelayError('IDLE_TIMEOUT', `node sent no bytes for ${idleMs} ms`));
      else this.idleTimer = setTimeout(check, idleMs - quietFor);
    };
    this.idleTimer = setTimeout(check, idleMs);
  }

  /** Upstream finished normally and the viewer's response was ended. */
  complete(): void {
    this.finish(this.session.status || this.res.statusCode);
  }

  /** Map an upstream error and end the exchange: JSON answer before headers, abort after. */
  upstreamError(error: NodeJS.ErrnoException): void {
    this.fail(error instanceof RelayError ? error : classifyUpstreamError(error, this.upstreamResponse !== undefined));
  }

  fail(error: RelayError): void {
    if (this.done) return;
    this.onUpstreamFailure(error.code);
    if (error.code === 'INTERNAL') this.log.error(`session ${this.session.id}: ${error.message}`);
    else this.log.info(`${this.session.facts.path}: ${error.code} ${error.message}`);
    this.upstream?.destroy();
    if (this.res.headersSent) this.res.destroy();
    else sendError(this.res, error);
    this.finish(this.res.headersSent && this.session.status ? this.session.status : error.status, error.code);
  }

  private onViewerClosed(): void {
    if (this.done) return;
    if (this.res.writableFinished) {
      this.finish(this.session.status || this.res.statusCode);
      return;
    }
    this.upstream?.destroy();
    this.finish(ERROR_STATUS.CLIENT_CLOSED, 'CLIENT_CLOSED');
  }

  /** Operator kick or hard stop: cut both sides now. */
  abort(reason: string): void {
    if (this.done) return;
    this.log.info(`session ${this.session.id} aborted: ${reason}`);
    this.upstream?.destroy();
    this.res.destroy();
    this.finish(ERROR_STATUS.CLIENT_CLOSED, 'CLIENT_CLOSED');
  }

  /** Shutdown: end a chunked stream with its terminator so players see a clean end. */
  finishGracefully(): void {
    if (this.done) return;
    this.upstream?.destroy();
    const chunked = this.res.headersSent && !this.res.hasHeader('content-length');
    if (chunked) this.res.end();
    else if (this.res.headersSent) this.res.destroy();
    else sendError(this.res, new RelayError('OVERLOADED', 'relay is shutting down'));
    this.finish(this.session.status || ERROR_STATUS.OVERLOADED, this.session.status ? undefined : 'OVERLOADED');
  }

  private finish(status: number, errorCode?: string): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.headerTimer);
    clearTimeout(this.idleTimer);
    this.session.routeStats.active -= 1;
    this.sessions.close(this.session, status, errorCode);
  }
}
