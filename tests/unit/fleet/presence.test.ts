/**
 * The pure parts of fleet presence: grouping live sessions into viewers per stream, route and
 * node (bounded per record), reading the fleet script's answer, and getFleet's FleetDto.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeFleet, MAX_FLEET_STREAMS_LISTED, staleView } from '../../../electron/engine/fleet/describe.js';
import { countViewers, MAX_STREAMS_PER_RECORD, parseSightings, type PresenceRecord, type PresenceSession } from '../../../electron/engine/fleet/presence.js';
import { streamKey } from '../../../electron/engine/upstream/stream-key.js';

const session = (routeId: string, nodeId: string, path: string): PresenceSession => ({ facts: { routeId, nodeId, path } });
const keyOf = (s: PresenceSession) => streamKey(s.facts.path);

function record(id: string, perStream: PresenceRecord['perStream'], extra: Partial<PresenceRecord> = {}): PresenceRecord {
  const viewers = perStream.reduce((sum, entry) => sum + entry[3], 0);
  return {
    id,
    url: `http://${id}:8091`,
    startedAt: 1,
    version: '0.1.0',
    configVersion: 3,
    at: 1_000,
    viewers,
    streams: perStream.length,
    mbpsIn: 1.5,
    mbpsOut: 10.25,
    cpuPercent: 7,
    perStream,
    streamsLeftOut: 0,
    perRoute: [],
    perNode: [],
    ...extra,
  };
}

describe('countViewers', () => {
  it('groups sessions by route, stream key and node, and counts per route and per node', () => {
    const counted = countViewers(
      [
        session('live', 'a', '/live/cam1.flv'),
        session('live', 'a', '/live/cam1.flv'),
        session('live', 'b', '/live/cam1.flv'),
        session('tv', 'b', '/tv/news/index.m3u8'),
      ],
      new Map(),
      keyOf,
    );
    assert.equal(counted.viewers, 4);
    assert.equal(counted.streams, 2, 'cam1 through two nodes is one stream');
    assert.deepEqual(counted.perStream, [
      ['live', 'live/cam1', 'a', 2],
      ['live', 'live/cam1', 'b', 1],
      ['tv', 'tv/news', 'b', 1],
    ]);
    assert.deepEqual(counted.perRoute, [
      ['live', 3],
      ['tv', 1],
    ]);
    assert.deepEqual(counted.perNode, [
      ['a', 2],
      ['b', 2],
    ]);
  });

  it(`keeps at most MAX_STREAMS_PER_RECORD (${MAX_STREAMS_PER_RECORD}) streams, the most watched, and counts the rest`, () => {
    const sessions: PresenceSession[] = [];
    for (let i = 0; i < MAX_STREAMS_PER_RECORD + 10; i += 1) sessions.push(session('live', 'a', `/live/s${i}.flv`));
    sessions.push(session('live', 'a', '/live/s7.flv'));
    const counted = countViewers(sessions, new Map(), keyOf);
    assert.equal(counted.perStream.length, MAX_STREAMS_PER_RECORD);
    assert.equal(counted.streamsLeftOut, 10);
    assert.equal(counted.streams, MAX_STREAMS_PER_RECORD + 10);
    assert.deepEqual(counted.perStream[0], ['live', 'live/s7', 'a', 2], 'most viewers first');
  });
});

describe('parseSightings', () => {
  it('reads id, last seen, record and card; an expired record leaves only the card; a malformed record is ignored', () => {
    const live = record('r1', [['live', 'live/cam1', 'a', 2]]);
    const sightings = parseSightings([
      'r1',
      '1000',
      JSON.stringify(live),
      JSON.stringify({ url: 'u1', startedAt: 1, version: 'v', configVersion: 2 }),
      'r2',
      '900',
      '',
      JSON.stringify({ url: 'u2', startedAt: 2, version: 'v', configVersion: 1 }),
      'r3',
      '800',
      '{not json',
      '',
    ]);
    assert.equal(sightings.length, 3);
    assert.deepEqual(sightings[0].record, live);
    assert.equal(sightings[1].record, undefined);
    assert.equal(sightings[1].card?.url, 'u2');
    assert.equal(sightings[1].lastSeenAt, 900);
    assert.equal(sightings[2].record, undefined);
    assert.equal(sightings[2].card, undefined);
  });
});

describe('describeFleet', () => {
  const base = { name: 'f', relayId: 'r1', redis: { state: 'up' as const, lastError: '' }, configVersion: 3, configSource: 'fleet' as const };

  it('lists relays up then gone, streams with viewers per relay and node, and totals over the live relays only', () => {
    const self = record('r1', [['live', 'live/cam1', 'a', 2]], { at: 5_000 });
    const r2 = record('r2', [
      ['live', 'live/cam1', 'b', 3],
      ['live', 'live/cam2', 'a', 1],
    ]);
    const dto = describeFleet({
      ...base,
      self,
      view: {
        readAt: 5_000,
        relays: [
          { id: 'r1', lastSeenAt: 4_900, record: { ...self, viewers: 99 } },
          { id: 'r3', lastSeenAt: 3_000, card: { url: 'http://r3', startedAt: 7, version: '0.0.9', configVersion: 2 } },
          { id: 'r2', lastSeenAt: 4_950, record: r2 },
        ],
      },
    });
    assert.deepEqual(
      dto.relays.map((r) => [r.id, r.state, r.self, r.viewers]),
      [
        ['r1', 'up', true, 2],
        ['r2', 'up', false, 4],
        ['r3', 'gone', false, 0],
      ],
      'this relay from its own record now, not the one Redis holds',
    );
    const gone = dto.relays[2];
    assert.equal(gone.lastSeenAt, 3_000);
    assert.equal(gone.version, '0.0.9');
    assert.equal(gone.url, 'http://r3');
    assert.deepEqual(dto.streams, [
      {
        routeId: 'live',
        streamKey: 'live/cam1',
        viewers: 5,
        relays: [
          { relayId: 'r2', viewers: 3, nodeId: 'b' },
          { relayId: 'r1', viewers: 2, nodeId: 'a' },
        ],
      },
      { routeId: 'live', streamKey: 'live/cam2', viewers: 1, relays: [{ relayId: 'r2', viewers: 1, nodeId: 'a' }] },
    ]);
    assert.deepEqual(dto.totals, { relays: 2, viewers: 6, streams: 2, mbpsIn: 3, mbpsOut: 20.5 });
    assert.equal(dto.enabled, true);
    assert.equal(dto.configVersion, 3);
  });

  it('without a read of Redis: this relay alone', () => {
    const dto = describeFleet({ ...base, redis: { state: 'down', lastError: 'ECONNREFUSED' }, view: undefined, self: record('r1', []) });
    assert.equal(dto.relays.length, 1);
    assert.equal(dto.redis.state, 'down');
    assert.equal(dto.totals.relays, 1);
  });

  it(`lists at most MAX_FLEET_STREAMS_LISTED (${MAX_FLEET_STREAMS_LISTED}) streams and still counts them all`, () => {
    const many: PresenceRecord['perStream'] = [];
    for (let i = 0; i < MAX_FLEET_STREAMS_LISTED + 5; i += 1) many.push(['live', `live/s${i}`, 'a', 1]);
    const dto = describeFleet({ ...base, view: undefined, self: record('r1', many) });
    assert.equal(dto.streams.length, MAX_FLEET_STREAMS_LISTED);
    assert.equal(dto.totals.streams, MAX_FLEET_STREAMS_LISTED + 5);
  });
});

describe('staleView', () => {
  it('keeps a read younger than fleet.expiryMs; past it, every relay is shown gone with what was known of it', () => {
    const view = { readAt: 1_000, relays: [{ id: 'r2', lastSeenAt: 990, record: record('r2', [['live', 'live/cam1', 'a', 1]]) }] };
    assert.equal(staleView(view, 500, 1_400), view);
    const stale = staleView(view, 500, 1_600);
    assert.equal(stale?.relays[0].record, undefined);
    assert.equal(stale?.relays[0].card?.url, 'http://r2:8091');
    const dto = describeFleet({
      name: 'f',
      relayId: 'r1',
      redis: { state: 'down', lastError: 'x' },
      configVersion: 1,
      configSource: 'fleet',
      view: stale,
      self: record('r1', []),
    });
    assert.deepEqual(
      dto.relays.map((r) => [r.id, r.state, r.lastSeenAt]),
      [
        ['r1', 'up', 1_000],
        ['r2', 'gone', 990],
      ],
    );
    assert.equal(staleView(undefined, 500, 1_600), undefined);
  });
});
