/**
 * The HLS object cache: segments (and parts, init sections, keys) in an LRU bounded in
 * bytes and entries, playlists in a second, smaller LRU, and the fetches in flight, which
 * every concurrent request for the same key joins (request coalescing). A completed fetch
 * is itself the cache entry. Time to live: segments hls.segmentTtlMs, live playlists a
 * share of their target duration, master and ended playlists hls.staticPlaylistCacheMs,
 * node errors hls.errorCacheMs. Requests that must not be cached (LL-HLS blocking reloads)
 * get a fetch of their own. Memory: stored entries stay within their LRU bounds; the
 * fetches in flight that may still be stored hold at most hls.segmentCacheMaxBytes
 * together (see fetch.ts for what happens past it); playlist fetches in flight, held whole
 * until parsed, stay within hls.playlistWorkMaxCount and hls.playlistWorkMaxBytes (past
 * them: 503 HLS_BUSY, counted in `busy`, never cached, never the node's fault).
 */
import type { HlsCacheDto } from '../../../../shared/dto.js';
import type { HlsSettings } from '../../../../shared/config.js';
import type { ErrorCode } from '../../core/errors.js';
import { RelayError } from '../../core/errors.js';
import { SharedFetch, type FetchOwner, type FetchSpec } from './fetch.js';
import { ByteLru } from './lru.js';

/** How often expired entries are swept out, ms. */
export const SWEEP_INTERVAL_MS = 5_000;

/** How a request was answered: from the cache, by joining a fetch in flight, by a new fetch, or by a fetch of its own. */
export type CacheOutcome = 'hit' | 'shared' | 'miss' | 'bypass';

export interface HlsCacheDeps {
  settings: () => HlsSettings;
  /** Time to live of a complete 2xx playlist, ms (the handler parses it). */
  playlistTtlMs: (fetch: SharedFetch) => number;
  countIn: (fetch: SharedFetch, bytes: number) => void;
  fault: (fetch: SharedFetch, code: ErrorCode) => void;
  /** Creates each fetch (not yet started); default a SharedFetch over HTTP. The unit tests pass fakes, so the cache runs without sockets. */
  newFetch?: (spec: FetchSpec, owner: FetchOwner) => SharedFetch;
}

const newHttpFetch = (spec: FetchSpec, owner: FetchOwner) => new SharedFetch(spec, owner);

export interface Obtained {
  fetch: SharedFetch;
  outcome: CacheOutcome;
}

