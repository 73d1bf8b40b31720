/**
 * Writing one shared fetch to one viewer. An object (segment, part, key, a node's error
 * answer) streams chunk by chunk from the viewer's own position, pausing on a full socket
 * until it drains; a 2xx playlist waits until complete and is rendered for this viewer.
 * Before the first byte, a fetch's status (and its failure, which may still come while a
 * playlist is held) is put to `review`, which may swap in another node's fetch
 * (failover.ts) or an error. Failures before the first byte are JSON errors from the
 * taxonomy; after it, the response can only be cut. The end is reported once.
 * A large rendered playlist is one shared Buffer, written as it is (no copy per viewer);
 * the viewers of a burst are handed it one per event-loop turn (TURN_WRITE_MIN_BYTES), so
 * the kernel copies of fifty 7 MB answers are not all made in one turn. Over TLS (HTTPS/1.1
 * and HTTP/2) a body in hand (a complete object, a rendered playlist) goes to the socket
 * WRITE_SLICE_BYTES at a time, the next when the socket took the last: each write is encrypted
 * into the connection's own buffer at once, so a viewer holds one slice, not a copy of the
 * whole object. A plain socket writes from the shared buffer itself: one write there.
 * A delivery given a rate (routes[].limits.viewerBytesPerSecond, for segments) writes the
 * object through its own token bucket (pacing.ts): bytes beyond it wait, the position in the
 * shared fetch stays where it is meanwhile (an uncacheable fetch pauses its node for it as for
 * a slow viewer), and a chunk may go in slices. Each viewer of a cached object has its own.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ERROR_STATUS, RelayError, toRelayError } from '../../core/errors.js';
import { underRouteCors } from '../cors.js';
import { Pacer } from '../pacing.js';
import { sendError } from '../respond.js';
import type { CacheOutcome, Obtained } from './cache.js';
import type { FetchWatcher, SharedFetch } from './fetch.js';

/** Response header saying how the relay's cache answered: HIT, SHARED (joined a fetch in flight), MISS or BYPASS. */
export const CACHE_STATUS_HEADER = 'x-relaydeck-cache';

/**
 * Playlist answers at least this large are written one per event-loop turn, bytes: a
 * socket write copies what fits of the body into the kernel at once, which for a few MB
 * is a millisecond or more per viewer.
 */
export const TURN_WRITE_MIN_BYTES = 256 * 1_024;

/**
 * Most bytes of a body in hand (a complete object, a rendered playlist) handed to a viewer's
 * TLS connection at once, bytes (60 KiB); the next slice follows its 'drain'. Over TLS and
 * HTTP/2 a write is encrypted into the connection's buffer whole, where it stays until the
 * kernel takes it: a 500 KB segment written in one go held about 600 KB per viewer while 500
 * HTTP/2 viewers fetched it; in slices, a viewer holds one.
 * A slice and what is added to it (HTTP/2 frame headers, TLS record headers and tags: about
 * 130 bytes, more when other streams' frames share the write) stays under 64 KiB, the most the
 * kernel sends as one segment on loopback and as one TSO/GSO batch on a NIC: 64 KiB slices
 * went out as a full 65,483-byte segment and a ~200-byte one each (tcpdump on loopback; 60 KiB
 * ones as one segment or two of similar size), which cost a relay serving 500 HTTP/2 viewers
 * half as much kernel time again (0.51-0.74 s against 0.36-0.43 s in 15 s) and 5-9% more CPU
 * than 60 KiB slices, in four interleaved relay-against-relay rounds.
 */
export const WRITE_SLICE_BYTES = 60 * 1_024;

/**
 * Deliveries waiting for their turn to write a large playlist, in order. Bounded by the
 * viewers being answered: each delivery is in it at most once, and leaves it when it
 * writes or its viewer leaves.
 */
const writeTurns = new Set<Delivery>();
let turnScheduled = false;

function nextTurn(): void {
  const first = writeTurns.values().next();
  if (!first.done) first.value.writeInTurn();
  turnScheduled = writeTurns.size > 0;
  if (turnScheduled) setImmediate(nextTurn);
}

