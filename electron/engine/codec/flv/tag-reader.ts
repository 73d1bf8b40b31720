/**
 * A streaming FLV reader: bytes in, in any chunking; the file header and whole tags out.
 * It recognises audio (8), video (9) and script (18) tags, AVC/HEVC/enhanced-RTMP
 * sequence headers and keyframes, the AAC sequence header and onMetaData. Malformed input
 * throws FlvFormatError naming the stream byte offset; after that the reader stays failed.
 */
import { Amf0Error, decodeAmf0, type Amf0Value } from './amf0.js';

/** Largest tag body accepted, bytes (a 4K keyframe is well under 2 MiB). Larger is treated as garbage. */
export const FLV_MAX_TAG_DATA_BYTES = 8 * 1024 * 1024;
/** Largest header data offset accepted (the spec's header is 9 bytes). */
const FLV_MAX_HEADER_BYTES = 1024;
const TAG_HEADER_BYTES = 11;
const PREVIOUS_TAG_SIZE_BYTES = 4;

export const TAG_AUDIO = 8;
export const TAG_VIDEO = 9;
export const TAG_SCRIPT = 18;

export class FlvFormatError extends Error {
  constructor(
    readonly offset: number,
    detail: string,
  ) {
    super(`malformed FLV at byte ${offset}: ${detail}`);
    this.name = 'FlvFormatError';
  }
}

export interface VideoInfo {
  /** "avc", "hevc", "av1", "vp9", or "codec-N" for others. */
  codec: string;
  /** 1 key, 2 inter, 3 disposable, 4 generated key, 5 info/command. */
  frameType: number;
  sequenceHeader: boolean;
  /** A decodable key frame carrying picture data (not a sequence header). */
  keyframe: boolean;
}

export interface AudioInfo {
  /** "aac", "mp3", "opus", ... or "format-N". */
  codec: string;
  sequenceHeader: boolean;
}

export interface FlvTag {
  type: number;
  /** Decode timestamp in ms (32-bit, extended byte included). */
  timestamp: number;
  /** The whole tag: 11-byte header, body, 4-byte previous-tag-size. */
  bytes: Buffer;
  /** Byte offset of the tag in the stream. */
  offset: number;
  video?: VideoInfo;
  audio?: AudioInfo;
  /** The onMetaData object of a script tag. */
  metadata?: Record<string, Amf0Value>;
}

export interface FlvHeader {
  /** Header plus PreviousTagSize0, as received. */
  bytes: Buffer;
  hasAudio: boolean;
  hasVideo: boolean;
}

export type FlvItem = { kind: 'header'; header: FlvHeader } | { kind: 'tag'; tag: FlvTag };

const VIDEO_CODECS: Record<number, string> = { 2: 'h263', 3: 'screen', 4: 'vp6', 5: 'vp6a', 6: 'screen2', 7: 'avc', 12: 'hevc', 13: 'av1' };
const AUDIO_FORMATS: Record<number, string> = {
  0: 'pcm',
  1: 'adpcm',
  2: 'mp3',
  3: 'pcm-le',
  4: 'nellymoser',
  5: 'nellymoser',
  6: 'nellymoser',
  7: 'g711a',
  8: 'g711u',
  10: 'aac',
  11: 'speex',
  14: 'mp3',
};
const FOURCC_CODECS: Record<string, string> = {
  avc1: 'avc',
  hvc1: 'hevc',
  av01: 'av1',
  vp09: 'vp9',
  Opus: 'opus',
  fLaC: 'flac',
  'ac-3': 'ac3',
  'ec-3': 'eac3',
  '.mp3': 'mp3',
  mp4a: 'aac',
};

/** Read the 32-bit timestamp of a tag (24 bits + extended byte). */
export function tagTimestamp(bytes: Buffer): number {
  return ((bytes[7] << 24) | (bytes[4] << 16) | (bytes[5] << 8) | bytes[6]) >>> 0;
}

