/**
 * The throughput history (electron/engine/history/): fixed-size rings that stay bounded however
 * long the engine runs, counters stored as per-interval changes, minute points folded from
 * second points, and the redirect savings estimate.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestLogEntry, StatsDto } from '../../../shared/dto.js';
import { HISTORY_MINUTE_MS, HISTORY_MINUTE_POINTS, HISTORY_SECOND_POINTS, HistoryBook, type HistorySample } from '../../../electron/engine/history/book.js';
import { HISTORY_FIELDS, HistoryRing } from '../../../electron/engine/history/ring.js';
import { SavingsEstimator } from '../../../electron/engine/history/savings.js';
import { routeStats, statsOf } from '../../helpers/stats.js';

const point = (t: number, value = t) => ({
  t,
  bytesIn: value,
  bytesOut: value,
  requests: value,
  redirects: 0,
  errors: 0,
  viewers: value,
  streams: 0,
  pulls: 0,
  savedBytes: 0,
});

function sample(at: number, counters: Partial<HistorySample> = {}): HistorySample {
  return { at, bytesIn: 0, bytesOut: 0, requests: 0, redirects: 0, errors: 0, savedBytes: 0, viewers: 0, streams: 0, pulls: 0, ...counters };
}

test('a ring keeps at most its capacity, oldest first, in plain arrays', () => {
  const ring = new HistoryRing(600, 1000);
  for (let i = 0; i < 2_500; i += 1) ring.push(point(i));
  assert.equal(ring.size, 600);
  const series = ring.toSeries();
  assert.equal(series.capacity, 600);
  assert.equal(series.stepMs, 1000);
  for (const field of HISTORY_FIELDS) assert.equal(series[field].length, 600, field);
  assert.equal(series.t[0], 1_900);
  assert.equal(series.t[599], 2_499);
  assert.deepEqual(ring.last(), point(2_499));
  assert.deepEqual(structuredClone(series), series, 'survives structured clone (IPC)');
});

test('a ring refuses a capacity below 1', () => {
  assert.throws(() => new HistoryRing(0, 1000), RangeError);
});

test('the book keeps 600 second points and 1440 minute points, no more, over a simulated 48 hours', () => {
  const book = new HistoryBook();
  const start = Date.UTC(2026, 0, 1);
  let total = 0;
  // One sample every 30 s for 48 h: enough to fill and roll both rings.
  for (let at = start; at < start + 48 * 3_600_000; at += 30_000) {
    total += 1_000;
    book.record(sample(at, { bytesOut: total }));
  }
  const history = book.toDto();
  assert.equal(history.seconds.t.length, HISTORY_SECOND_POINTS);
  assert.equal(history.minutes.t.length, HISTORY_MINUTE_POINTS);
  assert.equal(HISTORY_SECOND_POINTS, 600);
  assert.equal(HISTORY_MINUTE_POINTS, 1_440);
  // Two samples per minute, 1000 bytes each: every full minute holds 2000 bytes.
  assert.ok(
    history.minutes.bytesOut.every((b) => b === 2_000),
    'minute points sum their second points',
  );
  assert.ok(
    history.minutes.t.every((t) => t % HISTORY_MINUTE_MS === 0),
    'minute points end on the minute',
  );
});

test('counters become per-interval changes; a counter that drops (a route removed) counts 0', () => {
  const book = new HistoryBook();
  assert.equal(book.record(sample(1_000, { requests: 50 })).point.requests, 0, 'the first sample is the baseline');
  assert.equal(book.record(sample(2_000, { requests: 80 })).point.requests, 30);
  assert.equal(book.record(sample(3_000, { requests: 10 })).point.requests, 0);
  assert.equal(book.record(sample(4_000, { requests: 15 })).point.requests, 5);
});

test('a minute point sums the counts and keeps the highest gauges of its seconds', () => {
  const book = new HistoryBook();
  const minute = 60_000 * 1000;
  let out = 0;
  const viewers = [3, 9, 4];
  viewers.forEach((v, i) => {
    out += 100;
    const step = book.record(sample(minute + i * 1_000, { bytesOut: out, viewers: v }));
    assert.equal(step.minutePoint, undefined);
  });
  const next = book.record(sample(minute + 60_000, { bytesOut: out + 100, viewers: 1 }));
  assert.ok(next.minutePoint);
  assert.equal(next.minutePoint.t, minute + 60_000);
  assert.equal(next.minutePoint.viewers, 9, 'highest viewers of the minute');
  assert.equal(next.minutePoint.bytesOut, 200, 'bytes of the minute (the first sample is the baseline)');
});

function stats(redirectsByRoute: Record<string, number>): StatsDto {
  const routes: StatsDto['routes'] = {};
  for (const [id, redirects] of Object.entries(redirectsByRoute)) routes[id] = routeStats({ requests: redirects, redirects });
  return statsOf(routes[Object.keys(routes)[0]], routes);
}

const finished = (routeId: string, mode: 'proxy' | 'redirect', bytesOut: number): RequestLogEntry =>
  ({
    id: '1',
    routeId,
    mode,
    method: 'GET',
    path: '/x',
    nodeId: 'n',
    clientAddress: '127.0.0.1',
    userAgent: '',
    startedAt: 0,
    bytesIn: bytesOut,
    bytesOut,
    status: 200,
    durationMs: 10,
  }) as RequestLogEntry;

test('savings: each redirect counts as the mean bytes of a finished proxied request of its kind', () => {
  const kinds: Record<string, 'flv' | 'hls' | 'file'> = { live: 'flv', cams: 'flv', vod: 'hls' };
  const kindOf = (id: string) => kinds[id];
  const savings = new SavingsEstimator();
  assert.equal(savings.observeRedirects(stats({ cams: 5 }), kindOf), 0, 'no flv sample yet: nothing estimated');
  savings.observeFinished(
    [finished('live', 'proxy', 1_000), finished('live', 'proxy', 3_000), finished('live', 'redirect', 0), finished('vod', 'proxy', 0)],
    kindOf,
  );
  assert.equal(savings.mean('flv'), 2_000);
  assert.equal(savings.observeRedirects(stats({ cams: 8 }), kindOf), 3 * 2_000, 'three new redirects × the flv mean');
  const dto = savings.toDto();
  assert.equal(dto.bytes, 6_000);
  assert.equal(dto.redirects, 8);
  assert.equal(dto.unestimatedRedirects, 5);
  assert.deepEqual(dto.samples, { flv: 2, hls: 0, file: 0 });
});
