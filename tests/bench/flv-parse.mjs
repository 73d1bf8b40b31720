// A small streaming FLV parser for the bench's probes (plain JS, no copies of tag bodies).
// Feed it HTTP body bytes in any chunking; it calls onTag once per complete tag with the
// tag's type, timestamp, size and its first HEAD_BYTES bytes (enough for the video header
// and the origin's send stamp). It checks the FLV signature, tag types, stream ids and every
// PreviousTagSize, and stops at the first error (kept in `error`, with the byte offset).

export const HEAD_BYTES = 48;
const TAG_HEADER = 11;

export const TAG_AUDIO = 8;
export const TAG_VIDEO = 9;
export const TAG_SCRIPT = 18;

/** What a video tag's first bytes say: frame type (1 key, 2 inter, ...), codec id, AVC packet type. */
export function videoInfo(head) {
  const first = head[TAG_HEADER];
  const frameType = first >> 4;
  const codecId = first & 0x0f;
  const packetType = codecId === 7 || codecId === 12 ? head[TAG_HEADER + 1] : 1;
  return {
    frameType,
    codecId,
    sequenceHeader: packetType === 0,
    coded: packetType === 1,
    keyframe: frameType === 1 && packetType === 1,
  };
}

/** The bench origin's send stamp in a coded video tag ("RDTS" | u32 index | f64 ms), or undefined. */
export const STAMP_OFFSET = TAG_HEADER + 5 + 4 + 1;
export function sendStamp(head) {
  if (head.length < STAMP_OFFSET + 16) return undefined;
  if (head[STAMP_OFFSET] !== 0x52 || head[STAMP_OFFSET + 1] !== 0x44 || head[STAMP_OFFSET + 2] !== 0x54 || head[STAMP_OFFSET + 3] !== 0x53) return undefined;
  return { index: head.readUInt32BE(STAMP_OFFSET + 4), timeMs: head.readDoubleBE(STAMP_OFFSET + 8) };
}

/** Does a script tag's head start with the AMF0 string "onMetaData"? */
export function isOnMetaData(head) {
  return head.length >= TAG_HEADER + 13 && head[TAG_HEADER] === 0x02 && head.toString('latin1', TAG_HEADER + 3, TAG_HEADER + 13) === 'onMetaData';
}

export class FlvParser {
  /** @param {(tag: {type:number,timestamp:number,size:number,head:Buffer,offset:number}) => void} onTag */
  constructor(onTag) {
    this.onTag = onTag;
    this.offset = 0; // stream bytes consumed
    this.error = undefined;
    this.headerDone = false;
    this.headerBytes = Buffer.alloc(13);
    this.headerFill = 0;
    this.headerTotal = 13; // 9-byte header + PreviousTagSize0 until the header says otherwise
    this.tags = 0;
    this.#resetTag();
  }

  #resetTag() {
    this.tagHead = Buffer.alloc(HEAD_BYTES);
    this.tagFill = 0; // bytes of the current tag seen
    this.tagTotal = 0; // known once the 11-byte tag header is in
    this.tagStart = this.offset;
    this.tail = 0; // last 4 bytes (PreviousTagSize), big-endian accumulated
  }

  #fail(at, text) {
    this.error = `byte ${at}: ${text}`;
  }

  /** Feed bytes; returns false once the stream is known to be malformed. */
  push(chunk) {
    if (this.error) return false;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (!this.headerDone) {
        const take = Math.min(n - i, this.headerTotal - this.headerFill);
        for (let k = 0; k < take; k += 1) {
          const at = this.headerFill + k;
          if (at < 13) this.headerBytes[at] = chunk[i + k];
        }
        this.headerFill += take;
        i += take;
        this.offset += take;
        if (this.headerFill >= 9 && this.headerTotal === 13) {
          const h = this.headerBytes;
          if (h[0] !== 0x46 || h[1] !== 0x4c || h[2] !== 0x56) return (this.#fail(0, 'no "FLV" signature'), false);
          if (h[3] !== 1) return (this.#fail(3, `FLV version ${h[3]}`), false);
          const dataOffset = h.readUInt32BE(5);
          if (dataOffset < 9 || dataOffset > 1024) return (this.#fail(5, `header size ${dataOffset}`), false);
          this.headerTotal = dataOffset + 4;
          this.flags = h[4];
        }
        if (this.headerFill === this.headerTotal) {
          this.headerDone = true;
          this.#resetTag();
        }
        continue;
      }
      // Inside a tag.
      if (this.tagTotal === 0) {
        const take = Math.min(n - i, TAG_HEADER - this.tagFill);
        chunk.copy(this.tagHead, this.tagFill, i, i + take);
        this.tagFill += take;
        i += take;
        this.offset += take;
        if (this.tagFill < TAG_HEADER) continue;
        const h = this.tagHead;
        if (h[0] !== TAG_AUDIO && h[0] !== TAG_VIDEO && h[0] !== TAG_SCRIPT) return (this.#fail(this.tagStart, `tag type 0x${h[0].toString(16)}`), false);
        if (h[8] !== 0 || h[9] !== 0 || h[10] !== 0) return (this.#fail(this.tagStart + 8, 'stream id not 0'), false);
        this.dataSize = h.readUIntBE(1, 3);
        this.tagTotal = TAG_HEADER + this.dataSize + 4;
        continue;
      }
      const left = this.tagTotal - this.tagFill;
      const take = Math.min(n - i, left);
      if (this.tagFill < HEAD_BYTES) {
        const keep = Math.min(take, HEAD_BYTES - this.tagFill);
        chunk.copy(this.tagHead, this.tagFill, i, i + keep);
      }
      // The last 4 bytes of the tag: PreviousTagSize.
      const tailFrom = this.tagTotal - 4;
      for (let pos = Math.max(this.tagFill, tailFrom); pos < this.tagFill + take; pos += 1) {
        this.tail = ((this.tail << 8) | chunk[i + (pos - this.tagFill)]) >>> 0;
      }
      this.tagFill += take;
      i += take;
      this.offset += take;
      if (this.tagFill === this.tagTotal) {
        if (this.tail !== TAG_HEADER + this.dataSize)
          return (this.#fail(this.offset - 4, `PreviousTagSize ${this.tail}, expected ${TAG_HEADER + this.dataSize}`), false);
        const h = this.tagHead;
        const timestamp = ((h[7] << 24) | (h[4] << 16) | (h[5] << 8) | h[6]) >>> 0;
        this.tags += 1;
        this.onTag({ type: h[0], timestamp, size: this.tagTotal, head: h.subarray(0, Math.min(HEAD_BYTES, this.tagTotal)), offset: this.tagStart });
        this.#resetTag();
      }
    }
    return true;
  }
}