export interface RenderedPlaylist {
  /** The bytes (UTF-8), encoded once and shared by the viewers of the same rendering. */
  body: Buffer;
  headers: OutgoingHttpHeaders;
}

/** What a review puts in place of a fetch: another fetch to deliver, or an error to answer. */
export type Replacement = Obtained | RelayError;

export interface DeliveryEvents {
  /**
   * Called when a fetch's status is known and again if it fails, while nothing was sent yet:
   * undefined to deliver it as it is, else what to deliver instead (possibly later).
   */
  review(source: SharedFetch): Replacement | Promise<Replacement | undefined> | undefined;
  /** This viewer's copy of a complete 2xx playlist (later, for a large one); throws (or rejects with) a RelayError when it cannot be made. */
  renderPlaylist(source: SharedFetch): RenderedPlaylist | Promise<RenderedPlaylist>;
  /** Bytes handed to the viewer's socket. */
  countOut(bytes: number): void;
  /** The delivery ended with this status (499 when the viewer left first) and error code. */
  ended(status: number, errorCode?: string): void;
}

export class Delivery implements FetchWatcher {
  position = 0;
  /** Bytes of the chunk at `position` already written (only a paced delivery writes part of a chunk). */
  private offset = 0;
  /** Absent: unpaced (pump); else pumpPaced writes at its rate. */
  private pacer: Pacer | undefined;
  private started = false;
  private done = false;
  private waitingDrain = false;
  /** What of the current source was put to `review`: its status, then (a playlist is held until complete) its failure. */
  private reviewed: 'status' | 'failure' | undefined;
  /** A review's answer is awaited (the locator is being asked), or the playlist's rendering. */
  private awaitingReview = false;
  private cacheStatus: string;
  /** A large playlist waiting in writeTurns. */
  private turnWaiting: RenderedPlaylist | undefined;
  /** The body in hand being written in slices (sendBody), and how much of it was handed to the socket. */
  private body: Buffer | undefined;
  private bodySent = 0;

  constructor(
    private source: SharedFetch,
    private readonly res: ServerResponse,
    private readonly headOnly: boolean,
    /** The viewer's connection is TLS (HTTPS/1.1 or HTTP/2): a body in hand goes in WRITE_SLICE_BYTES slices; else in one write. */
    private readonly overTls: boolean,
    outcome: CacheOutcome,
    private readonly events: DeliveryEvents,
  ) {
    this.cacheStatus = outcome.toUpperCase();
  }

  /**
   * Write the object at most `bytesPerSecond` (a token bucket holding one second, pacing.ts);
   * 0: not paced. Called before start(); a 2xx playlist is never paced (it is written whole).
   */
  paceAt(bytesPerSecond: number): void {
    if (bytesPerSecond > 0) this.pacer = new Pacer(bytesPerSecond, () => this.wake());
  }

  start(): void {
    this.res.on('close', () => this.finish(ERROR_STATUS.CLIENT_CLOSED, 'CLIENT_CLOSED'));
    this.res.on('drain', () => {
      this.waitingDrain = false;
      this.wake();
    });
    this.follow(this.source);
  }

  /** Read from `source`, from its first chunk still held. */
  private follow(source: SharedFetch): void {
    this.source = source;
    this.reviewed = undefined;
    source.compact();
    this.position = source.base;
    this.offset = 0;
    this.body = undefined;
    this.bodySent = 0;
    source.watch(this);
    this.wake();
  }

  wake(): void {
    if (this.done || this.awaitingReview) return;
    const source = this.source;
    if (!this.started) {
      if (source.state === 'pending') return;
      const stage = source.state === 'failed' ? 'failure' : 'status';
      if (this.reviewed !== stage && this.review(source, stage)) return;
      if (source.state === 'failed') {
        this.failBeforeHeaders(source.error ?? new RelayError('INTERNAL', 'fetch failed without an error'));
        return;
      }
      if (source.kind === 'playlist' && source.status >= 200 && source.status < 300) {
        if (source.state === 'complete') this.sendPlaylist();
        return;
      }
      this.writeHeaders();
      if (this.headOnly) {
        this.res.end();
        this.finish(source.status);
        return;
      }
    }
    this.pump();
  }

