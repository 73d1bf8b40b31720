/**
 * The timestamps a stream's viewers see: continuous across upstream sessions (after a
 * failover or a move the new node's clock is rebased to follow the last timestamp sent) and
 * never decreasing per tag type. One per stream; rewrites tags in place.
 */
import { setTagTimestamp, TAG_SCRIPT, type FlvTag } from '../../codec/flv/tag-reader.js';

/** Gap put between the last timestamp before a failover and the first one after, ms (one frame at 25 fps). */
export const FAILOVER_TIMESTAMP_GAP_MS = 40;

export class Timeline {
  /** Added to every upstream timestamp of the current session. */
  private offset = 0;
  private needsRebase = false;
  private last = -1;
  private readonly lastByType = new Map<number, number>();

  /** A new upstream session starts: its first audio/video tag continues FAILOVER_TIMESTAMP_GAP_MS after the last one sent. */
  rebaseAtNext(): void {
    this.needsRebase = this.last >= 0;
  }

  /** Whether any media timestamp was sent yet. */
  get started(): boolean {
    return this.last >= 0;
  }

  /** Rewrite `tag`'s timestamp (bytes included) onto the stream's timeline. */
  rewrite(tag: FlvTag): void {
    const isMedia = tag.type !== TAG_SCRIPT;
    if (isMedia && this.needsRebase) {
      this.offset = this.last + FAILOVER_TIMESTAMP_GAP_MS - tag.timestamp;
      this.needsRebase = false;
    }
    let timestamp = tag.timestamp + this.offset;
    const previous = this.lastByType.get(tag.type) ?? 0;
    if (isMedia && timestamp < previous) {
      this.offset += previous - timestamp;
      timestamp = previous;
    }
    if (timestamp !== tag.timestamp) {
      setTagTimestamp(tag.bytes, timestamp);
      tag.timestamp = timestamp >>> 0;
    }
    if (isMedia) {
      this.lastByType.set(tag.type, tag.timestamp);
      if (tag.timestamp > this.last) this.last = tag.timestamp;
    }
  }
}
