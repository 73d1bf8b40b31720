/**
 * The HTTP/2 connections (sessions) of the HTTPS listener, and the limits HTTP/1.1 gets from
 * Node's HTTP server, for HTTP/2:
 *  - slowloris: a new connection must open its first request within relay.headerReadTimeoutMs,
 *    and a connection with no request open for tls.http2IdleTimeoutMs is closed (GOAWAY);
 *  - rapid reset (CVE-2023-44487): a connection that abandons more than
 *    tls.http2MaxResetsPerSecond requests in a second is cut. nghttp2 has its own limit (a
 *    burst of 1000, then 33 a second), but it only sends GOAWAY and leaves the connection
 *    open, and Node 20 cannot set it; every abandoned request has already cost a routing
 *    decision, maybe an upstream request, so the bound here is far lower;
 *  - SETTINGS and PING floods: more than tls.http2MaxControlFramesPerSecond a second cuts the
 *    connection (nghttp2 only stops a peer that does not read its acknowledgements).
 * Concurrent streams, header list size and session memory are nghttp2's own settings
 * (server options in listener.ts). A cut connection gets GOAWAY ENHANCE_YOUR_CALM and a warning
 * in the log. The set of live sessions shrinks as each one closes; close() ends them all.
 */
import http2, { type ServerHttp2Session } from 'node:http2';
import type { Logger } from '../../core/log.js';

export interface Http2SessionLimits {
  /** The first request of a new connection must come within this long, ms (relay.headerReadTimeoutMs). */
  firstRequestTimeoutMs: number;
  /** A connection with no open request is closed after this long, ms. */
  idleTimeoutMs: number;
  maxResetsPerSecond: number;
  maxControlFramesPerSecond: number;
}

/** The reset code of a stream that ended normally. */
const NO_ERROR = http2.constants.NGHTTP2_NO_ERROR;

/** Counts events in the current one-second window. */
class PerSecond {
  private windowStart = 0;
  private count = 0;

  /** Count one; true when the window holds more than `max`. */
  over(max: number): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1_000) {
      this.windowStart = now;
      this.count = 0;
    }
    this.count += 1;
    return this.count > max;
  }
}

/** One session's state: its open streams, its idle clock and its flood counters. */
class WatchedSession {
  private openStreams = 0;
  /** The idle clock: one timer per session, checked when it fires (no timer work per request). */
  private idleTimer: NodeJS.Timeout | undefined;
  /** When the session last had no request open (or was opened), epoch ms. */
  private idleSince = 0;
  private idleMs = 0;
  private idleWhy = '';
  private readonly resets = new PerSecond();
  private readonly controlFrames = new PerSecond();

  constructor(
    readonly session: ServerHttp2Session,
    private readonly limits: Http2SessionLimits,
    private readonly log: Logger,
    /** Called when the session is cut for flooding. */
    private readonly onCut: () => void,
  ) {
    this.armIdle(limits.firstRequestTimeoutMs, 'sent no request');
    session.on('stream', (stream) => {
      this.openStreams += 1;
      stream.once('close', () => {
        this.openStreams -= 1;
        // Reset by the viewer, or abandoned before its answer ended.
        if ((stream.rstCode !== NO_ERROR || stream.aborted) && this.resets.over(limits.maxResetsPerSecond)) {
          return this.cut(`more than ${limits.maxResetsPerSecond} requests reset in a second (rapid reset)`);
        }
        if (this.openStreams === 0) this.armIdle(limits.idleTimeoutMs, `had no request open for ${limits.idleTimeoutMs} ms`);
      });
    });
    const controlFrame = (kind: string) => {
      if (this.controlFrames.over(limits.maxControlFramesPerSecond))
        this.cut(`more than ${limits.maxControlFramesPerSecond} SETTINGS/PING frames in a second (${kind} flood)`);
    };
    session.on('remoteSettings', () => controlFrame('SETTINGS'));
    session.on('ping', () => controlFrame('PING'));
    session.once('close', () => this.clearIdle());
  }

  /** Start the idle clock: the session closes once it has had no request open for `ms`. */
  private armIdle(ms: number, why: string): void {
    this.idleSince = Date.now();
    this.idleMs = ms;
    this.idleWhy = why;
    if (!this.idleTimer) this.startIdleTimer(ms);
  }

  private startIdleTimer(ms: number): void {
    this.idleTimer = setTimeout(() => this.idleCheck(), ms);
    this.idleTimer.unref();
  }

  /** The timer fired: close the session if it has stayed idle long enough, else wait for the rest (or for its open requests to end). */
  private idleCheck(): void {
    this.idleTimer = undefined;
    if (this.openStreams > 0 || this.session.destroyed) return; // the last request's end starts the clock again
    const left = this.idleSince + this.idleMs - Date.now();
    if (left > 0) return this.startIdleTimer(left);
    this.log.debug(`HTTP/2 connection from ${this.peer} closed: ${this.idleWhy}`);
    this.session.close();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private get peer(): string {
    return this.session.socket?.remoteAddress ?? 'an unknown address';
  }

  /** Cut the connection at once: GOAWAY ENHANCE_YOUR_CALM, then the socket closes; its streams end. */
  cut(why: string): void {
    if (this.session.destroyed) return;
    this.log.warn(`HTTP/2 connection from ${this.peer} cut: ${why}`);
    this.onCut();
    this.session.destroy(new Error(`HTTP/2 connection cut: ${why}`), http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
  }
}

export class Http2Sessions {
  private readonly live = new Map<ServerHttp2Session, WatchedSession>();
  /** Connections cut for flooding, since the listener started. */
  cutCount = 0;

  constructor(
    private readonly limits: () => Http2SessionLimits,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.live.size;
  }

  /** Watch a new session until it closes (the server's 'session' event). */
  watch(session: ServerHttp2Session): void {
    const watched = new WatchedSession(session, this.limits(), this.log, () => (this.cutCount += 1));
    this.live.set(session, watched);
    session.once('close', () => this.live.delete(session));
    // A session's own errors (a protocol error, the socket reset) end that session only; the server reports them as 'sessionError'.
    session.on('error', () => {});
  }

  /** Shutdown: every session takes no new request (GOAWAY) and closes once its open ones end (at once when it has none). */
  closeGracefully(): void {
    for (const session of this.live.keys()) session.close();
  }

  /** End every session now. */
  destroyAll(): void {
    for (const session of this.live.keys()) session.destroy();
  }
}
