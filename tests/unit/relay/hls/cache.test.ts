/**
 * The HLS object cache without sockets: fetches are fakes the test completes or fails, time
 * is node:test's mock clock. Pins coalescing (one node request for concurrent misses), what
 * is stored and for how long, and the bounds.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { HlsSettings } from '../../../../shared/config.js';
import { RelayError, type ErrorCode } from '../../../../electron/engine/core/errors.js';
import { HlsCache } from '../../../../electron/engine/relay/hls/cache.js';
import type { FetchOwner, FetchSpec, ObjectKind, SharedFetch } from '../../../../electron/engine/relay/hls/fetch.js';

const SETTINGS = {
  segmentCacheMaxBytes: 1_000,
  segmentCacheMaxEntries: 5,
  segmentTtlMs: 10_000,
  playlistCacheMaxBytes: 1_000,
  playlistCacheMaxEntries: 5,
  errorCacheMs: 1_000,
  playlistWorkMaxCount: 2,
  playlistWorkMaxBytes: 500,
} as HlsSettings;
const PLAYLIST_TTL_MS = 2_000;

/** A node request the test settles by hand. */
class FakeFetch {
  state: SharedFetch['state'] = 'pending';
  status = 0;
  cacheable = true;
  error: RelayError | undefined;
  started = false;
  sizeBytes = 100;
  readonly kind: ObjectKind;

  constructor(
    readonly spec: FetchSpec,
    private readonly owner: FetchOwner,
  ) {
    this.kind = spec.kind;
  }

  start(): void {
    this.started = true;
  }

  complete(status = 200, sizeBytes = 100): void {
    this.status = status;
    this.sizeBytes = sizeBytes;
    this.state = 'complete';
    this.owner.settled(this as unknown as SharedFetch);
  }

  fail(error: RelayError): void {
    if (this.state === 'complete' || this.state === 'failed') return;
    this.state = 'failed';
    this.error = error;
    this.owner.settled(this as unknown as SharedFetch);
  }

  /** Too large to keep: requests after this must not join it. */
  detach(): void {
    this.cacheable = false;
    this.owner.detached(this as unknown as SharedFetch);
  }
}

interface Fixture {
  cache: HlsCache;
  created: FakeFetch[];
  settings: HlsSettings;
  obtain(key: string, kind?: ObjectKind): { fetch: FakeFetch; outcome: string };
}

function fixture(): Fixture {
  const created: FakeFetch[] = [];
  const settings = { ...SETTINGS };
  const cache = new HlsCache({
    settings: () => settings,
    playlistTtlMs: () => PLAYLIST_TTL_MS,
    countIn: () => {},
    fault: () => {},
    newFetch: (spec, owner) => {
      const fetch = new FakeFetch(spec, owner);
      created.push(fetch);
      return fetch as unknown as SharedFetch;
    },
  });
  const obtain = (key: string, kind: ObjectKind = 'segment') => {
    const got = cache.obtain({ key, kind } as FetchSpec);
    return { fetch: got.fetch as unknown as FakeFetch, outcome: got.outcome };
  };
  return { cache, created, settings, obtain };
}

