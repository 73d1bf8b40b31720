/**
 * A raw HTTP/2 client for hostile-input tests: it writes frames itself (no library would send
 * a rapid-reset or SETTINGS flood), over TLS with ALPN h2, trusting a test CA, and reads the
 * server's frames back far enough to see a GOAWAY, a RST_STREAM or the connection closing.
 * Headers are HPACK-encoded with the static table and literals only (RFC 7541 §6.2.2), so no
 * encoder state is needed.
 */
import tls from 'node:tls';

/** Frame types (RFC 9113 §6). */
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const ACK = 0x1;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** One frame: 9-byte header and payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** A literal header field without indexing whose name is a static-table entry (RFC 7541 §6.2.2); values under 127 bytes. */
function literal(nameIndex: number, value: string): Buffer {
  const bytes = Buffer.from(value, 'latin1');
  if (nameIndex > 15 || bytes.length > 126) throw new Error('literal too long for this encoder');
  return Buffer.concat([Buffer.from([nameIndex, bytes.length]), bytes]);
}

/** A literal header field without indexing with a new name (RFC 7541 §6.2.2); names and values under 127 bytes. */
function literalNamed(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'latin1');
  const v = Buffer.from(value, 'latin1');
  if (n.length > 126 || v.length > 126) throw new Error('literal too long for this encoder');
  return Buffer.concat([Buffer.from([0x00, n.length]), n, Buffer.from([v.length]), v]);
}

/** A GET request's HEADERS frame (END_STREAM | END_HEADERS), with `extra` header fields (lower-case names). */
export function getHeaders(streamId: number, path: string, authority: string, extra: Record<string, string> = {}): Buffer {
  // Static table: 2 = :method GET, 7 = :scheme https; names 1 = :authority, 4 = :path.
  const fields = Object.entries(extra).map(([name, value]) => literalNamed(name, value));
  const block = Buffer.concat([Buffer.from([0x82, 0x87]), literal(4, path), literal(1, authority), ...fields]);
  return frame(FRAME.HEADERS, END_STREAM | END_HEADERS, streamId, block);
}

/** A PING frame with 8 bytes of opaque data. */
export function ping(data = Buffer.alloc(8)): Buffer {
  return frame(FRAME.PING, 0, 0, data);
}

/** RST_STREAM with CANCEL (0x8), as a browser sends when it abandons a request. */
export function rstStream(streamId: number, code = 0x8): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, streamId, payload);
}

/** A SETTINGS frame carrying `pairs` (identifier, value). */
export function settings(pairs: [number, number][] = []): Buffer {
  const payload = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
}

export interface ServerFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A raw h2 connection: write frames, watch what comes back. */
export class RawH2 {
  readonly frames: ServerFrame[] = [];
  /** GOAWAY error code, once the server sent one. */
  goawayCode: number | undefined;
  /** RST_STREAM frames the server sent, by error code. */
  readonly resets = new Map<number, number>();
  closed = false;
  private buffered = Buffer.alloc(0);
  private readonly closedPromise: Promise<void>;

  private constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  /** Connect with ALPN h2 and send the preface and an empty SETTINGS frame. */
  static connect(port: number, ca: string, servername = 'localhost'): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca, servername, ALPNProtocols: ['h2'] }, () => {
        if (socket.alpnProtocol !== 'h2') return reject(new Error(`ALPN gave ${String(socket.alpnProtocol)}`));
        socket.write(Buffer.concat([PREFACE, settings()]));
        resolve(new RawH2(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Write bytes; false once the connection is gone. Resolves when the kernel took them (backpressure). */
  write(bytes: Buffer): Promise<boolean> {
    if (this.closed || this.socket.destroyed) return Promise.resolve(false);
    if (this.socket.write(bytes)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve(!this.closed && !this.socket.destroyed);
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  /** Resolves once the server's SETTINGS frame has arrived (and been acknowledged): its limits apply from then on. */
  async serverSettings(ms = 2000): Promise<void> {
    const started = Date.now();
    while (!this.frames.some((f) => f.type === FRAME.SETTINGS && !(f.flags & ACK))) {
      if (Date.now() - started > ms) throw new Error('no SETTINGS frame from the server');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves when the server has closed the connection (or after `ms`, false). */
  async waitClosed(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.closedPromise.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 9) {
      const length = this.buffered.readUIntBE(0, 3);
      if (this.buffered.length < 9 + length) return;
      const f: ServerFrame = {
        type: this.buffered[3],
        flags: this.buffered[4],
        streamId: this.buffered.readUInt32BE(5) & 0x7fffffff,
        payload: this.buffered.subarray(9, 9 + length),
      };
      this.buffered = this.buffered.subarray(9 + length);
      if (this.frames.length < 10_000) this.frames.push(f);
      if (f.type === FRAME.GOAWAY) this.goawayCode = f.payload.readUInt32BE(4);
      if (f.type === FRAME.RST_STREAM) {
        const code = f.payload.readUInt32BE(0);
        this.resets.set(code, (this.resets.get(code) ?? 0) + 1);
      }
      // Acknowledge the server's SETTINGS, as a real client must.
      if (f.type === FRAME.SETTINGS && !(f.flags & ACK) && !this.socket.destroyed) this.socket.write(frame(FRAME.SETTINGS, ACK, 0));
    }
  }
}
