/**
 * The shared HLS fetch without sockets: a fake transport hands the test the node's answer and
 * body (a PassThrough the test writes to), a fake owner records the accounting. Pins what
 * viewers read at their own pace, when an object stops being cacheable, when the node is held
 * back and let go, what ends the fetch, and what counts against the node (once).
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import type { ErrorCode, RelayError } from '../../../../electron/engine/core/errors.js';
import { ERROR_BODY_MAX_BYTES, SharedFetch, type FetchOwner, type FetchSpec, type FetchWatcher } from '../../../../electron/engine/relay/hls/fetch.js';
import type { NodeEndpoint } from '../../../../electron/engine/routing/target.js';
import type { UpstreamCall, UpstreamEvents, UpstreamTransport } from '../../../../electron/engine/upstream/transport.js';

/** One request made through the fake transport: the test answers it and ends it. */
class FakeCall implements UpstreamCall {
  connected = true;
  resumed = 0;
  readonly aborts: (RelayError | undefined)[] = [];
  readonly body = new PassThrough();
  constructor(
    readonly options: { path: string; hold?: { blocked(): boolean } },
    private readonly events: UpstreamEvents,
  ) {}
  answer(status: number, headers: IncomingHttpHeaders = {}): void {
    this.events.onResponse({ status, statusMessage: '', headers, body: this.body });
  }
  /** Node bytes, delivered synchronously as the transport's 'data' events would be. */
  send(bytes: number, fill = 1): void {
    this.body.emit('data', Buffer.alloc(bytes, fill));
  }
  end(error?: RelayError): void {
    this.events.onEnd(error);
  }
  readerResumed(): void {
    this.resumed += 1;
  }
  fail(): void {}
  abort(reason?: RelayError): void {
    this.aborts.push(reason);
  }
}

class FakeTransport {
  readonly calls: FakeCall[] = [];
  request(options: FakeCall['options'], events: UpstreamEvents): FakeCall {
    const call = new FakeCall(options, events);
    this.calls.push(call);
    return call;
  }
}

/** The cache's side of a fetch, recorded. */
class FakeOwner implements FetchOwner {
  inflightBytes = 0;
  limit = 1_000_000;
  bytesIn = 0;
  playlistWork = { count: 0, bytes: 0 };
  workAllowed = true;
  readonly settledFetches: SharedFetch[] = [];
  readonly detachedFetches: SharedFetch[] = [];
  readonly faults: ErrorCode[] = [];
  inflightLimit(): number {
    return this.limit;
  }
  settled(fetch: SharedFetch): void {
    this.settledFetches.push(fetch);
  }
  detached(fetch: SharedFetch): void {
    this.detachedFetches.push(fetch);
  }
  countIn(_fetch: SharedFetch, bytes: number): void {
    this.bytesIn += bytes;
  }
  fault(_fetch: SharedFetch, code: ErrorCode): void {
    this.faults.push(code);
  }
  holdPlaylistWork(bytes: number, entering: boolean): boolean {
    if (!this.workAllowed) return false;
    this.playlistWork.bytes += bytes;
    if (entering) this.playlistWork.count += 1;
    return true;
  }
  releasePlaylistWork(bytes: number): void {
    this.playlistWork.bytes -= bytes;
    this.playlistWork.count -= 1;
  }
}

/** A viewer's delivery: it writes chunks when told to, and counts its wake-ups. */
class Reader implements FetchWatcher {
  position = 0;
  wakes = 0;
  constructor(private readonly fetch: SharedFetch) {
    fetch.watch(this);
  }
  wake(): void {
    this.wakes += 1;
  }
  /** Write every chunk received so far; returns the bytes written. */
  readAll(): number {
    let bytes = 0;
    for (; this.position < this.fetch.end; this.position += 1) bytes += this.fetch.chunk(this.position).length;
    this.fetch.advanced();
    return bytes;
  }
  leave(): void {
    this.fetch.unwatch(this);
  }
}

function startFetch(overrides: Partial<FetchSpec> = {}) {
  const transport = new FakeTransport();
  const owner = new FakeOwner();
  const spec: FetchSpec = {
    key: 'http://node/live/seg1.ts',
    kind: 'segment',
    endpoint: {} as NodeEndpoint,
    nodeId: 'a',
    path: '/live/seg1.ts',
    headers: () => ({}),
    timeouts: { connectTimeoutMs: 1_000, headerTimeoutMs: 1_000, idleStreamTimeoutMs: 1_000, requestBodyIdleTimeoutMs: 1_000 },
    transport: transport as unknown as UpstreamTransport,
    playlistMaxBytes: 1_000,
    objectMaxBytes: 10_000,
    routeId: 'hls',
    ...overrides,
  };
  const fetch = new SharedFetch(spec, owner);
  fetch.start();
  return { fetch, owner, transport, call: () => transport.calls[0] };
}

