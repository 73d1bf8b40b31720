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
const event = (finished: RequestLogEntry[]): TrafficEvent => ({ type: 'traffic', finished, live: [], liveTotal: 0, gap: false }) as TrafficEvent;

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
  store.apply(event(seqs(1, 3)));
  assert.equal(store.size, 55);
});