  /** Put the source to review; true when it is not delivered (replaced, or the answer is awaited). */
  private review(source: SharedFetch, stage: 'status' | 'failure'): boolean {
    this.reviewed = stage;
    const replacement = this.events.review(source);
    if (replacement === undefined) return false;
    if (replacement instanceof Promise) {
      this.awaitingReview = true;
      replacement.then(
        (next) => this.replace(next),
        (error: unknown) => this.replace(toRelayError(error)),
      );
    } else {
      this.replace(replacement);
    }
    return true;
  }

  private replace(next: Replacement | undefined): void {
    this.awaitingReview = false;
    if (this.done) return;
    if (next === undefined) {
      this.wake();
    } else if (next instanceof RelayError) {
      this.failBeforeHeaders(next);
    } else {
      this.source.unwatch(this);
      this.cacheStatus = next.outcome.toUpperCase();
      this.follow(next.fetch);
    }
  }

  private writeHeaders(): void {
    const source = this.source;
    // underRouteCors makes the copy that is written: the fetch's own headers are shared by its viewers and never changed.
    const complete = source.state === 'complete' && source.base === 0;
    const headers = underRouteCors(this.res, source.headers);
    if (complete) headers['content-length'] = source.received;
    else if (source.contentLength === undefined) delete headers['content-length']; // a copy written once: no shared object slowed
    headers[CACHE_STATUS_HEADER] = this.cacheStatus;
    this.started = true;
    this.res.writeHead(source.status, headers);
    if (source.state !== 'complete') this.res.flushHeaders();
  }

  private pump(): void {
    if (this.body) {
      if (!this.waitingDrain && !this.done) this.sendBody();
      return;
    }
    if (this.pacer) {
      this.pumpPaced(this.pacer);
      return;
    }
    if (this.waitingDrain || this.done) return;
    const source = this.source;
    const whole = this.position === 0 ? source.whole : undefined;
    if (whole) {
      // A complete object from its first byte: written from the one buffer in slices, whatever chunks it came in.
      this.position = source.end;
      source.advanced();
      this.sendWhole(whole);
      return;
    }
    while (this.position < source.end) {
      const chunk = source.chunk(this.position);
      this.position += 1;
      this.events.countOut(chunk.length);
      if (source.state === 'complete' && this.position === source.end) {
        this.res.end(chunk); // the last chunk and the end in one write (a cached object: headers and body together)
        this.finish(source.status);
        return;
      }
      if (!this.res.write(chunk)) {
        this.waitingDrain = true;
        break;
      }
    }
    source.advanced();
    if (this.waitingDrain) return;
    if (source.state === 'complete' && this.position >= source.end) {
      this.res.end();
      this.finish(source.status);
    } else if (source.state === 'failed') {
      this.res.destroy();
      this.finish(source.status, source.error?.code);
    }
  }

  /** Take `body` as the body in hand and start writing it (sendBody). */
  private sendWhole(body: Buffer): void {
    this.body = body;
    this.bodySent = 0;
    this.sendBody();
  }

  /**
   * Write the body in hand from where it stopped, WRITE_SLICE_BYTES at a time while the socket
   * takes them; the last slice ends the response and the delivery. On a full socket it waits
   * for 'drain' (wake, pump, here again).
   */
  private sendBody(): void {
    const body = this.body;
    if (!body) return;
    const sliceBytes = this.overTls ? WRITE_SLICE_BYTES : body.length;
    for (;;) {
      const slice = body.subarray(this.bodySent, this.bodySent + sliceBytes);
      this.bodySent += slice.length;
      this.events.countOut(slice.length);
      if (this.bodySent >= body.length) {
        this.body = undefined;
        this.res.end(slice);
        this.finish(this.source.status);
        return;
      }
      if (!this.res.write(slice)) {
        this.waitingDrain = true;
        return;
      }
    }
  }

