/** A real HTTP-FLV viewer for tests: reads the stream through a socket and parses every tag. */
import http from 'node:http';
import { FlvTagReader, type FlvItem } from '../../electron/engine/codec/flv/tag-reader.js';

export class FlvTestViewer {
  readonly items: FlvItem[] = [];
  status = 0;
  /** The response's headers, once they arrived. */
  headers: http.IncomingHttpHeaders = {};
  bytes = 0;
  /** Socket reads that brought bytes (each at least one write by the relay). */
  reads = 0;
  body = Buffer.alloc(0);
  ended = false;
  complete = false;
  parseError: Error | undefined;
  readonly openedAt = Date.now();
  headersAt = 0;
  firstKeyframeAt = 0;
  private readonly reader = new FlvTagReader();
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;

  /** `retain` false keeps counts only (for load tests where stored tags would dominate memory). */
  constructor(
    readonly url: string,
    readonly retain = true,
    /** Request headers to send. */
    readonly requestHeaders: http.OutgoingHttpHeaders = {},
  ) {}

  /** Connect; resolves when the response headers arrive. */
  open(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.req = http.get(this.url, { agent: false, headers: this.requestHeaders }, (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        this.headersAt = Date.now();
        res.on('data', (chunk: Buffer) => this.onData(chunk));
        res.on('error', () => {});
        res.on('close', () => {
          this.ended = true;
          this.complete = res.complete;
        });
        resolve(this);
      });
      this.req.on('error', reject);
    });
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.reads += 1;
    if (this.status !== 200) {
      this.body = Buffer.concat([this.body, chunk]);
      return;
    }
    try {
      for (const item of this.reader.push(chunk)) {
        if (this.retain) this.items.push(item);
        if (!this.firstKeyframeAt && item.kind === 'tag' && item.tag.video?.keyframe) this.firstKeyframeAt = Date.now();
      }
    } catch (error) {
      this.parseError = error as Error;
    }
  }

  get tags() {
    return this.items.flatMap((i) => (i.kind === 'tag' ? [i.tag] : []));
  }

  /** Stop reading (the socket fills up, as with a stalled player). */
  pause(): void {
    this.res?.pause();
  }

  close(): void {
    this.req?.destroy();
  }

  json(): any {
    return JSON.parse(this.body.toString());
  }
}

/** Check that timestamps never go backwards per tag type; returns a description of the first violation. */
export function timestampViolation(viewer: FlvTestViewer): string | undefined {
  const last = new Map<number, number>();
  for (const tag of viewer.tags) {
    if (tag.type === 18) continue;
    const previous = last.get(tag.type);
    if (previous !== undefined && tag.timestamp < previous) return `type ${tag.type}: ${tag.timestamp} after ${previous}`;
    last.set(tag.type, tag.timestamp);
  }
  return undefined;
}
