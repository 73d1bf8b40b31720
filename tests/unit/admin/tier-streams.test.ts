/**
 * Relay tiers: the keys a parent relay names to the relays below it (admin/tier-streams.ts),
 * as an edge computes them for the paths it asks the parent for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import type { HlsStreamDto, StreamDto } from '../../../shared/dto.js';
import { relayPathOf, TIER_STREAMS_CACHE_MS, TIER_STREAMS_MAX_KEYS, TierStreamsCache, tierStreams } from '../../../electron/engine/admin/tier-streams.js';
import { RouteTable } from '../../../electron/engine/routing/route-table.js';
import { streamKey } from '../../../electron/engine/upstream/stream-key.js';

const table = new RouteTable(
  parseConfig({
    nodes: [
      { id: 'a', url: 'http://10.0.0.1:8000' },
      { id: 'b', url: 'http://10.0.0.2:8000' },
    ],
    routes: [
      { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['a'] },
      { id: 'tv', path: '/tv/', kind: 'flv', mode: 'proxy', stripPrefix: true, nodes: ['b'] },
      { id: 'files', path: '/files/', kind: 'file', mode: 'proxy', nodes: ['a', 'b'] },
    ],
  }),
);
const base = {
  relayId: 'parent',
  table,
  flv: [] as StreamDto[],
  hls: [] as HlsStreamDto[],
  known: new Map<string, Set<string>>(),
  ttlMs: 5000,
  now: 1_000_000,
};

test("a node's listed keys are named as the edge asks for them: as is, or under the prefix a route strips", () => {
  const answer = tierStreams({
    ...base,
    known: new Map([
      ['a', new Set(['live/cam1', 'other/x'])],
      ['b', new Set(['news'])],
    ]),
  });
  assert.deepEqual(answer.keys.sort(), ['live/cam1', 'tv/news']);
  assert.equal(answer.truncated, false);
  assert.equal(answer.relayId, 'parent');
  // The edge computes the same key from the relay path it requests (upstream/stream-key.ts).
  assert.equal(streamKey('/tv/news.flv'), 'tv/news');
  assert.equal(relayPathOf(table.config.routes[1], 'news'), '/tv/news');
});

test('live FLV streams by their relay path, HLS streams only while requested lately', () => {
  const flv = [{ path: '/live/cam9.flv?token=x', state: 'live' } as StreamDto, { path: '/live/gone.flv', state: 'closing' } as StreamDto];
  const hls = [
    { routeId: 'tv', streamKey: 'fresh', lastRequestAt: base.now - 1000 } as HlsStreamDto,
    { routeId: 'tv', streamKey: 'old', lastRequestAt: base.now - 60_000 } as HlsStreamDto,
  ];
  assert.deepEqual(tierStreams({ ...base, flv, hls }).keys.sort(), ['live/cam9', 'tv/fresh']);
});

test('bounded: past TIER_STREAMS_MAX_KEYS the answer says truncated', () => {
  const many = new Set(Array.from({ length: TIER_STREAMS_MAX_KEYS + 10 }, (_, i) => `live/s${i}`));
  const answer = tierStreams({ ...base, known: new Map([['a', many]]) });
  assert.equal(answer.keys.length, TIER_STREAMS_MAX_KEYS);
  assert.equal(answer.truncated, true);
});

test('one answer serves the edges that ask within TIER_STREAMS_CACHE_MS', () => {
  const cache = new TierStreamsCache();
  let built = 0;
  const build = (now: number) => () => ({ relayId: 'p', at: now, keys: [String(++built)], truncated: false });
  assert.deepEqual(cache.get(1000, build(1000)).keys, ['1']);
  assert.deepEqual(cache.get(1000 + TIER_STREAMS_CACHE_MS - 1, build(1000 + TIER_STREAMS_CACHE_MS - 1)).keys, ['1']);
  assert.deepEqual(cache.get(1000 + TIER_STREAMS_CACHE_MS, build(1000 + TIER_STREAMS_CACHE_MS)).keys, ['2']);
});
