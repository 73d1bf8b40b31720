/**
 * The clocks of one outgoing request, in the order they run: connect, response headers, then
 * the node's silence while the body streams; beside them, the request body's pauses.
 *
 * Each clock charges the node only for the node's own delay: the response-header clock starts
 * once the node is connected AND has the whole request (body included); a request body the
 * viewer stops sending is the viewer's; silence while the reader holds the node back (its
 * socket full) is the reader's (CLIENT_STALLED) or simply not counted, as the caller says;
 * a reader that waits by choice (pacing) is never counted.
 */
import type { Readable } from 'node:stream';
import type { Expiry } from './classify.js';

/** Timeouts of one outgoing request, in ms (RelaySettings holds the relay's own). */
export interface UpstreamTimeouts {
  /** Opening the TCP (and TLS) connection. */
  connectTimeoutMs: number;
  /** From connected with the whole request sent to the response headers. */
  headerTimeoutMs: number;
  /** Longest silence of the node mid-body; 0 disables. */
  idleStreamTimeoutMs: number;
  /** Longest pause in a forwarded request body (uploads through a proxy route); only read when a body is forwarded. */
  requestBodyIdleTimeoutMs?: number;
}

/** The reader of the response may hold the node back (pause it); what the node's silence then means. */
export interface ReaderHold {
  /** True while the reader is not taking bytes (the node is paused for it). */
  blocked(): boolean;
  /** "stalled": a full idle period held back ends the call as the reader's CLIENT_STALLED; "wait": the silence is not counted. */
  whileBlocked: 'stalled' | 'wait';
  /**
   * True while the reader holds the node back by choice (a paced viewer waiting for its rate,
   * relay/pacing.ts): that silence is neither the node's nor a stalled reader's, and is not
   * counted. Absent: never.
   */
  waiting?(): boolean;
}

type Expire = (expiry: Expiry, ms: number) => void;

export class CallClocks {
  private timer: NodeJS.Timeout | undefined;
  private bodyTimer: NodeJS.Timeout | undefined;
  private phase: 'idle-wait' | 'connect' | 'headers' | 'body' | 'stopped' = 'idle-wait';
  private connected = false;
  private requestSent = false;
  private lastDataAt = 0;

  constructor(
    private readonly timeouts: UpstreamTimeouts,
    private readonly expire: Expire,
    private readonly hold?: ReaderHold,
  ) {}

  get isConnected(): boolean {
    return this.connected;
  }

  /** The request was handed to the base: the connect clock starts. */
  started(): void {
    if (this.phase !== 'idle-wait') return;
    this.phase = 'connect';
    this.arm(this.timeouts.connectTimeoutMs, 'connect');
  }

  /** The socket is connected (or a pooled one was handed out). */
  onConnected(): void {
    if (this.connected || this.phase === 'stopped') return;
    this.connected = true;
    if (this.phase === 'connect') {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.phase = 'headers';
    }
    this.startHeaderClock();
  }

  /** The whole request, body included, was written. */
  onRequestSent(): void {
    this.requestSent = true;
    this.startHeaderClock();
  }

  private startHeaderClock(): void {
    if (this.phase !== 'headers' || !this.connected || !this.requestSent || this.timer !== undefined) return;
    this.arm(this.timeouts.headerTimeoutMs, 'headers');
  }

  /** Response headers arrived: the body's idle clock starts. */
  onResponse(): void {
    if (this.phase === 'stopped') return;
    clearTimeout(this.timer);
    clearTimeout(this.bodyTimer);
    this.timer = undefined;
    this.phase = 'body';
    const idleMs = this.timeouts.idleStreamTimeoutMs;
    if (idleMs <= 0) return;
    this.lastDataAt = Date.now();
    this.timer = setTimeout(() => this.checkIdle(idleMs), idleMs);
  }

  /** Bytes came from the node. */
  onData(): void {
    this.lastDataAt = Date.now();
  }

  /** The reader made room: the node is asked for bytes again, so its idle clock starts over. */
  readerResumed(): void {
    this.lastDataAt = Date.now();
  }

  private checkIdle(idleMs: number): void {
    if (this.phase !== 'body') return;
    const waiting = this.hold?.waiting?.() ?? false;
    const blocked = this.hold?.blocked() ?? false;
    const quietFor = waiting || (blocked && this.hold?.whileBlocked === 'wait') ? 0 : Date.now() - this.lastDataAt;
    if (quietFor < idleMs) this.timer = setTimeout(() => this.checkIdle(idleMs), idleMs - quietFor);
    else this.fire(blocked ? 'reader-stalled' : 'idle', idleMs);
  }

  /**
   * While the viewer's request body is in flight: a pause of requestBodyIdleTimeoutMs is the
   * viewer's, unless the node is the one not taking it (`nodeBlocked`, once connected).
   */
  watchRequestBody(body: Readable, nodeBlocked: () => boolean): void {
    const idleMs = this.timeouts.requestBodyIdleTimeoutMs;
    if (idleMs === undefined || idleMs <= 0) return;
    let lastBodyAt = Date.now();
    const onBody = () => (lastBodyAt = Date.now());
    body.on('data', onBody);
    const check = () => {
      if (this.phase === 'body' || this.phase === 'stopped' || bodyComplete(body)) {
        body.off('data', onBody);
        return;
      }
      const quietFor = Date.now() - lastBodyAt;
      if (quietFor < idleMs) {
        this.bodyTimer = setTimeout(check, idleMs - quietFor);
      } else if (!nodeBlocked()) {
        this.fire('body-viewer', idleMs);
      } else if (this.connected) {
        this.fire('body-node', idleMs);
      } else {
        lastBodyAt = Date.now(); // not connected yet: the connect clock judges the node
        this.bodyTimer = setTimeout(check, idleMs);
      }
    };
    this.bodyTimer = setTimeout(check, idleMs);
  }

  /** Stop every clock (the call ended). */
  stop(): void {
    this.phase = 'stopped';
    clearTimeout(this.timer);
    clearTimeout(this.bodyTimer);
  }

  private arm(ms: number, expiry: Expiry): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(expiry, ms), ms);
  }

  private fire(expiry: Expiry, ms: number): void {
    if (this.phase === 'stopped') return;
    this.stop();
    this.expire(expiry, ms);
  }
}

/** The whole body was received (an IncomingMessage's `complete`), or the stream ended. */
function bodyComplete(body: Readable): boolean {
  return (body as Readable & { complete?: boolean }).complete ?? body.readableEnded;
}
