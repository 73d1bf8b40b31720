/**
 * A live HTTP-FLV origin for tests: one clock generates frames at `fps` (a keyframe every
 * `gopFrames`), written to every connected viewer as they happen. It keeps no GOP cache:
 * a new connection gets the header and sequence headers, then whatever frame is next.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TestOrigin } from './origin.js';
import { aacFrame, aacSequenceHeader, avcSequenceHeader, flvHeader, flvTag, metadataTag } from './flv-builder.js';

export interface LiveFlvOptions {
  fps?: number;
  gopFrames?: number;
  keyframeBytes?: number;
  interBytes?: number;
  /** Timestamp of the first frame, ms (a second origin can start elsewhere). */
  startTimestamp?: number;
  width?: number;
  height?: number;
  /** Byte that fills frame payloads, so a test can tell which origin a frame came from. */
  marker?: number;
}

export class LiveFlvOrigin extends TestOrigin {
  private readonly viewers = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  frame = 0;
  /** Bytes of frames written so far to each connected viewer (what one viewer of the origin got). */
  bytesEmitted = 0;
  timestamp: number;
  /** Streams the origin has: others answer 404 (like SRS or MediaMTX for an offline stream). */
  streams = new Set(['/live/cam1.flv']);
  /** When set, a request gets a 200 and the FLV header, then nothing (like node-media-server before a publisher). */
  headerOnly = false;
  readonly options: Required<LiveFlvOptions>;

  constructor(options: LiveFlvOptions = {}) {
    super();
    this.options = { fps: 25, gopFrames: 25, keyframeBytes: 12_000, interBytes: 3_000, startTimestamp: 0, width: 640, height: 360, marker: 0x65, ...options };
    this.timestamp = this.options.startTimestamp;
    this.handler = (req, res) => this.serve(req, res);
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (!this.streams.has(path)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('stream not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'video/x-flv' });
    res.write(flvHeader());
    if (this.headerOnly) return;
    res.write(
      Buffer.concat([
        metadataTag({ width: this.options.width, height: this.options.height, framerate: this.options.fps, videocodecid: 7 }),
        avcSequenceHeader(),
        aacSequenceHeader(),
      ]),
    );
    this.viewers.add(res);
    res.on('close', () => this.viewers.delete(res));
    this.timer ??= setInterval(() => this.tick(), 1000 / this.options.fps);
  }

  /** The next frame (video + audio), written to every connected viewer. */
  private tick(): void {
    const key = this.frame % this.options.gopFrames === 0;
    const body = key ? this.options.keyframeBytes : this.options.interBytes;
    const video = flvTag(9, this.timestamp, Buffer.concat([Buffer.from([key ? 0x17 : 0x27, 0x01, 0, 0, 0]), Buffer.alloc(body, this.options.marker)]));
    const bytes = Buffer.concat([video, aacFrame(this.timestamp)]);
    for (const res of this.viewers) res.write(bytes);
    this.bytesEmitted += bytes.length;
    this.frame += 1;
    this.timestamp += Math.round(1000 / this.options.fps);
  }

  /** Bytes per second the stream carries. */
  get bytesPerSecond(): number {
    const { fps, gopFrames, keyframeBytes, interBytes } = this.options;
    const perGop = keyframeBytes + (gopFrames - 1) * interBytes + gopFrames * (11 + 5 + 4 + 11 + 22 + 4);
    return (perGop * fps) / gopFrames;
  }

  /** Cut every viewer connection (as a crashing node would). */
  cutAll(): void {
    for (const socket of this.openSockets) socket.resetAndDestroy();
  }

  override async stop(): Promise<void> {
    clearInterval(this.timer);
    await super.stop();
  }
}
