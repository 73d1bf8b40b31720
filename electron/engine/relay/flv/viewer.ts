/**
 * One viewer of a fanned-out FLV stream. Its queue is the response's own write buffer,
 * bounded by flv.viewerQueueMaxBytes: a batch that does not fit is dropped and counted,
 * and the viewer resumes at the next keyframe. A viewer behind for longer than
 * flv.slowViewerTimeoutMs is disconnected with the reason logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/log.js';
import type { Session } from '../sessions.js';
import type { StartupBytes } from './gop-cache.js';

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
 * write per batch per viewer, the cheapest path for large audiences.
 */
export const FLV_RESPONSE_HEADERS = {
  'content-type': 'video/x-flv',
  'cache-control': 'no-cache, no-store',
  'access-control-allow-origin': '*',
  'x-content-type-options': 'nosniff',
  connection: 'close',
};

export class FlvViewer {
  /** True until the viewer has been written a keyframe (or resumes at one after a drop). */
  private waitingKeyframe = true;
  /** The stream's config version (metadata, sequence headers) this viewer has been sent. */
  private configVersion = -1;
  private behindSince = 0;
  private started = false;
  framesDropped = 0;
  closed = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly session: Session,
    private readonly limits: ViewerLimits,
    private readonly log: Logger,
    /** Called once when the viewer's connection ends, whatever the cause. */
    private readonly onGone: (viewer: FlvViewer) => void,
  ) {
    session.queuedBytes = () => this.queuedBytes();
    res.on('close', () => this.gone());
    res.on('error', () => {});
  }

  get isStarted(): boolean {
    return this.started;
  }

  /**
   * Bytes written but not yet taken by the kernel: the viewer's queue. Once the headers are
   * out every byte goes through the socket, so its count is the queue (cheaper to read than
   * the response's, which adds the socket's to its own).
   */
  private queuedBytes(): number {
    return this.socket ? this.socket.writableLength : this.res.writableLength;
  }

  /** The viewer's socket once the headers are out (body bytes go straight to it). */
  private socket: import('node:net').Socket | undefined;

  /**
   * Send the HTTP headers and the start-up bytes: header, metadata, sequence headers and
   * the cached GOP. A GOP that would not fit in the viewer's queue bound is left out: the
   * viewer then starts at the next live keyframe instead.
   */
  start(startup: StartupBytes): number {
    if (this.closed) return 0;
    this.started = true;
    this.res.removeHeader('transfer-encoding'); // no chunked framing: the body ends with the connection
    this.res.writeHead(200, FLV_RESPONSE_HEADERS);
    this.res.flushHeaders();
    this.socket = this.res.socket ?? undefined;
    this.session.status = 200;
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
    const queued = this.queuedBytes();
    if (queued + length > this.limits.queueMaxBytes) {
      this.fallBehind(batch.tagStarts.length - from);
      return 0;
    }
    if (from > 0 && this.session.firstKeyframeMs !== undefined) this.drop(from);
    let written = 0;
    if (this.waitingKeyframe) {
      // Tags skipped before this keyframe may have held metadata or sequence headers.
      if (this.configVersion !== config.version) for (const buffer of config.buffers()) written += this.write(buffer);
      this.markKeyframe();
    }
    written += this.write(start === 0 ? batch.buffer : batch.buffer.subarray(start));
    this.configVersion = config.version;
    if (this.behindSince && queued < this.limits.queueMaxBytes / 2) this.behindSince = 0;
    return written;
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
    if (this.socket && !this.socket.destroyed) this.socket.write(buffer);
    this.session.bytesOut += buffer.length;
    this.session.routeStats.bytesOut += buffer.length;
    return buffer.length;
  }

  /** End the response: cleanly (stream over) or by cutting it (kick, slow viewer). */
  close(reason: 'END' | 'SLOW_VIEWER' | 'KICKED' | 'UPSTREAM_FORMAT' | 'UPSTREAM_LOST' | 'DRAINED'): void {
    if (this.closed) return;
    if (reason === 'SLOW_VIEWER' || reason === 'KICKED') this.res.destroy();
    else this.res.end();
    this.gone(reason === 'END' ? undefined : reason);
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
    const finished = this.res.writableFinished || (this.res.writableEnded && !errorCode);
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
