/**
 * Per-viewer pacing (routes[].limits.viewerBytesPerSecond): a proxied file's or an HLS
 * segment's response is written at most this fast, through a token bucket that holds one
 * second of bytes (so the first second's bytes go at once, then the rate holds).
 *
 * Bytes the bucket cannot cover wait; while they wait nothing more is read: the proxy
 * pauses the node's stream exactly as for a viewer whose socket is full (PacedPipe), and an
 * HLS delivery stops advancing its position in the shared fetch, so memory stays within
 * the buffers that already bound a slow viewer. A paced response has at most one timer (the
 * wait for tokens), and no code here runs for a route whose limit is 0: the engines only
 * build a pacer when the rate is above 0.
 *
 * The wait is the viewer's route's choice, not the node's silence nor the viewer's stall:
 * `waiting` tells the upstream clocks (upstream/transport/timers.ts ReaderHold.waiting) not
 * to count it, and the node is told when it is read again (`resumed`).
 */
import type { Readable } from 'node:stream';

/** Smallest write a pacer waits for once its bucket is empty, bytes (less when a second holds fewer): no trickle of tiny writes. */
export const MIN_SLICE_BYTES = 16 * 1_024;

/** A monotonic clock in ms. */
export type Clock = () => number;

const monotonic: Clock = () => performance.now();

/** A token bucket: `rate` tokens (bytes) a second, holding at most one second of them; it starts full. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly rate: number,
    private readonly clock: Clock = monotonic,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`a token bucket needs a rate above 0, got ${rate}`);
    this.tokens = rate;
    this.at = clock();
  }

  /** Whole tokens held now. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  /** Take up to `want` tokens, but only when at least `least` are held (least <= the bucket's size); the number taken, or 0. */
  take(want: number, least: number): number {
    this.refill();
    if (this.tokens < least) return 0;
    const taken = Math.min(want, Math.floor(this.tokens));
    this.tokens -= taken;
    return taken;
  }

  /** Milliseconds until `count` tokens are held (0 when they are); `count` must not exceed the bucket's size. */
  msUntil(count: number): number {
    this.refill();
    const missing = count - this.tokens;
    return missing <= 0 ? 0 : Math.ceil((missing * 1_000) / this.rate);
  }

  private refill(): void {
    const now = this.clock();
    const elapsed = now - this.at;
    this.at = now;
    if (elapsed > 0) this.tokens = Math.min(this.rate, this.tokens + (elapsed * this.rate) / 1_000);
  }
}

/**
 * One response's pacing: how many bytes may be written now, and one timer that calls `wake`
 * when more may. While it waits, `grant` gives nothing (the caller holds its bytes).
 */
export class Pacer {
  private readonly bucket: TokenBucket;
  private readonly minSlice: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    bytesPerSecond: number,
    private readonly wake: () => void,
    clock?: Clock,
  ) {
    this.bucket = new TokenBucket(bytesPerSecond, clock);
    this.minSlice = Math.max(1, Math.min(MIN_SLICE_BYTES, Math.floor(bytesPerSecond)));
  }

  /** True while bytes wait for tokens (the timer is set). */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Of `want` bytes, how many may be written now, taken from the bucket. 0 (for a `want` above
   * 0): the caller waits; `wake` is called once when at least min(want, MIN_SLICE_BYTES) may go.
   */
  grant(want: number): number {
    if (want <= 0 || this.timer !== undefined || this.stopped) return 0;
    const least = Math.min(want, this.minSlice);
    const granted = this.bucket.take(want, least);
    if (granted > 0) return granted;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (!this.stopped) this.wake();
      },
      Math.max(1, this.bucket.msUntil(least)),
    );
    return 0;
  }

  /** The response ended: no more wake-ups. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** What PacedPipe writes to: a viewer's response (HTTP/1.1 ServerResponse or the HTTP/2 compatibility one). */
export interface PacedResponse {
  write(chunk: Buffer): boolean;
  end(callback?: () => void): unknown;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  readonly destroyed?: boolean;
}

export interface PacedPipeEvents {
  /** Bytes handed to the viewer's response (each write, so a slice of a chunk counts as written). */
  written(bytes: number): void;
  /** A pacing wait ended, or the node's stream was resumed: the node's idle clock starts over (the wait was no one's silence). */
  resumed(): void;
  /** The node's body ended and the viewer's response was ended (its callback). */
  ended(): void;
}

/**
 * The node's body written to the viewer at the pacer's rate, with the usual backpressure: the
 * body is paused while a chunk waits for tokens or for the viewer's socket to drain, and
 * resumed when the chunk is written and the socket has room. At most one chunk is held (the
 * one the body handed over last), as the unpaced proxy holds it in the socket's buffer.
 */
export class PacedPipe {
  readonly pacer: Pacer;
  private chunk: Buffer | undefined;
  private offset = 0;
  private needDrain = false;
  private paused = false;
  private closed = false;
  /** The body ended (a stream may say so right after its last chunk, even paused): the response ends once that chunk is written. */
  private bodyEnded = false;

  constructor(
    private readonly body: Readable,
    private readonly res: PacedResponse,
    bytesPerSecond: number,
    private readonly events: PacedPipeEvents,
    clock?: Clock,
  ) {
    this.pacer = new Pacer(
      bytesPerSecond,
      () => {
        // The wait is over: the viewer is written to again, so the silence so far is no one's.
        events.resumed();
        this.flush();
      },
      clock,
    );
    res.on('drain', () => {
      this.needDrain = false;
      this.flush();
    });
    res.on('close', () => this.stop());
    body.on('data', (chunk: Buffer) => {
      if (this.closed || res.destroyed || chunk.length === 0) return;
      this.chunk = chunk;
      this.offset = 0;
      this.flush();
    });
    body.on('end', () => {
      this.bodyEnded = true;
      this.flush();
    });
  }

  /** True while the body waits for tokens (not for the viewer's socket). */
  get waiting(): boolean {
    return this.pacer.waiting;
  }

  /** The response is over: the timer is cleared and nothing more is written. */
  stop(): void {
    this.closed = true;
    this.pacer.stop();
  }

  private flush(): void {
    if (this.closed || this.res.destroyed) {
      this.stop();
      return;
    }
    let chunk = this.chunk;
    while (chunk !== undefined && !this.needDrain) {
      const granted = this.pacer.grant(chunk.length - this.offset);
      if (granted === 0) break;
      const piece = granted === chunk.length ? chunk : chunk.subarray(this.offset, this.offset + granted);
      this.offset += granted;
      if (this.offset === chunk.length) {
        this.chunk = chunk = undefined;
      }
      this.events.written(granted);
      if (!this.res.write(piece)) this.needDrain = true;
    }
    if (this.bodyEnded) {
      if (this.chunk === undefined) this.endResponse();
    } else if (this.chunk !== undefined || this.needDrain) {
      if (!this.paused) {
        this.paused = true;
        this.body.pause();
      }
    } else if (this.paused) {
      this.paused = false;
      this.body.resume();
      this.events.resumed();
    }
  }

  private endResponse(): void {
    this.closed = true;
    this.pacer.stop();
    this.res.end(() => this.events.ended());
  }
}
