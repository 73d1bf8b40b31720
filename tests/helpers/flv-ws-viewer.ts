/**
 * A real WebSocket-FLV viewer for tests: the `ws` client reads the stream as binary messages
 * and parses every tag; a refused handshake keeps the relay's HTTP answer (status and body).
 */
import { WebSocket } from 'ws';
import { FlvTagReader, type FlvItem } from '../../electron/engine/codec/flv/tag-reader.js';

export class FlvWsViewer {
  readonly items: FlvItem[] = [];
  /** Raw bytes received, in order (every message concatenated). */
  readonly chunks: Buffer[] = [];
  /** 101 once upgraded, else the status of the relay's HTTP answer. */
  status = 0;
  /** The HTTP answer's body when the handshake was refused. */
  body = '';
  headers: Record<string, string | string[] | undefined> = {};
  bytes = 0;
  messages = 0;
  closeCode: number | undefined;
  closeReason = '';
  closed = false;
  error: Error | undefined;
  parseError: Error | undefined;
  firstKeyframeAt = 0;
  readonly ws: WebSocket;
  private readonly reader = new FlvTagReader();

  constructor(
    readonly url: string,
    headers: Record<string, string> = {},
    /** The Origin header, as a browser page on that origin sends it (`ws`'s own option); none when omitted, like ffplay. */
    origin?: string,
  ) {
    this.ws = new WebSocket(url, { headers, origin, perMessageDeflate: false });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    this.ws.on('close', (code, reason) => {
      this.closed = true;
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    this.ws.on('error', (error) => (this.error ??= error));
  }

  /** Resolves once upgraded (status 101) or once the refusal's body is read (status >= 400). */
  open(): Promise<this> {
    return new Promise((resolve) => {
      this.ws.once('open', () => {
        this.status = 101;
        resolve(this);
      });
      this.ws.once('unexpected-response', (req, res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        if (this.status < 400) {
          // Not upgraded, and not an error (an HTTP-FLV stream, which would never end): the handshake failed.
          req.destroy();
          resolve(this);
          return;
        }
        const body: Buffer[] = [];
        res.on('data', (chunk: Buffer) => body.push(chunk));
        res.on('end', () => {
          this.body = Buffer.concat(body).toString();
          req.destroy();
          resolve(this);
        });
      });
      this.ws.once('error', () => resolve(this));
    });
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.parseError ??= new Error('a text message');
      return;
    }
    this.bytes += data.length;
    this.messages += 1;
    this.chunks.push(data);
    try {
      for (const item of this.reader.push(data)) {
        this.items.push(item);
        if (!this.firstKeyframeAt && item.kind === 'tag' && item.tag.video?.keyframe) this.firstKeyframeAt = Date.now();
      }
    } catch (error) {
      this.parseError = error as Error;
    }
  }

  get tags() {
    return this.items.flatMap((i) => (i.kind === 'tag' ? [i.tag] : []));
  }

  /** The relay's JSON error body of a refused handshake. */
  json(): any {
    return JSON.parse(this.body);
  }

  /** Resolves when the connection has closed. */
  whenClosed(): Promise<this> {
    return this.closed ? Promise.resolve(this) : new Promise((resolve) => this.ws.once('close', () => resolve(this)));
  }

  close(): void {
    this.ws.close(1000);
  }
}