  /** True while a body in hand is being written: a graceful stop lets it finish (within relay.shutdownGraceMs). */
  get sendingBody(): boolean {
    return this.body !== undefined && !this.done;
  }

  /** pump at the pacer's rate: what the bucket allows now (a chunk possibly in slices), then the pacer's timer wakes the delivery. */
  private pumpPaced(pacer: Pacer): void {
    if (this.waitingDrain || this.done || pacer.waiting) return;
    const source = this.source;
    while (this.position < source.end) {
      const chunk = source.chunk(this.position);
      const rest = chunk.length - this.offset;
      const granted = pacer.grant(rest);
      if (granted === 0 && rest > 0) break; // the pacer wakes this delivery
      const piece = granted === chunk.length ? chunk : chunk.subarray(this.offset, this.offset + granted);
      this.offset += granted;
      if (this.offset === chunk.length) {
        this.position += 1;
        this.offset = 0;
      }
      this.events.countOut(granted);
      if (source.state === 'complete' && this.position === source.end) {
        this.res.end(piece);
        this.finish(source.status);
        return;
      }
      if (!this.res.write(piece)) {
        this.waitingDrain = true;
        break;
      }
    }
    source.advanced();
    if (this.waitingDrain || pacer.waiting) return;
    if (source.state === 'complete' && this.position >= source.end) {
      this.res.end();
      this.finish(source.status);
    } else if (source.state === 'failed') {
      this.res.destroy();
      this.finish(source.status, source.error?.code);
    }
  }

  private sendPlaylist(): void {
    let rendered: RenderedPlaylist | Promise<RenderedPlaylist>;
    try {
      rendered = this.events.renderPlaylist(this.source);
    } catch (error) {
      this.failBeforeHeaders(toRelayError(error));
      return;
    }
    if (!(rendered instanceof Promise)) {
      this.writePlaylist(rendered);
      return;
    }
    this.awaitingReview = true;
    rendered.then(
      (done) => {
        this.awaitingReview = false;
        if (!this.done) this.writePlaylist(done);
      },
      (error: unknown) => {
        this.awaitingReview = false;
        if (!this.done) this.failBeforeHeaders(toRelayError(error));
      },
    );
  }

  private writePlaylist(rendered: RenderedPlaylist): void {
    if (this.headOnly || rendered.body.length < TURN_WRITE_MIN_BYTES) {
      this.writePlaylistNow(rendered);
      return;
    }
    this.turnWaiting = rendered;
    this.awaitingReview = true; // nothing else is sent meanwhile
    writeTurns.add(this);
    if (!turnScheduled) {
      turnScheduled = true;
      setImmediate(nextTurn);
    }
  }

  /** This delivery's turn in writeTurns. */
  writeInTurn(): void {
    writeTurns.delete(this);
    const rendered = this.turnWaiting;
    this.turnWaiting = undefined;
    this.awaitingReview = false;
    if (rendered && !this.done) this.writePlaylistNow(rendered);
  }

  private writePlaylistNow(rendered: RenderedPlaylist): void {
    const length = rendered.body.length;
    this.started = true;
    const headers = underRouteCors(this.res, rendered.headers);
    headers['content-length'] = length;
    headers[CACHE_STATUS_HEADER] = this.cacheStatus;
    this.res.writeHead(this.source.status, headers);
    if (this.headOnly) {
      this.res.end();
      this.finish(this.source.status);
      return;
    }
    this.sendWhole(rendered.body);
  }

  private failBeforeHeaders(error: RelayError): void {
    sendError(this.res, error);
    this.finish(error.status, error.code);
  }

  private finish(status: number, errorCode?: string): void {
    if (this.done) return;
    this.done = true;
    this.pacer?.stop();
    writeTurns.delete(this);
    this.turnWaiting = undefined;
    this.body = undefined;
    this.source.unwatch(this);
    this.events.ended(status, errorCode);
  }
}
