/**
 * Live facts about one FLV stream, measured as tags pass: codecs, resolution, frame rate,
 * GOP length, and the upstream bitrate over a short sliding window.
 */
import type { FlvTag } from '../../codec/flv/tag-reader.js';

/** Window of the upstream bitrate figure, ms. */
export const BITRATE_WINDOW_MS = 5_000;
const SAMPLE_EVERY_MS = 1_000;
const SAMPLES = BITRATE_WINDOW_MS / SAMPLE_EVERY_MS + 1;

export class StreamStats {
  bytesIn = 0;
  bytesOut = 0;
  upstreamOpened = 0;
  upstreamOpen = 0;
  reconnects = 0;
  framesDropped = 0;
  videoCodec = '';
  audioCodec = '';
  width = 0;
  height = 0;
  private metadataFps = 0;
  gopFrames = 0;
  gopMs = 0;
  private framesSinceKeyframe = 0;
  private lastKeyframeTs: number | undefined;
  /** [time, bytesIn] samples, oldest first, at most SAMPLES. */
  private samples: [number, number][] = [];
  readonly startedAt = Date.now();

  countIn(bytes: number): void {
    this.bytesIn += bytes;
    const now = Date.now();
    const last = this.samples.at(-1);
    if (!last || now - last[0] >= SAMPLE_EVERY_MS) {
      this.samples.push([now, this.bytesIn]);
      if (this.samples.length > SAMPLES) this.samples.shift();
    }
  }

  /** kbit/s over the sliding window (0 until two samples exist). */
  bitrateKbps(): number {
    const first = this.samples[0];
    if (!first) return 0;
    const elapsed = Date.now() - first[0];
    if (elapsed < SAMPLE_EVERY_MS) return 0;
    if (elapsed > BITRATE_WINDOW_MS * 2) return 0; // nothing arrived for a long time
    return Math.round(((this.bytesIn - first[1]) * 8) / elapsed);
  }

  /** Learn from a tag (timestamps already rewritten). */
  observe(tag: FlvTag): void {
    if (tag.metadata) {
      const { width, height, framerate } = tag.metadata;
      if (typeof width === 'number' && width > 0) this.width = Math.round(width);
      if (typeof height === 'number' && height > 0) this.height = Math.round(height);
      if (typeof framerate === 'number' && framerate > 0) this.metadataFps = framerate;
      return;
    }
    if (tag.audio && !this.audioCodec) this.audioCodec = tag.audio.codec;
    const video = tag.video;
    if (!video || video.sequenceHeader) return;
    if (!this.videoCodec || this.videoCodec !== video.codec) this.videoCodec = video.codec;
    if (video.keyframe) {
      if (this.lastKeyframeTs !== undefined && tag.timestamp > this.lastKeyframeTs) {
        this.gopFrames = this.framesSinceKeyframe;
        this.gopMs = tag.timestamp - this.lastKeyframeTs;
      }
      this.lastKeyframeTs = tag.timestamp;
      this.framesSinceKeyframe = 0;
    }
    this.framesSinceKeyframe += 1;
  }

  /** Frames per second: from metadata, else measured over the last GOP. */
  fps(): number {
    if (this.metadataFps) return Math.round(this.metadataFps * 100) / 100;
    return this.gopMs > 0 ? Math.round((this.gopFrames * 100_000) / this.gopMs) / 100 : 0;
  }

  /** A new upstream session: forget the keyframe timing that came from the old one. */
  newSession(): void {
    this.lastKeyframeTs = undefined;
    this.framesSinceKeyframe = 0;
  }
}
