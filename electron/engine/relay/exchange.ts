/**
 * What every proxy engine shares for one proxied request, on top of the upstream transport
 * (upstream/transport.ts, which owns the clocks, the classification and the pools): the
 * session's status and byte counts, the viewer-left rule (abort upstream at once), error
 * answers (JSON before headers, a cut after), and closing the session exactly once.
 *
 * The transport charges the node only for the node's own delay: a request body the viewer
 * stops sending is the viewer's (408 REQUEST_TIMEOUT), and a response the viewer stops
 * reading (its socket full, the node paused) ends as the viewer's CLIENT_STALLED, never as
 * the node's IDLE_TIMEOUT. A HEAD's header timeout is not reported against the node: a
 * streaming node may hold a HEAD's headers until its endless body ends. A paced response
 * (routes[].limits.viewerBytesPerSecond, pacing.ts) waiting for its rate is neither: that
 * wait is not counted at all.
 *
 * States: no call yet → call attached (connecting, sending, waiting for headers) → response
 * headers passed on (streaming) → done (completed, failed, viewer gone, aborted or finished
 * gracefully). The first end wins; every later one does nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from '../core/log.js';
import { ERROR_STATUS, RelayError } from '../core/errors.js';
import { classifyFailure } from '../upstream/transport/classify.js';
import type { ReaderHold, UpstreamCall, UpstreamEvents, UpstreamResponse, UpstreamTimeouts } from '../upstream/transport.js';
import { PacedPipe } from './pacing.js';
import { sendError } from './respond.js';
import type { Session } from './sessions.js';

/** Timeouts for one proxied request, in ms (see RelaySettings); the request-body pause limit is always set here. */
export type ExchangeTimeouts = UpstreamTimeouts & { requestBodyIdleTimeoutMs: number };

export class ProxyExchange implements UpstreamEvents {
  private done = false;
  private call: UpstreamCall | undefined;
  private upstreamResponse: UpstreamResponse | undefined;
  /** The body's way to the viewer when the route paces it (pipePaced); absent: the engine writes it unpaced. */
  private pacing: PacedPipe | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly session: Session,
    readonly timeouts: ExchangeTimeouts,
    private readonly log: Logger,
    /** Reports every failure by error code (but a HEAD's header timeout); the owner counts it against the node when errors.ts isNodeFault says so. */
    private readonly onUpstreamFailure: (code: string) => void = () => {},
  ) {
    res.on('close', () => this.onViewerClosed());
  }

  /** How the viewer holds the node back: while its socket is full, the node's silence is the viewer's (CLIENT_STALLED); while its pacing waits, no one's. */
  readonly hold: ReaderHold = {
    blocked: () => this.res.writableNeedDrain,
    whileBlocked: 'stalled',
    waiting: () => this.pacing !== undefined && this.pacing.waiting,
  };

  /** The transport call carrying this request (made with this exchange as its events). */
  attach(call: UpstreamCall): void {
    this.call = call;
    if (this.done) call.abort();
  }

  /** The node answered (the transport reports it; the http-proxy-3 engine calls it from proxyRes): count its bytes from here. */
  onResponse(response: UpstreamResponse): void {
    if (this.upstreamResponse || this.done) return;
    this.upstreamResponse = response;
    this.session.status = response.status;
    const { session } = this;
    const stats = session.routeStats;
    response.body.on('data', (chunk: Buffer) => {
      session.bytesIn += chunk.length;
      stats.bytesIn += chunk.length;
      if (session.node) session.node.bytesIn += chunk.length;
    });
    // The viewer made room: the node is asked for bytes again, so its idle clock starts over.
    this.res.on('drain', () => this.call?.readerResumed());
  }

  /** The transport ended the call: a failure ends the exchange; a clean end leaves completion to the engine (after the viewer's response ends). */
  onEnd(error?: RelayError): void {
    if (error) this.fail(error);
  }

  /** Count bytes handed to the viewer (the engine calls this per written chunk). */
  countOut(length: number): void {
    this.session.bytesOut += length;
    this.session.routeStats.bytesOut += length;
    if (this.session.node) this.session.node.bytesOut += length;
  }

  /**
   * Write the node's body to the viewer at most `bytesPerSecond` (pacing.ts), counting each
   * write, and complete when it ended; the engine calls it after the headers, instead of
   * writing the body itself. Only for a rate above 0.
   */
  pipePaced(body: Readable, bytesPerSecond: number): void {
    if (this.done) return;
    this.pacing = new PacedPipe(body, this.res, bytesPerSecond, {
      written: (bytes) => this.countOut(bytes),
      resumed: () => this.call?.readerResumed(),
      ended: () => this.complete(),
    });
  }

  /** Upstream finished normally and the viewer's response was ended. */
  complete(): void {
    this.finish(this.session.status || this.res.statusCode);
  }

  /** An error an engine saw itself (http-proxy-3's callback): classified once by the transport. */
  upstreamError(error: unknown): void {
    if (this.call) this.call.fail(error);
    else this.fail(classifyFailure(error, this.upstreamResponse !== undefined));
  }

  /** End the exchange with `error`: a JSON answer before the headers went out, a cut after. */
  fail(error: RelayError): void {
    if (this.done) return;
    // The viewer chose HEAD, which a node serving a live stream (Node's http server, node-media-server) answers only when the body would end.
    if (!(error.code === 'UPSTREAM_TIMEOUT' && this.req.method === 'HEAD')) this.onUpstreamFailure(error.code);
    if (error.code === 'INTERNAL') this.log.error(`session ${this.session.id}: ${error.message}`);
    else this.log.info(`${this.session.facts.path}: ${error.code} ${error.message}`);
    this.call?.abort(error);
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
    this.call?.abort(new RelayError('CLIENT_CLOSED', 'the viewer went away'));
    this.finish(ERROR_STATUS.CLIENT_CLOSED, 'CLIENT_CLOSED');
  }

  /** Operator kick or hard stop: cut both sides now. */
  abort(reason: string, code?: 'KICKED' | 'SESSION_TIME_LIMIT'): void {
    if (this.done) return;
    this.log.info(`session ${this.session.id} aborted: ${reason}`);
    this.call?.abort(new RelayError('CLIENT_CLOSED', `session aborted: ${reason}`));
    this.res.destroy();
    // An operator kick keeps its record as before (CLIENT_CLOSED); a time limit says so.
    this.finish(ERROR_STATUS.CLIENT_CLOSED, code === 'SESSION_TIME_LIMIT' ? code : 'CLIENT_CLOSED');
  }

  /** Shutdown: end a chunked stream with its terminator so players see a clean end. */
  finishGracefully(): void {
    if (this.done) return;
    this.call?.abort();
    const chunked = this.res.headersSent && !this.res.hasHeader('content-length');
    if (chunked) this.res.end();
    else if (this.res.headersSent) this.res.destroy();
    else sendError(this.res, new RelayError('OVERLOADED', 'relay is shutting down'));
    this.finish(this.session.status || ERROR_STATUS.OVERLOADED, this.session.status ? undefined : 'OVERLOADED');
  }

  private finish(status: number, errorCode?: string): void {
    if (this.done) return;
    this.done = true;
    this.pacing?.stop();
    this.session.close(status, errorCode);
  }
}