describe('HlsCache', () => {
  let f: Fixture;
  beforeEach(() => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    f = fixture();
  });
  afterEach(() => {
    f.cache.close();
    mock.timers.reset();
  });

  it('concurrent requests for one object share one node request; once complete it is served from the cache', () => {
    const first = f.obtain('seg1.ts');
    const second = f.obtain('seg1.ts');
    const third = f.obtain('seg1.ts');
    assert.deepEqual([first.outcome, second.outcome, third.outcome], ['miss', 'shared', 'shared']);
    assert.equal(f.created.length, 1, 'one request to the node');
    assert.ok(first.fetch.started);
    assert.equal(second.fetch, first.fetch);
    first.fetch.complete();
    const later = f.obtain('seg1.ts');
    assert.equal(later.outcome, 'hit');
    assert.equal(later.fetch, first.fetch);
    assert.equal(f.created.length, 1);
  });

  it('a segment is served for hls.segmentTtlMs, then fetched again', () => {
    f.obtain('seg1.ts').fetch.complete();
    mock.timers.tick(SETTINGS.segmentTtlMs - 1);
    assert.equal(f.obtain('seg1.ts').outcome, 'hit');
    mock.timers.tick(1);
    assert.equal(f.obtain('seg1.ts').outcome, 'miss');
    assert.equal(f.created.length, 2);
  });

  it("a live playlist is kept for the handler's playlist TTL, a node error for hls.errorCacheMs", () => {
    f.obtain('index.m3u8', 'playlist').fetch.complete(200);
    f.obtain('gone.ts').fetch.complete(404);
    f.obtain('broken.ts').fetch.fail(new RelayError('UPSTREAM_RESET', 'reset'));
    mock.timers.tick(SETTINGS.errorCacheMs - 1);
    assert.deepEqual(
      ['gone.ts', 'broken.ts', 'index.m3u8'].map((k) => f.obtain(k).outcome),
      ['hit', 'hit', 'hit'],
    );
    mock.timers.tick(1);
    assert.deepEqual(
      ['gone.ts', 'broken.ts'].map((k) => f.obtain(k).outcome),
      ['miss', 'miss'],
    );
    assert.equal(f.obtain('index.m3u8', 'playlist').outcome, 'hit');
    mock.timers.tick(PLAYLIST_TTL_MS - SETTINGS.errorCacheMs);
    assert.equal(f.obtain('index.m3u8', 'playlist').outcome, 'miss');
  });

  for (const code of ['CLIENT_CLOSED', 'HLS_BUSY'] as ErrorCode[]) {
    it(`a fetch ended by ${code} (not the node's answer) is not stored`, () => {
      f.obtain('seg1.ts').fetch.fail(new RelayError(code, 'not the node'));
      assert.equal(f.obtain('seg1.ts').outcome, 'miss');
    });
  }

  it('a fetch that outgrew the cache is not joined by later requests, and not stored', () => {
    const big = f.obtain('big.ts').fetch;
    big.detach();
    const next = f.obtain('big.ts');
    assert.equal(next.outcome, 'miss');
    assert.notEqual(next.fetch, big);
    big.complete(200, 50);
    next.fetch.complete(200, 50);
    assert.equal(f.obtain('big.ts').fetch, next.fetch, 'the cacheable one is the entry');
  });

  it('a bypass (LL-HLS blocking reload) gets a fetch of its own, never shared and never stored', () => {
    const own = f.cache.bypass({ key: 'index.m3u8?_HLS_msn=5', kind: 'playlist' } as FetchSpec);
    assert.equal(own.outcome, 'bypass');
    const joined = f.obtain('index.m3u8?_HLS_msn=5', 'playlist');
    assert.equal(joined.outcome, 'miss');
    assert.notEqual(joined.fetch, own.fetch as unknown as FakeFetch);
    (own.fetch as unknown as FakeFetch).complete();
    assert.equal(f.cache.stats().playlistEntries, 0);
  });

  it('segments stay within hls.segmentCacheMaxBytes and hls.segmentCacheMaxEntries; the least recently used go first', () => {
    for (const key of ['a', 'b', 'c']) f.obtain(key).fetch.complete(200, 300);
    assert.equal(f.obtain('a').outcome, 'hit'); // a is now the most recently used
    f.obtain('d').fetch.complete(200, 300); // 1 200 bytes > 1 000: b goes
    let stats = f.cache.stats();
    assert.equal(stats.segmentBytes, 900);
    assert.equal(stats.evictions, 1);
    assert.deepEqual(
      ['a', 'c', 'd'].map((k) => f.obtain(k).outcome),
      ['hit', 'hit', 'hit'],
    );
    assert.equal(f.obtain('b').outcome, 'miss');

    for (const key of ['e', 'f', 'g', 'h', 'i', 'j']) f.obtain(key).fetch.complete(200, 10);
    stats = f.cache.stats();
    assert.equal(stats.segmentEntries, SETTINGS.segmentCacheMaxEntries);
    assert.ok(stats.segmentBytes <= SETTINGS.segmentCacheMaxBytes);
  });

  it('an object larger than the whole bound is served but not stored', () => {
    f.obtain('huge.ts').fetch.complete(200, SETTINGS.segmentCacheMaxBytes + 1);
    assert.equal(f.cache.stats().segmentEntries, 0);
    assert.equal(f.obtain('huge.ts').outcome, 'miss');
  });

  it('lowered bounds (a settings change) apply at the next sweep, which also drops expired entries', () => {
    for (const key of ['a', 'b', 'c']) f.obtain(key).fetch.complete(200, 100);
    f.settings.segmentCacheMaxEntries = 1;
    f.cache.sweep();
    assert.equal(f.cache.stats().segmentEntries, 1);
    assert.equal(f.obtain('c').outcome, 'hit');
    mock.timers.tick(SETTINGS.segmentTtlMs);
    f.cache.sweep();
    assert.equal(f.cache.stats().segmentBytes, 0);
  });

  it('playlist work past hls.playlistWorkMaxCount or hls.playlistWorkMaxBytes is refused and counted as busy', () => {
    assert.equal(f.cache.holdPlaylistWork(0, true), true);
    assert.equal(f.cache.holdPlaylistWork(0, true), true);
    assert.equal(f.cache.holdPlaylistWork(0, true), false, 'count bound');
    assert.equal(f.cache.holdPlaylistWork(501, false), false, 'byte bound');
    assert.equal(f.cache.counters.busy, 2);
    f.cache.releasePlaylistWork(0);
    assert.equal(f.cache.holdPlaylistWork(0, true), true);
    assert.deepEqual(f.cache.playlistWork, { count: 2, bytes: 0 });
  });

  it('close fails every fetch in flight and empties the cache', () => {
    f.obtain('done.ts').fetch.complete();
    const running = f.obtain('running.ts').fetch;
    f.cache.close();
    assert.equal(running.state, 'failed');
    assert.equal(running.error?.code, 'OVERLOADED');
    assert.equal(f.cache.stats().segmentEntries, 0);
  });
});