/** Write a 32-bit timestamp into a tag header in place. */
export function setTagTimestamp(bytes: Buffer, timestamp: number): void {
  const ts = timestamp >>> 0;
  bytes[4] = (ts >>> 16) & 0xff;
  bytes[5] = (ts >>> 8) & 0xff;
  bytes[6] = ts & 0xff;
  bytes[7] = (ts >>> 24) & 0xff;
}

export function parseVideo(data: Buffer): VideoInfo | undefined {
  if (data.length < 1) return undefined;
  const first = data[0];
  if (first & 0x80) {
    // Enhanced RTMP: IsExHeader | FrameType(3) | PacketType(4), then a FourCC
    const frameType = (first >> 4) & 0x07;
    const packetType = first & 0x0f;
    const fourcc = data.length >= 5 ? data.toString('latin1', 1, 5) : '';
    const sequenceHeader = packetType === 0;
    const coded = packetType === 1 || packetType === 3;
    return { codec: FOURCC_CODECS[fourcc] ?? fourcc, frameType, sequenceHeader, keyframe: frameType === 1 && coded };
  }
  const frameType = first >> 4;
  const codecId = first & 0x0f;
  const codec = VIDEO_CODECS[codecId] ?? `codec-${codecId}`;
  const hasPacketType = codecId === 7 || codecId === 12 || codecId === 13;
  const packetType = hasPacketType && data.length > 1 ? data[1] : 1;
  const sequenceHeader = hasPacketType && packetType === 0;
  return { codec, frameType, sequenceHeader, keyframe: frameType === 1 && !sequenceHeader && packetType === 1 };
}

export function parseAudio(data: Buffer): AudioInfo | undefined {
  if (data.length < 1) return undefined;
  const format = data[0] >> 4;
  if (format === 9) {
    const packetType = data[0] & 0x0f;
    const fourcc = data.length >= 5 ? data.toString('latin1', 1, 5) : '';
    return { codec: FOURCC_CODECS[fourcc] ?? fourcc, sequenceHeader: packetType === 0 };
  }
  return { codec: AUDIO_FORMATS[format] ?? `format-${format}`, sequenceHeader: format === 10 && data.length > 1 && data[1] === 0 };
}

function parseScript(data: Buffer): Record<string, Amf0Value> | undefined {
  let values: Amf0Value[];
  try {
    values = decodeAmf0(data, 3);
  } catch (error) {
    if (error instanceof Amf0Error) return undefined; // an odd script tag is passed on, not fatal
    throw error;
  }
  const at = values.indexOf('onMetaData');
  const metadata = at >= 0 ? values[at + 1] : undefined;
  return metadata && typeof metadata === 'object' && !Array.isArray(metadata) && !(metadata instanceof Date)
    ? (metadata as Record<string, Amf0Value>)
    : undefined;
}

export class FlvTagReader {
  private parts: Buffer[] = [];
  private available = 0;
  /** Stream offset of the first unconsumed byte. */
  private offset = 0;
  private headerDone = false;
  private failure: FlvFormatError | undefined;

  /** Total bytes consumed into items so far. */
  get bytesRead(): number {
    return this.offset;
  }

  /** Bytes held while waiting for the rest of a header or tag. */
  get bufferedBytes(): number {
    return this.available;
  }

