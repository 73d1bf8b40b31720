/**
 * The demo's live HLS stream: the clip's segments played in a loop as a sliding live
 * playlist. Media sequence numbers keep growing (segment s is clip segment s mod n); each
 * loop restart carries #EXT-X-DISCONTINUITY (the clip's timestamps start again), and
 * #EXT-X-DISCONTINUITY-SEQUENCE counts the ones that slid out of the window (RFC 8216
 * 4.3.3.3). A segment appears once its time has fully passed, as from a live encoder.
 * The timeline starts one loop "in the past" so a full window is there from the start.
 */
import type { HlsClip } from './clip.js';

/** Segments listed in the live playlist. */
export const DEMO_HLS_WINDOW_SEGMENTS = 6;

/** The URI of media sequence number `sequence` (relative to the playlist). */
export function segmentUri(sequence: number): string {
  return `seg-${sequence}.ts`;
}

/** Parse "seg-N.ts" back to N; undefined for anything else. */
export function parseSegmentUri(name: string): number | undefined {
  const match = /^seg-(\d{1,15})\.ts$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export class HlsLoop {
  private readonly starts: number[] = [];

  /**
   * @param clip the clip's segments
   * @param epochMs wall time the timeline counts from
   * @param now clock, injectable for tests
   */
  constructor(
    private readonly clip: HlsClip,
    private readonly epochMs: number,
    private readonly now: () => number = Date.now,
  ) {
    let at = 0;
    for (const segment of clip.segments) {
      this.starts.push(at);
      at += segment.durationS;
    }
  }

  private get count(): number {
    return this.clip.segments.length;
  }

  /** Start time of sequence `s` on the timeline, s. */
  private startOf(sequence: number): number {
    return Math.floor(sequence / this.count) * this.clip.durationS + this.starts[sequence % this.count];
  }

  /** The newest sequence number whose segment has fully passed. */
  lastSequence(): number {
    const position = (this.now() - this.epochMs) / 1000 + this.clip.durationS;
    const loop = Math.floor(position / this.clip.durationS);
    let sequence = loop * this.count - 1;
    for (let i = 0; i < this.count; i += 1) {
      const candidate = loop * this.count + i;
      if (this.startOf(candidate) + this.clip.segments[i].durationS <= position) sequence = candidate;
    }
    return sequence;
  }

  /** The live media playlist now. */
  playlist(): string {
    const last = this.lastSequence();
    const first = Math.max(0, last - DEMO_HLS_WINDOW_SEGMENTS + 1);
    const target = Math.ceil(Math.max(...this.clip.segments.map((s) => s.durationS)));
    const lines = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      `#EXT-X-TARGETDURATION:${target}`,
      `#EXT-X-MEDIA-SEQUENCE:${first}`,
      `#EXT-X-DISCONTINUITY-SEQUENCE:${Math.floor(first / this.count)}`,
    ];
    for (let sequence = first; sequence <= last; sequence += 1) {
      if (sequence > first && sequence % this.count === 0) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXTINF:${this.clip.segments[sequence % this.count].durationS.toFixed(3)},`, segmentUri(sequence));
    }
    return `${lines.join('\n')}\n`;
  }

  /** The bytes of sequence `s`, or undefined when it has not happened yet. */
  segment(sequence: number): Buffer | undefined {
    if (!Number.isSafeInteger(sequence) || sequence < 0 || sequence > this.lastSequence()) return undefined;
    return this.clip.segments[sequence % this.count].bytes;
  }
}
