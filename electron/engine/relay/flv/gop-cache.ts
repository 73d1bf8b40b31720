/**
 * What a late joiner needs to start at once: the FLV header, the last onMetaData, the
 * video and audio sequence headers, and every tag since the last keyframe. Bounded in
 * bytes and in tags; a GOP that outgrows either bound is dropped until the next keyframe.
 */
import type { FlvTag } from '../../codec/flv/tag-reader.js';

export interface GopCacheLimits {
  /** Most bytes of tags kept since the last keyframe. */
  maxBytes: number;
  /** Most tags (video + audio frames) kept since the last keyframe. */
  maxTags: number;
}

/** What a late joiner is sent first. */
export interface StartupBytes {
  /** FLV header, metadata, sequence headers. */
  head: Buffer[];
  /** The cached GOP from its keyframe (empty when none is cached). */
  gop: Buffer[];
  gopBytes: number;
  configVersion: number;
}

export class GopCache {
  header: Buffer | undefined;
  metadata: FlvTag | undefined;
  videoSequenceHeader: FlvTag | undefined;
  audioSequenceHeader: FlvTag | undefined;
  /** Bumped whenever the metadata or a sequence header changes. */
  configVersion = 0;
  private gop: FlvTag[] = [];
  private gopBytes = 0;
  /** True while the current GOP overflowed: nothing is cached until the next keyframe. */
  private overflowed = false;

  constructor(
    private readonly limits: GopCacheLimits,
    /** When false only the header, metadata and sequence headers are kept. */
    private readonly keepGop: boolean,
  ) {}

  /** Record a tag as it passes (after any timestamp rewrite). */
  add(tag: FlvTag): void {
    if (tag.metadata || tag.video?.sequenceHeader || tag.audio?.sequenceHeader) {
      if (tag.metadata) this.metadata = tag;
      else if (tag.video) this.videoSequenceHeader = tag;
      else this.audioSequenceHeader = tag;
      this.configVersion += 1;
      return;
    }
    if (!this.keepGop) return;
    if (tag.video?.keyframe) {
      this.gop = [];
      this.gopBytes = 0;
      this.overflowed = false;
    } else if (this.overflowed || this.gop.length === 0) {
      return; // nothing useful before the first keyframe
    }
    if (this.gop.length + 1 > this.limits.maxTags || this.gopBytes + tag.bytes.length > this.limits.maxBytes) {
      this.gop = [];
      this.gopBytes = 0;
      this.overflowed = true;
      return;
    }
    this.gop.push(tag);
    this.gopBytes += tag.bytes.length;
  }

  /** Forget the media (a new upstream session starts); the header is kept for viewers already playing. */
  resetMedia(): void {
    this.gop = [];
    this.gopBytes = 0;
    this.overflowed = false;
  }

  /** True when a late joiner can start from a cached keyframe. */
  get hasKeyframe(): boolean {
    return this.gop.length > 0;
  }

  get bytes(): number {
    return this.gopBytes;
  }

  get tags(): number {
    return this.gop.length;
  }

  /** The start-up bytes for a late joiner, in order: header, metadata and sequence headers (`head`), then the GOP. */
  startup(): StartupBytes {
    const head: Buffer[] = [];
    if (this.header) head.push(this.header);
    for (const tag of [this.metadata, this.videoSequenceHeader, this.audioSequenceHeader]) if (tag) head.push(tag.bytes);
    return { head, gop: this.gop.map((tag) => tag.bytes), gopBytes: this.gopBytes, configVersion: this.configVersion };
  }

  /** Metadata and sequence headers, for a viewer that resumes at a keyframe without them. */
  sequenceBuffers(): Buffer[] {
    return [this.metadata, this.videoSequenceHeader, this.audioSequenceHeader].filter((t): t is FlvTag => t !== undefined).map((t) => t.bytes);
  }
}
