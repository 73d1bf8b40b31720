/**
 * The 1 Hz ticker (electron/engine/live/): it finds the requests that finished since the last
 * tick in the engine's bounded log, publishes one snapshot and one traffic event per tick
 * (never per request), survives a failing listener, and bounds its listeners.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestLogEntry, StatsDto, StreamDto } from '../../../shared/dto.js';
import type { RelayDeckEvent } from '../../../shared/events.js';
import { LogCursor } from '../../../electron/engine/live/log-cursor.js';
import { countPulls, LiveTicker, MAX_EVENT_LISTENERS, type LiveSources } from '../../../electron/engine/live/ticker.js';
import { createLogger } from '../../../electron/engine/core/log.js';
import { statsOf } from '../../helpers/stats.js';

const entry = (n: number): RequestLogEntry => ({
  seq: n + 1,
  id: String(n),
  routeId: 'r',
  mode: 'redirect',
  method: 'GET',
  transport: 'http',
  path: `/r/${n}`,
  nodeId: 'a',
  clientAddress: '127.0.0.1',
  userAgent: '',
  startedAt: 1_000 + n,
  bytesIn: 0,
  bytesOut: 0,
  status: 302,
  durationMs: 0,
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => entry(from + i));
/** The log as a ring of `capacity` would hold it after entries 0..total-1. */
const ring = (total: number, capacity: number) => range(Math.max(0, total - capacity), total);
const ids = (entries: RequestLogEntry[]) => entries.map((e) => Number(e.id));

test('log cursor: everything on the first look, then only what is new while the log fills', () => {
  const cursor = new LogCursor();
  assert.deepEqual(ids(cursor.next(ring(5, 100)).fresh), [0, 1, 2, 3, 4]);
  assert.deepEqual(ids(cursor.next(ring(9, 100)).fresh), [5, 6, 7, 8]);
  assert.deepEqual(cursor.next(ring(9, 100)), { fresh: [], gap: false });
});

test('log cursor: once the log is full and rolling, the new entries are the ones after the last seen', () => {
  const cursor = new LogCursor();
  cursor.next(ring(100, 100));
  const delta = cursor.next(ring(130, 100));
  assert.deepEqual(
    ids(delta.fresh),
    range(100, 130).map((e) => Number(e.id)),
  );
  assert.equal(delta.gap, false);
});

test('log cursor: a log that rolled over completely between looks is all new, with gap set', () => {
  const cursor = new LogCursor();
  cursor.next(ring(100, 100));
  const delta = cursor.next(ring(350, 100));
  assert.equal(delta.fresh.length, 100);
  assert.equal(delta.gap, true);
});

test('log cursor: identical-looking entries (same ms, same path, no id) are neither lost nor repeated, filling or rolling', () => {
  const cursor = new LogCursor();
  const same = (total: number, capacity: number) => ring(total, capacity).map((e) => ({ ...e, id: '', path: '/r/x', startedAt: 1_000 }));
  assert.equal(cursor.next(same(3, 8)).fresh.length, 3);
  assert.equal(cursor.next(same(7, 8)).fresh.length, 4);
  assert.equal(cursor.next(same(12, 8)).fresh.length, 5, 'rolling: the five after the last seen, though every entry looks alike');
  assert.deepEqual(cursor.next(same(12, 8)), { fresh: [], gap: false });
});

test('pulls: one per FLV stream pull plus one per plain proxied request in flight', () => {
  const stream = (viewers: number, upstreamOpen: number) => ({ viewers, upstreamOpen }) as StreamDto;
  assert.equal(countPulls([stream(10, 1), stream(0, 1)], 10), 2);
  assert.equal(countPulls([stream(10, 1)], 13), 4, 'three plain proxied requests besides the ten viewers');
  assert.equal(countPulls([], 0), 0);
});

function fakeSources(log: RequestLogEntry[]): LiveSources {
  const stats: StatsDto = statsOf({ requests: log.length, redirects: log.length, errors: { CLIENT_CLOSED: 4, DIAL: 1 } });
  return {
    stats: async () => stats,
    streams: async () => [],
    hlsStreams: async () => [],
    hlsCache: async () => ({
      segmentBytes: 0,
      segmentEntries: 0,
      segmentMaxBytes: 0,
      playlistBytes: 0,
      playlistEntries: 0,
      playlistMaxBytes: 0,
      inflight: 0,
      inflightBytes: 0,
      evictions: 0,
      hits: 0,
      shared: 0,
      misses: 0,
      bypassed: 0,
    }),
    nodes: async () => [],
    routes: async () => [],
    sessions: async () => [],
    sessionCount: () => 0,
    requestLog: async () => log,
    relayState: () => ({ paused: false, demo: null, restartNeeded: false }),
  };
}

test('one tick publishes one snapshot and one traffic event however many requests finished', async () => {
  const log = range(0, 500);
  const ticker = new LiveTicker(fakeSources(log), createLogger('test live'));
  const events: RelayDeckEvent[] = [];
  ticker.subscribe((event) => events.push(event));
  await ticker.tick(10_000);
  assert.deepEqual(
    events.map((e) => e.type),
    ['snapshot', 'traffic'],
  );
  const traffic = events[1];
  assert.equal(traffic.type === 'traffic' && traffic.finished.length, 500);
  log.push(...range(500, 520));
  await ticker.tick(11_000);
  const second = events[3];
  assert.equal(second.type === 'traffic' && second.finished.length, 20);
  const snapshot = events[2];
  assert.equal(snapshot.type === 'snapshot' && snapshot.point.requests, 0, 'the fake stats did not change between ticks');
  assert.equal(snapshot.type === 'snapshot' && snapshot.point.errors, 0);
  assert.deepEqual(structuredClone(events), events, 'events survive structured clone (IPC)');
});

test('a listener that throws is logged and the others still get the event', async () => {
  const ticker = new LiveTicker(fakeSources([]), createLogger('test live'));
  let calls = 0;
  ticker.subscribe(() => {
    throw new Error('broken listener');
  });
  ticker.subscribe(() => (calls += 1));
  await ticker.tick(1_000);
  assert.equal(calls, 2);
});

test('the error count leaves out viewers leaving (CLIENT_CLOSED) and operator kicks (KICKED)', async () => {
  const sources = fakeSources([]);
  const errors: Record<string, number> = {};
  sources.stats = async () => statsOf({ errors: { ...errors } });
  const ticker = new LiveTicker(sources, createLogger('test live'));
  const points: number[] = [];
  ticker.subscribe((event) => event.type === 'snapshot' && points.push(event.point.errors));
  await ticker.tick(1_000);
  Object.assign(errors, { CLIENT_CLOSED: 40, KICKED: 2 });
  await ticker.tick(2_000);
  Object.assign(errors, { DIAL: 3, UPSTREAM_TIMEOUT: 1 });
  await ticker.tick(3_000);
  assert.deepEqual(points, [0, 0, 4]);
});

test(`at most ${MAX_EVENT_LISTENERS} listeners; unsubscribing frees a place`, () => {
  const ticker = new LiveTicker(fakeSources([]), createLogger('test live'));
  const offs = Array.from({ length: MAX_EVENT_LISTENERS }, () => ticker.subscribe(() => undefined));
  assert.throws(() => ticker.subscribe(() => undefined), /too many event listeners/);
  offs[0]();
  assert.doesNotThrow(() => ticker.subscribe(() => undefined));
  assert.equal(ticker.listenerCount, MAX_EVENT_LISTENERS);
});
