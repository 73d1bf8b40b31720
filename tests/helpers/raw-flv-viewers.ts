/**
 * Many light HTTP-FLV viewers for load tests: one raw TCP socket each, a GET, and counters
 * only (status, FLV signature, body bytes); nothing is parsed or kept past the response head.
 */
import net from 'node:net';

/** Most bytes of a response head kept while looking for its end. */
const MAX_HEAD_BYTES = 16_384;

export class RawFlvViewer {
  status = 0;
  /** The body began with the FLV signature. */
  flv = false;
  bodyBytes = 0;
  ended = false;
  private head = Buffer.alloc(0);
  private socket: net.Socket | undefined;

  constructor(
    readonly url: string,
    readonly headers: Record<string, string> = {},
  ) {}

  /** Connect and send the request (resolves once it is written). */
  open(): Promise<this> {
    const url = new URL(this.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        const extra = Object.entries(this.headers)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        socket.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: relaydeck-load\r\n${extra}\r\n`);
        resolve(this);
      });
      this.socket = socket;
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('error', (error) => {
        this.ended = true;
        reject(error);
      });
      socket.on('close', () => (this.ended = true));
    });
  }

  private onData(chunk: Buffer): void {
    if (this.status !== 0) {
      this.bodyBytes += chunk.length;
      return;
    }
    this.head = Buffer.concat([this.head, chunk]);
    const end = this.head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.head.length > MAX_HEAD_BYTES) this.close();
      return;
    }
    this.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(this.head.subarray(0, end).toString('latin1'))?.[1] ?? -1);
    const body = this.head.subarray(end + 4);
    this.head = Buffer.alloc(0);
    this.bodyBytes = body.length;
    // Chunked or not, the first body bytes of an FLV answer hold the signature near the start.
    this.flv = body.subarray(0, 16).includes('FLV');
    if (!this.flv && body.length < 16) this.awaitSignature(body);
  }

  /** The head ended before the signature arrived: look in the next chunk too. */
  private awaitSignature(start: Buffer): void {
    this.socket?.once('data', (chunk: Buffer) => {
      this.flv = Buffer.concat([start, chunk]).subarray(0, 16).includes('FLV');
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** Open `count` viewers of `url`, `batch` connections at a time. */
export async function openRawViewers(url: string, count: number, batch = 50): Promise<RawFlvViewer[]> {
  const viewers: RawFlvViewer[] = [];
  for (let i = 0; i < count; i += batch) {
    const opened = await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => new RawFlvViewer(url).open()));
    viewers.push(...opened);
  }
  return viewers;
}