export class HlsCache implements FetchOwner {
  readonly segments = new ByteLru<SharedFetch>();
  readonly playlists = new ByteLru<SharedFetch>();
  private readonly inflight = new Map<string, SharedFetch>();
  private readonly uncached = new Set<SharedFetch>();
  inflightBytes = 0;
  /** Playlist fetches in flight and the bytes they hold (hls.playlistWork*). */
  readonly playlistWork = { count: 0, bytes: 0 };
  readonly counters = { hits: 0, shared: 0, misses: 0, bypassed: 0, busy: 0 };
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly deps: HlsCacheDeps) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** The object for `spec.key`: cached, a fetch in flight to join, or a new fetch. */
  obtain(spec: FetchSpec): Obtained {
    const now = Date.now();
    const cached =
      spec.kind === 'playlist'
        ? (this.playlists.get(spec.key, now) ?? this.segments.get(spec.key, now))
        : (this.segments.get(spec.key, now) ?? this.playlists.get(spec.key, now));
    if (cached) {
      this.counters.hits += 1;
      return { fetch: cached, outcome: 'hit' };
    }
    const running = this.inflight.get(spec.key);
    if (running) {
      this.counters.shared += 1;
      return { fetch: running, outcome: 'shared' };
    }
    const fetch = (this.deps.newFetch ?? newHttpFetch)(spec, this);
    this.counters.misses += 1;
    this.inflight.set(spec.key, fetch);
    fetch.start();
    return { fetch, outcome: 'miss' };
  }

  /** A fetch of its own, never shared or stored (LL-HLS blocking playlist reloads). */
  bypass(spec: FetchSpec): Obtained {
    const fetch = (this.deps.newFetch ?? newHttpFetch)(spec, this);
    this.counters.bypassed += 1;
    this.uncached.add(fetch);
    fetch.start();
    return { fetch, outcome: 'bypass' };
  }

  inflightLimit(): number {
    return this.deps.settings().segmentCacheMaxBytes;
  }

  detached(fetch: SharedFetch): void {
    if (this.inflight.get(fetch.spec.key) !== fetch) return;
    this.inflight.delete(fetch.spec.key);
    this.uncached.add(fetch);
  }

  holdPlaylistWork(bytes: number, entering: boolean): boolean {
    const settings = this.deps.settings();
    const work = this.playlistWork;
    if ((entering && work.count >= settings.playlistWorkMaxCount) || work.bytes + bytes > settings.playlistWorkMaxBytes) {
      this.counters.busy += 1;
      return false;
    }
    if (entering) work.count += 1;
    work.bytes += bytes;
    return true;
  }

  releasePlaylistWork(bytes: number): void {
    this.playlistWork.count -= 1;
    this.playlistWork.bytes -= bytes;
  }

  countIn(fetch: SharedFetch, bytes: number): void {
    this.deps.countIn(fetch, bytes);
  }

  fault(fetch: SharedFetch, code: ErrorCode): void {
    this.deps.fault(fetch, code);
  }

  settled(fetch: SharedFetch): void {
    if (this.uncached.delete(fetch)) return;
    if (this.inflight.get(fetch.spec.key) !== fetch) return;
    this.inflight.delete(fetch.spec.key);
    if (!fetch.cacheable || fetch.error?.code === 'CLIENT_CLOSED' || fetch.error?.code === 'HLS_BUSY') return;
    const settings = this.deps.settings();
    const ttl = this.ttlMs(fetch, settings);
    if (ttl <= 0) return;
    const expiresAt = Date.now() + ttl;
    if (fetch.kind === 'playlist') {
      this.playlists.set(fetch.spec.key, fetch, expiresAt, { maxBytes: settings.playlistCacheMaxBytes, maxEntries: settings.playlistCacheMaxEntries });
    } else {
      this.segments.set(fetch.spec.key, fetch, expiresAt, { maxBytes: settings.segmentCacheMaxBytes, maxEntries: settings.segmentCacheMaxEntries });
    }
  }

  private ttlMs(fetch: SharedFetch, settings: HlsSettings): number {
    if (fetch.state === 'failed' || fetch.status >= 400) return settings.errorCacheMs;
    if (fetch.kind === 'playlist' && fetch.status >= 200 && fetch.status < 300) return this.deps.playlistTtlMs(fetch);
    return settings.segmentTtlMs;
  }

  /** Drop expired entries and apply bounds that may have been lowered by a settings change. */
  sweep(now = Date.now()): void {
    const settings = this.deps.settings();
    this.segments.sweep(now);
    this.playlists.sweep(now);
    this.segments.trim({ maxBytes: settings.segmentCacheMaxBytes, maxEntries: settings.segmentCacheMaxEntries });
    this.playlists.trim({ maxBytes: settings.playlistCacheMaxBytes, maxEntries: settings.playlistCacheMaxEntries });
  }

  stats(): HlsCacheDto {
    const settings = this.deps.settings();
    return {
      segmentBytes: this.segments.bytes,
      segmentEntries: this.segments.size,
      segmentMaxBytes: settings.segmentCacheMaxBytes,
      playlistBytes: this.playlists.bytes,
      playlistEntries: this.playlists.size,
      playlistMaxBytes: settings.playlistCacheMaxBytes,
      inflight: this.inflight.size + this.uncached.size,
      inflightBytes: this.inflightBytes,
      evictions: this.segments.evictions + this.playlists.evictions,
      hits: this.counters.hits,
      shared: this.counters.shared,
      misses: this.counters.misses,
      bypassed: this.counters.bypassed,
    };
  }

  /** Stop: cut fetches in flight, drop every entry, close idle node connections. */
  close(): void {
    clearInterval(this.sweeper);
    const stopping = new RelayError('OVERLOADED', 'relay is shutting down');
    for (const fetch of [...this.inflight.values(), ...this.uncached]) fetch.fail(stopping);
    this.segments.clear();
    this.playlists.clear();
  }
}
