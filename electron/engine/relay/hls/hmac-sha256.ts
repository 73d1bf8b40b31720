/**
 * HMAC-SHA256 (RFC 2104, FIPS 180-4) for many short messages under one key, in plain JS:
 * the key's inner and outer states are computed once, and a message costs two or three
 * block compressions and no allocation. A template build signs one URI after another
 * (hint.ts: tens of thousands for a large playlist); node:crypto's createHmac costs an
 * object, a key schedule and a native call each, which made it the bulk of a build.
 * Output equals createHmac('sha256', key).update(message).digest(); the tests compare them.
 */

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74,
  0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d,
  0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e,
  0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
  0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const BLOCK = 64;

/** Compress one 64-byte block of `data` at `offset` into `state` (8 words). */
function compress(state: Uint32Array, w: Uint32Array, data: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i += 1) {
    const j = offset + i * 4;
    w[i] = (data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3];
  }
  for (let i = 16; i < 64; i += 1) {
    const a = w[i - 15];
    const b = w[i - 2];
    const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
    const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
    w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
  }
  let a = state[0];
  let b = state[1];
  let c = state[2];
  let d = state[3];
  let e = state[4];
  let f = state[5];
  let g = state[6];
  let h = state[7];
  for (let i = 0; i < 64; i += 1) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

export class HmacSha256 {
  private readonly inner = new Uint32Array(8);
  private readonly outer = new Uint32Array(8);
  private readonly state = new Uint32Array(8);
  private readonly w = new Uint32Array(64);
  private scratch = Buffer.alloc(4 * BLOCK);
  private readonly digestBlock = Buffer.alloc(BLOCK);
  readonly digest = Buffer.alloc(32);

  constructor(key: Uint8Array) {
    // Keys longer than a block would be hashed first (RFC 2104); the relay's keys are 32 bytes.
    if (key.length > BLOCK) throw new Error('HmacSha256: key longer than 64 bytes');
    const pad = Buffer.alloc(BLOCK);
    for (const [state, byte] of [
      [this.inner, 0x36],
      [this.outer, 0x5c],
    ] as const) {
      pad.fill(byte);
      for (let i = 0; i < key.length; i += 1) pad[i] = key[i] ^ byte;
      state.set(IV);
      compress(state, this.w, pad, 0);
    }
  }

  /** HMAC of the UTF-8 bytes of `message`, into `this.digest` (returned; overwritten by the next call). */
  mac(message: string): Buffer {
    const most = Buffer.byteLength(message) + 9 + BLOCK;
    if (this.scratch.length < most) this.scratch = Buffer.alloc(most * 2);
    const length = this.scratch.write(message, 0, 'utf8');
    this.hash(this.inner, this.scratch, length);
    this.digest.copy(this.digestBlock, 0, 0, 32);
    this.hash(this.outer, this.digestBlock, 32);
    return this.digest;
  }

  /** SHA-256 continued from `from` (one block already absorbed) over data[0, length) into `this.digest`; pads `data` in place. */
  private hash(from: Uint32Array, data: Buffer, length: number): void {
    const state = this.state;
    state.set(from);
    const total = length + 9;
    const blocks = Math.ceil(total / BLOCK);
    data.fill(0, length, blocks * BLOCK);
    data[length] = 0x80;
    const bits = (length + BLOCK) * 8; // the key block counts
    data.writeUInt32BE(Math.floor(bits / 0x1_0000_0000), blocks * BLOCK - 8);
    data.writeUInt32BE(bits >>> 0, blocks * BLOCK - 4);
    for (let b = 0; b < blocks; b += 1) compress(state, this.w, data, b * BLOCK);
    for (let i = 0; i < 8; i += 1) this.digest.writeUInt32BE(state[i], i * 4);
  }
}