describe('SharedFetch', () => {
  it('viewers read the same chunks at their own pace; complete, it is one cache entry and the in-flight bytes are released', () => {
    const { fetch, owner, call } = startFetch();
    const early = new Reader(fetch);
    call().answer(200, { 'content-type': 'video/mp2t', 'content-length': '3000' });
    assert.equal(fetch.state, 'body');
    assert.equal(fetch.contentLength, 3000);
    call().send(1000);
    call().send(1000);
    assert.equal(early.readAll(), 2000);
    const late = new Reader(fetch);
    call().send(1000);
    assert.equal(owner.inflightBytes, 3000, 'cacheable bytes in flight count against the cache bound');
    call().end();
    assert.equal(fetch.state, 'complete');
    assert.equal(owner.inflightBytes, 0, 'released: the entry is now the cache');
    assert.deepEqual(owner.settledFetches, [fetch], 'settled once');
    assert.equal(late.readAll(), 3000, 'a viewer joining mid-body still gets every byte');
    assert.equal(early.readAll(), 1000);
    assert.equal(fetch.body().length, 3000);
    assert.equal(owner.bytesIn, 3000);
    assert.ok(early.wakes >= 4 && late.wakes >= 2, 'watchers are woken on headers, data and the end');
    assert.deepEqual(owner.faults, []);
  });

  it("the node's answer is cleaned for viewers: no set-cookie, no CORS added (each delivery adds its route's), a playlist type makes it a playlist", () => {
    const { fetch, call } = startFetch({ kind: 'segment' });
    call().answer(200, { 'content-type': 'application/vnd.apple.mpegurl', 'set-cookie': ['id=1'], connection: 'close' });
    assert.equal(fetch.kind, 'playlist');
    assert.equal(fetch.headers['set-cookie'], undefined);
    assert.equal(fetch.headers['access-control-allow-origin'], undefined, 'shared by viewers of any origin: the route policy is applied per delivery');
    assert.equal(fetch.headers.connection, undefined, 'hop-by-hop headers stay with the node');
  });

  it('an object over objectMaxBytes is detached (no one new joins), keeps only what its viewers have not written, and holds the node back', () => {
    const { fetch, owner, call } = startFetch({ objectMaxBytes: 2_000 });
    const reader = new Reader(fetch);
    call().answer(200);
    call().send(1500);
    assert.equal(fetch.cacheable, true);
    call().send(1500);
    assert.equal(fetch.cacheable, false, 'past objectMaxBytes');
    assert.deepEqual(owner.detachedFetches, [fetch]);
    assert.equal(owner.inflightBytes, 0, 'a detached fetch no longer counts in the cache bound');
    assert.equal(fetch.retainedBytes, 3000, 'nothing written yet: everything held');
    assert.equal(call().body.isPaused(), true, 'held over the limit: the node is paused');
    assert.equal(call().options.hold?.blocked(), true, "the transport's idle clock is told the silence is ours");
    reader.readAll();
    assert.equal(fetch.retainedBytes, 0, 'written chunks are dropped');
    assert.equal(call().body.isPaused(), false, 'room again: the node resumes');
    assert.equal(call().resumed, 1, "the transport's idle clock starts over");
    call().send(500);
    call().end();
    assert.equal(fetch.state, 'complete');
    assert.deepEqual(owner.faults, []);
  });

  it('a cacheable fetch that would take the in-flight total over the cache bound is detached', () => {
    const { fetch, owner, call } = startFetch();
    owner.inflightBytes = 900;
    owner.limit = 1_000;
    new Reader(fetch);
    call().answer(200);
    call().send(50);
    assert.equal(fetch.cacheable, true);
    call().send(100);
    assert.equal(fetch.cacheable, false);
    assert.equal(owner.inflightBytes, 900, "the fetch's own bytes are released, the others' kept");
  });

  it('the node is held back only while the slowest viewer lags; it resumes at half the limit', () => {
    const { fetch, call } = startFetch({ objectMaxBytes: 1_000 });
    const fast = new Reader(fetch);
    const slow = new Reader(fetch);
    call().answer(200);
    for (let i = 0; i < 4; i += 1) call().send(400);
    fast.readAll();
    assert.equal(fetch.retainedBytes, 1600, 'the slow viewer has written nothing: all kept');
    assert.equal(call().body.isPaused(), true);
    slow.position = fetch.base + 2; // wrote two chunks: 800 bytes still held, over half the limit
    fetch.advanced();
    assert.equal(fetch.retainedBytes, 800);
    assert.equal(call().body.isPaused(), true, 'still over half the limit');
    slow.readAll();
    assert.equal(call().body.isPaused(), false);
  });

  it('when every viewer of an uncacheable object leaves, the fetch ends (CLIENT_CLOSED) and the node is not blamed', () => {
    const { fetch, owner, call } = startFetch({ objectMaxBytes: 100 });
    const reader = new Reader(fetch);
    call().answer(200);
    call().send(200);
    reader.leave();
    assert.equal(fetch.state, 'failed');
    assert.equal(fetch.error?.code, 'CLIENT_CLOSED');
    assert.equal(call().aborts.length, 1, 'the node request is cut');
    assert.deepEqual(owner.faults, []);
    assert.deepEqual(owner.settledFetches, [fetch]);
  });

  it('a 5xx whose body then breaks counts once against the node', () => {
    const { fetch, owner, call } = startFetch();
    call().answer(503);
    assert.deepEqual(owner.faults, ['UPSTREAM_STATUS']);
    call().end({ code: 'UPSTREAM_RESET', message: 'cut' } as RelayError);
    assert.equal(fetch.state, 'failed');
    assert.deepEqual(owner.faults, ['UPSTREAM_STATUS'], 'one fault per fetch');
  });

  it('an error body is kept only up to ERROR_BODY_MAX_BYTES for the error cache', () => {
    const { fetch, call } = startFetch({ objectMaxBytes: 10 * ERROR_BODY_MAX_BYTES });
    new Reader(fetch);
    call().answer(404);
    call().send(ERROR_BODY_MAX_BYTES + 1);
    assert.equal(fetch.cacheable, false);
  });

  it('a node redirect is refused: HLS_UPSTREAM_REDIRECT, the relay does not follow it', () => {
    const { fetch, call } = startFetch();
    call().answer(302, { location: 'http://elsewhere/' });
    assert.equal(fetch.state, 'failed');
    assert.equal(fetch.error?.code, 'HLS_UPSTREAM_REDIRECT');
    assert.equal(call().aborts.length, 1);
  });

  it('a playlist over playlistMaxBytes fails at once, by its content-length or when the body passes it; its work is released', () => {
    const declared = startFetch({ kind: 'playlist' });
    declared.call().answer(200, { 'content-length': '5000' });
    assert.equal(declared.fetch.error?.code, 'HLS_PLAYLIST_TOO_LARGE');
    assert.deepEqual(declared.owner.playlistWork, { count: 0, bytes: 0 });

    const streamed = startFetch({ kind: 'playlist' });
    streamed.call().answer(200);
    streamed.call().send(600);
    assert.deepEqual(streamed.owner.playlistWork, { count: 1, bytes: 600 }, 'playlist bytes in flight are counted as work');
    streamed.call().send(600);
    assert.equal(streamed.fetch.error?.code, 'HLS_PLAYLIST_TOO_LARGE');
    assert.deepEqual(streamed.owner.playlistWork, { count: 0, bytes: 0 });
    assert.equal(streamed.fetch.retainedBytes, 0, 'nothing kept of a failed fetch');
  });

  it('past the playlist work bound a playlist fetch fails HLS_BUSY before asking the node, and the node is not blamed', () => {
    const transport = new FakeTransport();
    const owner = new FakeOwner();
    owner.workAllowed = false;
    const fetch = new SharedFetch(
      {
        key: 'k',
        kind: 'playlist',
        endpoint: {} as NodeEndpoint,
        nodeId: 'a',
        path: '/live/index.m3u8',
        headers: () => ({}),
        timeouts: { connectTimeoutMs: 1, headerTimeoutMs: 1, idleStreamTimeoutMs: 1, requestBodyIdleTimeoutMs: 1 },
        transport: transport as unknown as UpstreamTransport,
        playlistMaxBytes: 1_000,
        objectMaxBytes: 1_000,
        routeId: 'hls',
      },
      owner,
    );
    fetch.start();
    assert.equal(fetch.error?.code, 'HLS_BUSY');
    assert.equal(transport.calls.length, 0, 'no node request');
    assert.deepEqual(owner.faults, []);
  });

  it('a transport failure is reported once against the node and ends every watcher', () => {
    const { fetch, owner, call } = startFetch();
    const reader = new Reader(fetch);
    call().answer(200);
    call().send(100);
    const wakes = reader.wakes;
    call().end({ code: 'IDLE_TIMEOUT', message: 'silent' } as RelayError);
    assert.equal(fetch.state, 'failed');
    assert.equal(owner.inflightBytes, 0);
    assert.deepEqual(owner.faults, ['IDLE_TIMEOUT']);
    assert.ok(reader.wakes > wakes, 'the watcher is told');
    call().end();
    assert.equal(fetch.state, 'failed', 'a late end does not revive it');
    assert.equal(owner.settledFetches.length, 1);
  });
});
