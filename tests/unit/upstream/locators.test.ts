/**
 * Locators one by one, against live node state (no network): first, static, hash (weights,
 * few moves when a node leaves), least-load; and that no lookup hands out a node that is
 * down, draining or disabled.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type RouteConfig } from '../../../shared/config.js';
import { createLogger } from '../../../electron/engine/core/log.js';
import { UpstreamTransport } from '../../../electron/engine/upstream/transport.js';
import { RelayError } from '../../../electron/engine/core/errors.js';
import { RouteTable } from '../../../electron/engine/routing/route-table.js';
import { parseRequestTarget } from '../../../electron/engine/routing/target.js';
import { rankByHash } from '../../../electron/engine/upstream/hash.js';
import { StreamLocator, type Location } from '../../../electron/engine/upstream/locator.js';
import { StreamProbe } from '../../../electron/engine/upstream/probe.js';
import { NodeRegistry } from '../../../electron/engine/upstream/registry.js';
import { streamKey } from '../../../electron/engine/upstream/stream-key.js';

function setup(routes: unknown[], sessions = new Map<string, number>()) {
  const config = parseConfig({
    health: { intervalMs: 0 },
    nodes: [
      { id: 'a', url: 'http://127.0.0.1:1' },
      { id: 'b', url: 'http://127.0.0.1:2', weight: 2 },
      { id: 'c', url: 'http://127.0.0.1:3' },
    ],
    routes,
  });
  const registry = new NodeRegistry(createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
  registry.sync(config);
  const probe = new StreamProbe(registry, () => config.locator, createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
  const locator = new StreamLocator({ registry, probe, sessionsByNode: () => sessions });
  const table = new RouteTable(config);
  const locate = (path: string) => {
    const route = table.match(path) as RouteConfig;
    return locator.locate(table, route, parseRequestTarget(path)) as Location;
  };
  return { config, registry, locate, stop: () => registry.stop() };
}

const ids = (location: Location) => location.nodes.map((n) => n.id);

describe('locators', () => {
  it('derives the stream key from the node path', () => {
    assert.equal(streamKey('/live/cam1.flv'), 'live/cam1');
    assert.equal(streamKey('/live/cam1/index.m3u8'), 'live/cam1');
    assert.equal(streamKey('/cam1.flv?x=1'), 'cam1');
  });

  it('first: usable nodes in configured order, skipping down, draining and disabled ones', () => {
    const { registry, locate, stop } = setup([{ id: 'r', path: '/live/', kind: 'flv', mode: 'proxy' }]);
    assert.deepEqual(ids(locate('/live/cam1.flv')), ['a', 'b', 'c']);
    registry.get('a')!.health = 'down';
    registry.get('b')!.config = { ...registry.get('b')!.config, draining: true };
    assert.deepEqual(ids(locate('/live/cam1.flv')), ['c']);
    registry.get('c')!.config = { ...registry.get('c')!.config, enabled: false };
    assert.throws(
      () => locate('/live/cam1.flv'),
      (e: RelayError) => e.code === 'NO_NODE' && /a is down, b is draining, c is disabled/.test(e.message),
    );
    stop();
  });

  it('static: the first matching pattern names the node; a down node is refused, never swapped', () => {
    const { registry, locate, stop } = setup([
      {
        id: 'r',
        path: '/live/',
        kind: 'flv',
        mode: 'proxy',
        locate: 'static',
        static: [
          { match: 'live/cam*', node: 'b' },
          { match: 'live/*', node: 'c' },
        ],
      },
    ]);
    assert.deepEqual(ids(locate('/live/cam7.flv')), ['b']);
    assert.deepEqual(ids(locate('/live/lobby.flv')), ['c']);
    registry.get('b')!.health = 'down';
    assert.throws(
      () => locate('/live/cam7.flv'),
      (e: RelayError) => e.code === 'NO_NODE' && /maps "live\/cam7" to node b, which is down/.test(e.message),
    );
    stop();
  });

  it('static: no matching rule is a 503 with the reason', () => {
    const { locate, stop } = setup([{ id: 'r', path: '/x/', kind: 'flv', mode: 'proxy', locate: 'static', static: [{ match: 'live/*', node: 'a' }] }]);
    assert.throws(
      () => locate('/x/other/s.flv'),
      (e: RelayError) => e.status === 503 && /no static rule matches "x\/other"/.test(e.message),
    );
    stop();
  });

  it("hash: stable per stream, weights respected, and only the leaving node's streams move", () => {
    const nodes = [
      { id: 'a', weight: 1 },
      { id: 'b', weight: 2 },
      { id: 'c', weight: 1 },
    ];
    const keys = Array.from({ length: 4000 }, (_, i) => `live/cam${i}`);
    const before = new Map(keys.map((k) => [k, rankByHash(k, nodes)[0].id]));
    const share = (id: string) => [...before.values()].filter((v) => v === id).length / keys.length;
    assert.ok(Math.abs(share('b') - 0.5) < 0.05, `weight 2 of 4 gets about half (${share('b')})`);
    assert.ok(Math.abs(share('a') - 0.25) < 0.05, `weight 1 of 4 gets about a quarter (${share('a')})`);
    const without = nodes.filter((n) => n.id !== 'c');
    let moved = 0;
    for (const key of keys) {
      const after = rankByHash(key, without)[0].id;
      if (before.get(key) !== 'c') assert.equal(after, before.get(key), `${key} moved although its node stayed`);
      else moved += 1;
    }
    assert.ok(moved > 0 && moved / keys.length < 0.3, `only node c's streams moved (${moved})`);
  });

  it('hash: the locator skips nodes that are down and keeps the rest in hash order', () => {
    const { registry, locate, stop } = setup([{ id: 'r', path: '/live/', kind: 'flv', mode: 'proxy', locate: 'hash' }]);
    const first = ids(locate('/live/cam1.flv'));
    assert.equal(first.length, 3);
    assert.deepEqual(ids(locate('/live/cam1.flv')), first, 'stable');
    registry.get(first[0])!.health = 'down';
    assert.deepEqual(ids(locate('/live/cam1.flv')), first.slice(1));
    stop();
  });

  it('least-load: fewest viewers per weight, or least Mbit/s out', () => {
    const sessions = new Map([
      ['a', 10],
      ['b', 10],
      ['c', 3],
    ]);
    const { registry, locate, stop } = setup(
      [
        { id: 'v', path: '/v/', kind: 'flv', mode: 'proxy', locate: 'least-load' },
        { id: 'm', path: '/m/', kind: 'flv', mode: 'proxy', locate: 'least-load', leastLoadBy: 'mbps' },
      ],
      sessions,
    );
    assert.deepEqual(ids(locate('/v/s.flv')), ['c', 'b', 'a'], 'c has 3; b has 10 over weight 2 = 5; a has 10');
    registry.get('a')!.mbpsOut = 1;
    registry.get('b')!.mbpsOut = 50;
    registry.get('c')!.mbpsOut = 20;
    assert.deepEqual(ids(locate('/m/s.flv')), ['a', 'c', 'b']);
    stop();
  });
});
