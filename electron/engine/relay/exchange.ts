/**
 * What every proxy engine shares for one proxied request: the connect, request-body,
 * response-header and idle-stream timers, byte counting, the viewer-left rule (abort
 * upstream at once), error answers, and closing the session exactly once with its final status.
 *
 * A timer charges the node only for the node's own delay (errors.ts isNodeFault decides what
 * counts): the response-header clock starts once the whole request, body included, was
 * written to the node; a body the viewer stops sending is the viewer's (408 REQUEST_TIMEOUT);
 * and a response the viewer stops reading (its socket full, the node paused) ends as the
 * viewer's CLIENT_STALLED, never as the node's IDLE_TIMEOUT. A HEAD's header timeout is not
 * reported either: a streaming node may hold a HEAD's headers until its endless body ends.
 */
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../core/log.js';
import { classifyUpstreamError, ERROR_STATUS, RelayError } from '../core/errors.js';
import { sendError } from './respond.js';
import type { Session, SessionRegistry } from './sessions.js';

/** Timeouts for one proxied request, in ms (see RelaySettings). */
export interface ExchangeTimeouts {
  connectTimeoutMs: number;
  headerTimeoutMs: number;
  /** 0 disables. */
  idleStreamTimeoutMs: number;
  /** Longest pause in a viewer's request body (uploads through a proxy route). */
  requestBodyIdleTimeoutMs: number;
}

export class ProxyExchange {
  private done = false;
  private upstream: ClientRequest | undefined;
  private upstreamResponse: IncomingMessage | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private headerTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private bodyTimer: NodeJS.Timeout | undefined;
  private lastDataAt = 0;
  private connected = false;
  /** The whole request (body included) was written to the node. */
  private requestSent = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly session: Session,
    private readonly sessions: SessionRegistry,
    private readonly timeouts: ExchangeTimeouts,
    private readonly log: Logger,
    /** Reports every failure by error code (but a HEAD's header timeout); the owner counts it against the node when errors.ts isNodeFault says so. */
    private readonly onUpstreamFailure: (code: string) => void = () => {},
  ) {
    session.abort = (reason) => this.abort(reason);
    session.finishGracefully = () => this.finishGracefully();
    res.on('close', () => this.onViewerClosed());
  }

  /** Attach the upstream request: starts the connect and request-body timers (the header timer follows). */
  attachUpstream(upstream: ClientRequest): void {
    this.upstream = upstream;
    upstream.once('finish', () => {
      this.requestSent = true;
      this.startHeaderTimer();
    });
    this.watchRequestBody();
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
    this.connected = true;
    this.startHeaderTimer();
  }

  /** The node's response-header clock: from the moment it is connected and has the whole request. */
  private startHeaderTimer(): void {
    if (this.done || this.upstreamResponse || this.headerTimer || !this.connected || !this.requestSent) return;
    this.headerTimer = setTimeout(
      () => this.fail(new RelayError('UPSTREAM_TIMEOUT', `node sent no response headers within ${this.timeouts.headerTimeoutMs} ms`)),
      this.timeouts.headerTimeoutMs,
    );
  }

  /**
   * While the viewer's body is in flight: a pause of requestBodyIdleTimeoutMs is the viewer's
   * (408), unless the node is the one not taking it (its socket full once connected).
   */
  private watchRequestBody(): void {
    const idleMs = this.timeouts.requestBodyIdleTimeoutMs;
    let lastBodyAt = Date.now();
    const onBody = () => (lastBodyAt = Date.now());
    this.req.on('data', onBody);
    const check = () => {
      if (this.done || this.req.complete || this.upstreamResponse) {
        this.req.off('data', onBody);
        return;
      }
      const quietFor = Date.now() - lastBodyAt;
      if (quietFor < idleMs) {
        this.bodyTimer = setTimeout(check, idleMs - quietFor);
      } else if (!this.upstream?.writableNeedDrain) {
        this.fail(new RelayError('REQUEST_TIMEOUT', `viewer sent no request body bytes for ${idleMs} ms`));
      } else if (this.connected) {
        this.fail(new RelayError('UPSTREAM_TIMEOUT', `node took no request body bytes for ${idleMs} ms`));
      } else {
        lastBodyAt = Date.now(); // not connected yet: the connect timer judges the node
        this.bodyTimer = setTimeout(check, idleMs);
      }
    };
    this.bodyTimer = setTimeout(check, idleMs);
  }

  /** The node answered: stop header and body timing, start counting bytes and idle timing. */
  onUpstreamResponse(upstreamResponse: IncomingMessage): void {
    clearTimeout(this.connectTimer);
    clearTimeout(this.headerTimer);
    clearTimeout(this.bodyTimer);
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
    // The viewer made room: the node is asked for bytes again, so its idle clock starts over.
    this.res.on('drain', () => (this.lastDataAt = Date.now()));
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
      if (quietFor < idleMs) this.idleTimer = setTimeout(check, idleMs - quietFor);
      // The node is paused because the viewer's socket is full: the silence is the viewer's.
      else if (this.res.writableNeedDrain) this.fail(new RelayError('CLIENT_STALLED', `viewer made no room for the node's bytes for ${idleMs} ms`));
      else this.fail(new RelayError('IDLE_TIMEOUT', `node sent no bytes for ${idleMs} ms`));
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
    // The viewer chose HEAD, which a node serving a live stream (Node's http server, node-media-server) answers only when the body would end.
    if (!(error.code === 'UPSTREAM_TIMEOUT' && this.req.method === 'HEAD')) this.onUpstreamFailure(error.code);
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
    clearTimeout(this.bodyTimer);
    this.session.routeStats.active -= 1;
    this.sessions.close(this.session, status, errorCode);
  }
}
