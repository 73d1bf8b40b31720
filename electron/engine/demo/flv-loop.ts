/**
 * The demo's live HTTP-FLV stream: the clip played in a loop on one clock shared by every
 * viewer, with timestamps rewritten to keep growing across loops (loop k's frame at t is
 * sent at k × clip length + t), like a camera that never stops. The clock follows the wall
 * time from the demo's start, so a viewer never sees a timestamp go back.
 *
 * A new viewer gets the header, metadata and sequence headers, then the current GOP (so
 * it starts at a keyframe at once, redirected players included), then live frames.
 * The clock runs only while someone watches. Bounded: at most DEMO_MAX_VIEWERS, and a
 * viewer with more than DEMO_VIEWER_MAX_BUFFERED_BYTES unsent is cut.
 */
import type { ServerResponse } from 'node:http';
import { setTagTimestamp } from '../codec/flv/tag-reader.js';
import type { FlvClip } from './clip.js';
import { metadataTag } from './metadata.js';

/** How often the clock sends the frames that are due, ms. */
export const DEMO_FLV_TICK_MS = 20;
/** Most direct viewers of the demo stream (the relay's fan-out counts as one). */
export const DEMO_MAX_VIEWERS = 32;
/** A viewer with more unsent bytes than this is disconnected, bytes. */
export const DEMO_VIEWER_MAX_BUFFERED_BYTES = 1_048_576;

export const FLV_DEMO_HEADERS = {
  'content-type': 'video/x-flv',
  'cache-control': 'no-cache, no-store',
  'access-control-allow-origin': '*',
  connection: 'close',
};

export class FlvLoop {
  private readonly viewers = new Set<ServerResponse>();
  private readonly metadata: Buffer;
  /** Frames sent since the last keyframe (rewritten copies), replayed to a new viewer. */
  private gop: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Next frame: loop number and index into the clip's tags. */
  private loop = 0;
  private index = 0;

  /**
   * @param clip the parsed clip
   * @param epochMs wall time at which loop 0 starts (timestamps are ms since then)
   * @param now clock, injectable for tests
   */
  constructor(
    private readonly clip: FlvClip,
    private readonly epochMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.metadata = metadataTag({ width: clip.width, height: clip.height, framerate: clip.fps, videocodecid: 7, audiocodecid: 10 });
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  /** Add a viewer; false when the loop is full (the caller answers 503). */
  addViewer(res: ServerResponse): boolean {
    if (this.viewers.size >= DEMO_MAX_VIEWERS) return false;
    if (this.viewers.size === 0) this.startClock();
    res.writeHead(200, FLV_DEMO_HEADERS);
    res.write(Buffer.concat([this.clip.header, this.metadata, ...this.clip.sequenceHeaders, ...this.gop]));
    this.viewers.add(res);
    res.on('close', () => this.removeViewer(res));
    return true;
  }

  private removeViewer(res: ServerResponse): void {
    this.viewers.delete(res);
    if (this.viewers.size === 0) this.stopClock();
  }

  /** ms since the epoch now: the timeline position. */
  private position(): number {
    return Math.max(0, this.now() - this.epochMs);
  }

  /** Jump to the last keyframe at or before now and fill the GOP up to now. */
  private startClock(): void {
    const position = this.position();
    const { durationMs, tags } = this.clip;
    this.loop = Math.floor(position / durationMs);
    const offset = position - this.loop * durationMs;
    let key = 0;
    tags.forEach((tag, i) => {
      if (tag.keyframe && tag.timestamp <= offset) key = i;
    });
    this.index = key;
    this.gop = [];
    this.sendDue();
    this.timer = setInterval(() => this.sendDue(), DEMO_FLV_TICK_MS);
  }

  private stopClock(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.gop = [];
  }

  /** Send every frame whose time has come (public for tests). */
  sendDue(): void {
    const position = this.position();
    const { durationMs, tags } = this.clip;
    const out: Buffer[] = [];
    for (;;) {
      const tag = tags[this.index];
      const timestamp = this.loop * durationMs + tag.timestamp;
      if (timestamp > position) break;
      const bytes = Buffer.from(tag.bytes);
      setTagTimestamp(bytes, timestamp);
      if (tag.keyframe) this.gop = [];
      this.gop.push(bytes);
      out.push(bytes);
      this.index += 1;
      if (this.index === tags.length) {
        this.index = 0;
        this.loop += 1;
      }
    }
    if (out.length > 0) this.broadcast(Buffer.concat(out));
  }

  private broadcast(bytes: Buffer): void {
    for (const res of this.viewers) {
      if (res.writableLength > DEMO_VIEWER_MAX_BUFFERED_BYTES) {
        res.destroy();
        continue;
      }
      res.write(bytes);
    }
  }

  /** Disconnect every viewer (demo stopping). */
  close(): void {
    for (const res of [...this.viewers]) res.destroy();
    this.stopClock();
  }
}
