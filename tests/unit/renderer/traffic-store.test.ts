/**
 * The Traffic page's store (renderer/src/live/traffic-store.ts): finished requests are
 * taken once each by their engine numbers (RequestLogEntry.seq), whatever they look like,
 * when events held during the initial load repeat what it had, and after an engine restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestLogEntry } from '../../../shared/dto.js';
import type { TrafficEvent } from '../../../shared/events.js';
import { TrafficStore } from '../../../renderer/src/live/traffic-store.js';

/** A redirect answered in 0 ms: every one looks the same but for its number. */
const redirect = (seq: number): RequestLogEntry => ({
  seq,
  id: '',
  routeId: 'r',
  mode: 'redirect',
  method: 'GET',
  transport: 'http',
  path: '/r/x',
  nodeId: 'a',
  clientAddress: '127.0.0.1',
  userAgent: 'wrk',
  startedAt: 1_000,
  bytesIn: 0,
  bytesOut: 0,
  status: 302,
  durationMs: 0,
});
const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => redirect(from + i));
const event = (finished: RequestLogEntry[]): TrafficEvent => ({ type: 'traffic', at: 0, finished, live: [], liveTotal: 0, gap: false });

test('events held during the load may repeat what it had: each request is kept once', () => {
  const store = new TrafficStore(100);
  store.load(seqs(1, 20), []);
  store.apply(event(seqs(1, 10)));
  store.apply(event(seqs(11, 24)));
  store.settled();
  assert.equal(store.size, 24);
  store.apply(event(seqs(25, 27)));
  assert.equal(store.size, 27, 'look-alike requests that are new are all kept');
});

test('an engine restart (numbers start over) does not hide the new requests', () => {
  const store = new TrafficStore(100);
  store.load(seqs(1, 50), []);
  store.settled();
  store.apply(event(seqs(51, 52)));
  // The new run's requests start after the old run's ended.
  store.apply(event(seqs(1, 3).map((entry) => ({ ...entry, startedAt: 9_000 }))));
  assert.equal(store.size, 55);
  store.apply(event(seqs(4, 5).map((entry) => ({ ...entry, startedAt: 9_000 }))));
  assert.equal(store.size, 57, 'the new run goes on from its own numbers');
});

test('an event still on its way when the load was answered repeats its entries: each kept once, in order', () => {
  // The event stream and the API calls are separate channels: an event the engine sent before
  // it answered listRequestLog can arrive after the load settled.
  const store = new TrafficStore(100);
  store.load(seqs(1, 30), []);
  store.settled();
  store.apply(event(seqs(27, 32)));
  store.apply(event(seqs(33, 34)));
  assert.equal(store.size, 34);
  const numbers = store.rowsNewestFirst().map((row) => (row as unknown as RequestLogEntry).seq);
  assert.deepEqual(
    numbers,
    seqs(1, 34)
      .map((entry) => entry.seq)
      .reverse(),
  );
});
