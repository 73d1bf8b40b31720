/**
 * Per-stream HLS stats: requests by how the cache answered, bytes, errors, and viewers:
 * distinct clients (address + user agent + carried auth parameters, hashed) with a request
 * within hls.viewerWindowMs. Bounded: at most hls.maxStreams streams (the least recently
 * active is dropped), hls.maxTrackedViewers viewers over all streams, and a stream is
 * forgotten after hls.streamIdleMs without a request.
 */
import type { HlsSettings } from '../../../../shared/config.js';
import type { HlsStreamDto } from '../../../../shared/dto.js';
import type { CacheOutcome } from './cache.js';
import { hlsStreamId } from './hint.js';

export class HlsStreamStats {
  nodeId: string;
  requests = 0;
  playlistRequests = 0;
  segmentRequests = 0;
  hits = 0;
  shared = 0;
  misses = 0;
  bypassed = 0;
  bytesIn = 0;
  bytesOut = 0;
  errors = 0;
  readonly startedAt = Date.now();
  lastRequestAt = this.startedAt;
  /** Client hash → last request time, oldest first (a request moves its client to the end). */
  readonly viewers = new Map<number, number>();

  constructor(
    readonly id: string,
    readonly routeId: string,
    readonly streamKey: string,
    nodeId: string,
  ) {
    this.nodeId = nodeId;
  }

  count(outcome: CacheOutcome, playlist: boolean): void {
    this.requests += 1;
    if (playlist) this.playlistRequests += 1;
    else this.segmentRequests += 1;
    this.add(outcome, 1);
  }

  /** A request moved on to another node (failover.ts): it counts under how that node's fetch was obtained. */
  recount(from: CacheOutcome, to: CacheOutcome): void {
    this.add(from, -1);
    this.add(to, 1);
  }

  private add(outcome: CacheOutcome, n: number): void {
    if (outcome === 'hit') this.hits += n;
    else if (outcome === 'shared') this.shared += n;
    else if (outcome === 'miss') this.misses += n;
    else this.bypassed += n;
  }

  toDto(): HlsStreamDto {
    const saved = this.hits + this.shared;
    const answered = saved + this.misses + this.bypassed;
    return {
      id: this.id,
      routeId: this.routeId,
      streamKey: this.streamKey,
      nodeId: this.nodeId,
      viewers: this.viewers.size,
      requests: this.requests,
      playlistRequests: this.playlistRequests,
      segmentRequests: this.segmentRequests,
      cacheHits: this.hits,
      coalesced: this.shared,
      upstreamRequests: this.misses,
      bypassed: this.bypassed,
      upstreamRequestsSaved: saved,
      hitRatio: answered ? Math.round((saved / answered) * 10_000) / 10_000 : 0,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      errors: this.errors,
      startedAt: this.startedAt,
      lastRequestAt: this.lastRequestAt,
    };
  }
}

/** 53-bit FNV-1a style hash of a client's identity (two 32-bit lanes). */
export function clientHash(text: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

export class HlsStreamBook {
  /** Streams by id, least recently active first. */
  private readonly streams = new Map<string, HlsStreamStats>();
  private trackedViewers = 0;
  /** The stream last in `streams` (most recently active), when known. */
  private newest: HlsStreamStats | undefined;
  /** Stream ids by route and stream key (hashing once per stream, not per request); bounded by hls.maxStreams. */
  private readonly ids = new Map<string, string>();

  constructor(private readonly settings: () => HlsSettings) {}

  get size(): number {
    return this.streams.size;
  }

  get(id: string): HlsStreamStats | undefined {
    return this.streams.get(id);
  }

  /** The stream of a playlist request: existing, or new (dropping the least recently active at the bound). */
  open(routeId: string, streamKey: string, nodeId: string): HlsStreamStats {
    const name = `${routeId}\n${streamKey}`;
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.ids.size >= this.settings().maxStreams) this.ids.clear();
      id = hlsStreamId(routeId, streamKey);
      this.ids.set(name, id);
    }
    const known = this.streams.get(id);
    if (known) return known;
    const max = this.settings().maxStreams;
    for (const oldest of this.streams.values()) {
      if (this.streams.size < max) break;
      this.drop(oldest);
    }
    const stream = new HlsStreamStats(id, routeId, streamKey, nodeId);
    this.streams.set(id, stream);
    this.newest = stream;
    return stream;
  }

  /** A request of `client` (hash) for `stream` now. */
  seen(stream: HlsStreamStats, client: number, now = Date.now()): void {
    stream.lastRequestAt = now;
    // Most recently active last; a stream already there (the usual case: one popular stream) stays put.
    if (this.newest !== stream) {
      this.streams.delete(stream.id);
      this.streams.set(stream.id, stream);
      this.newest = stream;
    }
    const viewers = stream.viewers;
    if (viewers.delete(client)) this.trackedViewers -= 1;
    this.expireViewers(stream, now);
    const settings = this.settings();
    if (this.trackedViewers >= settings.maxTrackedViewers) {
      const oldest = viewers.keys().next();
      if (oldest.done) return; // this stream holds none to give up: not tracked
      viewers.delete(oldest.value);
      this.trackedViewers -= 1;
    }
    viewers.set(client, now);
    this.trackedViewers += 1;
  }

  private expireViewers(stream: HlsStreamStats, now: number): void {
    const since = now - this.settings().viewerWindowMs;
    for (const [client, at] of stream.viewers) {
      if (at >= since) break;
      stream.viewers.delete(client);
      this.trackedViewers -= 1;
    }
  }

  private drop(stream: HlsStreamStats): void {
    this.streams.delete(stream.id);
    if (this.newest === stream) this.newest = undefined;
    this.trackedViewers -= stream.viewers.size;
  }

  /** Forget idle streams and expired viewers. */
  prune(now = Date.now()): void {
    const idleSince = now - this.settings().streamIdleMs;
    for (const stream of [...this.streams.values()]) {
      if (stream.lastRequestAt < idleSince) this.drop(stream);
      else this.expireViewers(stream, now);
    }
  }

  list(now = Date.now()): HlsStreamDto[] {
    this.prune(now);
    return [...this.streams.values()].map((s) => s.toDto());
  }
}