  /** Feed a chunk; returns every item completed by it. Throws FlvFormatError on bad input. */
  push(chunk: Buffer): FlvItem[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.parts.push(chunk);
      this.available += chunk.length;
    }
    const items: FlvItem[] = [];
    try {
      for (;;) {
        const item = this.headerDone ? this.nextTag() : this.nextHeader();
        if (!item) break;
        items.push(item);
      }
    } catch (error) {
      if (error instanceof FlvFormatError) this.failure = error;
      throw error;
    }
    return items;
  }

  private nextHeader(): FlvItem | undefined {
    if (this.available < 9) {
      this.checkSignaturePrefix();
      return undefined;
    }
    const head = this.peek(9);
    if (head.toString('latin1', 0, 3) !== 'FLV') throw new FlvFormatError(this.offset, 'no "FLV" signature');
    if (head[3] !== 1) throw new FlvFormatError(this.offset + 3, `unsupported FLV version ${head[3]}`);
    const dataOffset = head.readUInt32BE(5);
    if (dataOffset < 9 || dataOffset > FLV_MAX_HEADER_BYTES) throw new FlvFormatError(this.offset + 5, `header size ${dataOffset} out of range`);
    const total = dataOffset + PREVIOUS_TAG_SIZE_BYTES;
    if (this.available < total) return undefined;
    const bytes = this.take(total);
    this.headerDone = true;
    return { kind: 'header', header: { bytes, hasAudio: (head[4] & 0x04) !== 0, hasVideo: (head[4] & 0x01) !== 0 } };
  }

  /** Fail fast on garbage shorter than a header ("<html>" must not wait for 9 bytes). */
  private checkSignaturePrefix(): void {
    const head = this.peek(Math.min(this.available, 3));
    for (let i = 0; i < head.length; i += 1) {
      if (head[i] !== 'FLV'.charCodeAt(i)) throw new FlvFormatError(this.offset + i, 'no "FLV" signature');
    }
  }

  private nextTag(): FlvItem | undefined {
    if (this.available < TAG_HEADER_BYTES) return undefined;
    const head = this.peek(TAG_HEADER_BYTES);
    const type = head[0];
    if (type !== TAG_AUDIO && type !== TAG_VIDEO && type !== TAG_SCRIPT) {
      throw new FlvFormatError(this.offset, `unknown tag type 0x${type.toString(16).padStart(2, '0')}`);
    }
    const dataSize = head.readUIntBE(1, 3);
    if (dataSize > FLV_MAX_TAG_DATA_BYTES) throw new FlvFormatError(this.offset + 1, `tag body of ${dataSize} bytes is over the limit`);
    if (head.readUIntBE(8, 3) !== 0) throw new FlvFormatError(this.offset + 8, 'tag stream id is not 0');
    const total = TAG_HEADER_BYTES + dataSize + PREVIOUS_TAG_SIZE_BYTES;
    if (this.available < total) return undefined;
    const start = this.offset;
    const bytes = this.take(total);
    const previousTagSize = bytes.readUInt32BE(total - PREVIOUS_TAG_SIZE_BYTES);
    if (previousTagSize !== TAG_HEADER_BYTES + dataSize) {
      throw new FlvFormatError(
        start + total - PREVIOUS_TAG_SIZE_BYTES,
        `previous-tag-size ${previousTagSize} does not match the tag (${TAG_HEADER_BYTES + dataSize})`,
      );
    }
    const data = bytes.subarray(TAG_HEADER_BYTES, TAG_HEADER_BYTES + dataSize);
    const tag: FlvTag = { type, timestamp: tagTimestamp(bytes), bytes, offset: start };
    if (type === TAG_VIDEO) tag.video = parseVideo(data);
    else if (type === TAG_AUDIO) tag.audio = parseAudio(data);
    else tag.metadata = parseScript(data);
    return { kind: 'tag', tag };
  }

  /** The next `n` buffered bytes without consuming them (copied only when split). */
  private peek(n: number): Buffer {
    const first = this.parts[0];
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.parts, Math.min(this.available, Math.max(n, 0))).subarray(0, n);
  }

  /** Consume `n` bytes: a view into the chunk when it holds them all, else one copy. */
  private take(n: number): Buffer {
    const first = this.parts[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.parts.shift();
      else this.parts[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const part = this.parts[0];
        const use = Math.min(part.length, n - filled);
        part.copy(out, filled, 0, use);
        filled += use;
        if (use === part.length) this.parts.shift();
        else this.parts[0] = part.subarray(use);
      }
    }
    this.available -= n;
    this.offset += n;
    return out;
  }
}
