/**
 * One viewer of a fanned-out FLV stream. Its queue is the response's own write buffer,
 * bounded by flv.viewerQueueMaxBytes: a batch that does not fit is dropped and counted,
 * and the viewer resumes at the next keyframe. A viewer behind for longer than
 * flv.slowViewerTimeoutMs is disconnected with the reason logged. The bytes go out through
 * an FlvOutput: the HTTP response (http-output.ts) or a WebSocket (ws-output.ts), bounded
 * and cut alike.
 */
import type { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { ScopedResponse } from '../session-scope.js';
import type { ViewerTransport } from '../../../../shared/dto.js';
import type { Session } from '../sessions.js';
import type { StartupBytes } from './gop-cache.js';
import type { Corkable, WriteMerge } from './write-merge.js';

/** Tags from one upstream chunk, concatenated once and shared by every viewer. */
export interface TagBatch {
  buffer: Buffer;
  /** Byte offset of each tag in `buffer`. */
  tagStarts: number[];
  /** Indexes (into tagStarts) of the video keyframes. */
  keyframes: number[];
}

export interface ViewerLimits {
  queueMaxBytes: number;
  slowTimeoutMs: number;
}

/**
 * Headers of a fanned-out FLV response, sent at once. The body is delimited by the end of
 * the connection (no chunked framing), so tags are written straight to the socket: one
 * write per batch per viewer, the cheapest path for large audiences. The route's CORS
 * headers are already on the response (relay/cors.ts applyCors).
 */
export const FLV_RESPONSE_HEADERS = {
  'content-type': 'video/x-flv',
  'cache-control': 'no-cache, no-store',
  'x-content-type-options': 'nosniff',
  connection: 'close',
};

/** How a viewer's connection ends: END cleanly (stream over), STOPPING cleanly (relay shutdown), the rest with that error code. */
export type ViewerEnd = 'END' | 'STOPPING' | 'SLOW_VIEWER' | 'KICKED' | 'SESSION_TIME_LIMIT' | 'UPSTREAM_FORMAT' | 'UPSTREAM_LOST' | 'DRAINED';

/**
 * Where a viewer's bytes go: an HTTP-FLV response or a WebSocket-FLV connection. As the
 * session scope's response (ScopedResponse), `close` is the end of the viewer's connection.
 */
export interface FlvOutput extends ScopedResponse {
  readonly transport: ViewerTransport;
  /** True once the relay ended the output (cleanly or not). */
  readonly writableEnded: boolean;
  /** Start the body (HTTP 200 with the FLV headers, or the WebSocket handshake); returns the status sent. */
  begin(): number;
  /** Send body bytes (for a WebSocket, one binary message). */
  write(buffer: Buffer): void;
  /** Bytes written but not yet taken by the kernel: the viewer's queue (bounded by flv.viewerQueueMaxBytes). */
  queuedBytes(): number;
  /** Once begun, the socket (or HTTP/2 stream) a WriteMerge may hold when the viewer's writes are encrypted; undefined over plain TCP. */
  mergeTarget(): Corkable | undefined;
  /** End the connection for `reason`: cleanly, or cut (SLOW_VIEWER, KICKED, SESSION_TIME_LIMIT). */
  end(reason: ViewerEnd): void;
  /** Answer the error instead of the stream (only before begin): the JSON error, then the connection closes. */
  refuse(error: RelayError): void;
  /** A header for the error answer (Retry-After), before begin. */
  setHeader(name: string, value: string): void;
}

export class FlvViewer {
  /** True until the viewer has been written a keyframe (or resumes at one after a drop). */
  private waitingKeyframe = true;
  /** The stream's config version (metadata, sequence headers) this viewer has been sent. */
  private configVersion = -1;
  private behindSince = 0;
  private started = false;
  /** Where live writes are held for a merge (write-merge.ts): the viewer's TLS socket, once started. */
  private mergeTarget: Corkable | undefined;
  framesDropped = 0;
  closed = false;

  constructor(
    readonly output: FlvOutput,
    readonly session: Session,
    private readonly limits: ViewerLimits,
    private readonly log: Logger,
    /** Called once when the viewer's connection ends, whatever the cause. */
    private readonly onGone: (viewer: FlvViewer) => void,
    /** Merged writes for viewers over TLS (flv.tlsWriteBatchMs); absent in tests that need none. */
    private readonly merge?: WriteMerge,
  ) {
    session.queuedBytes = () => this.queuedBytes();
    output.once('close', () => this.gone());
  }

  get isStarted(): boolean {
    return this.started;
  }

  /** Bytes written but not yet taken by the kernel, those held for a merge included: the viewer's queue (FlvOutput.queuedBytes). */
  private queuedBytes(): number {
    return this.output.queuedBytes();
  }

  /**
   * Start the body (HTTP headers, or the WebSocket handshake) and send the start-up bytes:
   * header, metadata, sequence headers and the cached GOP. A GOP that would not fit in the viewer's queue bound is left out: the
   * viewer then starts at the next live keyframe instead.
   */
  start(startup: StartupBytes): number {
    if (this.closed) return 0;
    this.started = true;
    this.session.status = this.output.begin();
    if (this.merge) this.mergeTarget = this.output.mergeTarget();
    this.session.firstByteMs = Date.now() - this.session.startedAt;
    let written = 0;
    for (const buffer of startup.head) written += this.write(buffer);
    this.configVersion = startup.configVersion;
    if (startup.gop.length > 0 && this.queuedBytes() + startup.gopBytes <= this.limits.queueMaxBytes) {
      for (const buffer of startup.gop) written += this.write(buffer);
      this.markKeyframe();
    }
    return written;
  }

  /** After an upstream switch: continue at the next keyframe (sequence headers are resent when they changed). */
  resync(): void {
    this.waitingKeyframe = true;
  }

  /**
   * Offer one batch: written whole, from its first keyframe, or dropped when over the
   * queue bound. Returns the bytes written.
   */
  send(batch: TagBatch, config: { version: number; buffers: () => Buffer[] }): number {
    if (this.closed || !this.started) return 0;
    let from = 0;
    if (this.waitingKeyframe) {
      if (batch.keyframes.length === 0) {
        if (this.session.firstKeyframeMs !== undefined) this.drop(batch.tagStarts.length);
        return 0;
      }
      from = batch.keyframes[0];
    }
    const start = batch.tagStarts[from];
    const length = batch.buffer.length - start;
    const merging = this.mergesWith(length);
    const queued = this.queuedBytes();
    if (queued + length > this.limits.queueMaxBytes) {
      this.fallBehind(batch.tagStarts.length - from);
      return 0;
    }
    if (from > 0 && this.session.firstKeyframeMs !== undefined) this.drop(from);
    let written = 0;
    if (merging) merging.hold(this.mergeTarget!);
    if (this.waitingKeyframe) {
      // Tags skipped before this keyframe may have held metadata or sequence headers.
      if (this.configVersion !== config.version) for (const buffer of config.buffers()) written += this.write(buffer);
      this.markKeyframe();
    }
    written += this.write(start === 0 ? batch.buffer : batch.buffer.subarray(start));
    merging?.wrote(this.mergeTarget!, written);
    this.configVersion = config.version;
    if (this.behindSince && queued < this.limits.queueMaxBytes / 2) this.behindSince = 0;
    return written;
  }

  /**
   * The merge this batch's write joins (write-merge.ts), or undefined when it goes out at once:
   * a viewer holds at most a quarter of flv.viewerQueueMaxBytes, so what waits for the timer
   * leaves a viewer that keeps up room in its queue. What was held goes out first then.
   */
  private mergesWith(length: number): WriteMerge | undefined {
    const merge = this.merge;
    const target = this.mergeTarget;
    if (!merge || !target) return undefined;
    if (merge.heldBytes(target) + length <= this.limits.queueMaxBytes / 4) return merge;
    merge.releaseNow(target);
    return undefined;
  }

  private markKeyframe(): void {
    this.waitingKeyframe = false;
    if (this.session.firstKeyframeMs === undefined) this.session.firstKeyframeMs = Date.now() - this.session.startedAt;
  }

  private drop(frames: number): void {
    this.framesDropped += frames;
    this.session.framesDropped = this.framesDropped;
  }

  private fallBehind(frames: number): void {
    this.drop(frames);
    this.waitingKeyframe = true;
    const now = Date.now();
    if (!this.behindSince) {
      this.behindSince = now;
      this.log.info(`viewer ${this.session.id} (${this.session.facts.clientAddress}) too slow, discarding frames until the next keyframe`);
    } else if (now - this.behindSince > this.limits.slowTimeoutMs) {
      this.log.warn(
        `viewer ${this.session.id} (${this.session.facts.clientAddress}) disconnected: still behind after ${this.limits.slowTimeoutMs} ms, ${this.framesDropped} frames dropped`,
      );
      this.close('SLOW_VIEWER');
    }
  }

  private write(buffer: Buffer): number {
    this.output.write(buffer);
    this.session.bytesOut += buffer.length;
    this.session.routeStats.bytesOut += buffer.length;
    return buffer.length;
  }

  /** End the output: cleanly (stream over, relay stopping) or by cutting it (kick, slow viewer). */
  close(reason: ViewerEnd): void {
    if (this.closed) return;
    this.output.end(reason);
    this.gone(reason === 'END' || reason === 'STOPPING' ? undefined : reason);
  }

  /** Answer the error instead of the stream (before it started: offline stream, overload). */
  refuse(error: RelayError): void {
    if (this.closed) return;
    this.output.refuse(error);
    this.closeWithError(error.code, error.status);
  }

  /** A viewer that was answered with an error before it started (offline stream, overload). */
  closeWithError(errorCode: string, status: number): void {
    if (this.closed) return;
    this.closed = true;
    this.onGone(this);
    this.closeSession(status, errorCode);
  }

  private gone(errorCode?: string): void {
    if (this.closed) return;
    this.closed = true;
    const finished = this.output.writableFinished || (this.output.writableEnded && !errorCode);
    this.onGone(this);
    if (errorCode) this.closeSession(this.session.status || 200, errorCode);
    else if (finished) this.closeSession(this.session.status || 200);
    else this.closeSession(499, 'CLIENT_CLOSED');
  }

  /** Closes the session through its scope (session-scope.ts), once. */
  private closeSession(status: number, errorCode?: string): void {
    this.session.close(status, errorCode);
  }
}
