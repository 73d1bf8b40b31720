/** Build FLV bytes for tests: a header and well-formed tags of each kind. */

export function flvHeader(audio = true, video = true): Buffer {
  const b = Buffer.from([0x46, 0x4c, 0x56, 0x01, (audio ? 4 : 0) | (video ? 1 : 0), 0, 0, 0, 9, 0, 0, 0, 0]);
  return b;
}

export function flvTag(type: number, timestamp: number, data: Buffer): Buffer {
  const out = Buffer.alloc(11 + data.length + 4);
  out[0] = type;
  out.writeUIntBE(data.length, 1, 3);
  out.writeUIntBE(timestamp & 0xffffff, 4, 3);
  out[7] = (timestamp >>> 24) & 0xff;
  data.copy(out, 11);
  out.writeUInt32BE(11 + data.length, 11 + data.length);
  return out;
}

function amfString(s: string): Buffer {
  const b = Buffer.alloc(3 + Buffer.byteLength(s));
  b[0] = 0x02;
  b.writeUInt16BE(Buffer.byteLength(s), 1);
  b.write(s, 3);
  return b;
}

function amfNumber(n: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0x00;
  b.writeDoubleBE(n, 1);
  return b;
}

/** An onMetaData script tag with numeric and string properties. */
export function metadataTag(props: Record<string, number | string>): Buffer {
  const entries = Object.entries(props).map(([k, v]) => {
    const key = Buffer.alloc(2 + k.length);
    key.writeUInt16BE(k.length, 0);
    key.write(k, 2);
    return Buffer.concat([key, typeof v === 'number' ? amfNumber(v) : amfString(v)]);
  });
  const head = Buffer.alloc(5);
  head[0] = 0x08;
  head.writeUInt32BE(entries.length, 1);
  return flvTag(18, 0, Buffer.concat([amfString('onMetaData'), head, ...entries, Buffer.from([0, 0, 9])]));
}

export const avcSequenceHeader = (ts = 0) => flvTag(9, ts, Buffer.from([0x17, 0x00, 0, 0, 0, 0x01, 0x42, 0xc0, 0x1e, 0xff]));
export const avcKeyframe = (ts: number, size = 200) => flvTag(9, ts, Buffer.concat([Buffer.from([0x17, 0x01, 0, 0, 0]), Buffer.alloc(size, 0x65)]));
export const avcInterframe = (ts: number, size = 50) => flvTag(9, ts, Buffer.concat([Buffer.from([0x27, 0x01, 0, 0, 0]), Buffer.alloc(size, 0x41)]));
export const hevcSequenceHeader = (ts = 0) => flvTag(9, ts, Buffer.from([0x1c, 0x00, 0, 0, 0, 0x01]));
export const enhancedHevcSequenceStart = (ts = 0) => flvTag(9, ts, Buffer.from([0x90, 0x68, 0x76, 0x63, 0x31, 0x01]));
export const enhancedHevcKeyframe = (ts: number) => flvTag(9, ts, Buffer.from([0x91, 0x68, 0x76, 0x63, 0x31, 0, 0, 0, 0x26, 0x01]));
export const aacSequenceHeader = (ts = 0) => flvTag(8, ts, Buffer.from([0xaf, 0x00, 0x12, 0x10]));
export const aacFrame = (ts: number) => flvTag(8, ts, Buffer.concat([Buffer.from([0xaf, 0x01]), Buffer.alloc(20, 0x21)]));

/** A complete synthetic live stream: header, metadata, sequence headers, `gops` GOPs of `frames` frames at 25 fps. */
export function syntheticStream(gops: number, frames = 25, startTs = 0): Buffer {
  const parts = [flvHeader(), metadataTag({ width: 640, height: 360, framerate: 25, videocodecid: 7 }), avcSequenceHeader(), aacSequenceHeader()];
  let ts = startTs;
  for (let g = 0; g < gops; g += 1) {
    for (let f = 0; f < frames; f += 1) {
      parts.push(f === 0 ? avcKeyframe(ts) : avcInterframe(ts));
      parts.push(aacFrame(ts));
      ts += 40;
    }
  }
  return Buffer.concat(parts);
}

/** A seeded PRNG (mulberry32) so property tests are reproducible from their printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Split `bytes` at random points (sizes 1..maxChunk). */
export function randomChunks(bytes: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size = 1 + Math.floor(random() * maxChunk);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}
