/**
 * The `registry` locator (upstream/locator.ts) over the in-memory stream registry
 * (upstream/stream-registry-view.ts): holders that are usable, newest publish first, with the
 * entry's age; NO_NODE naming the stream key when nobody holds it, when its holders are not
 * usable, or when the registry cannot be read; entries expiring by the TTL; the memory bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type RouteConfig } from '../../../shared/config.js';
import { createLogger } from '../../../electron/engine/core/log.js';
import { RelayError } from '../../../electron/engine/core/errors.js';
import { RouteTable } from '../../../electron/engine/routing/route-table.js';
import { parseRequestTarget } from '../../../electron/engine/routing/target.js';
import { StreamLocator, type Location } from '../../../electron/engine/upstream/locator.js';
import { StreamProbe } from '../../../electron/engine/upstream/probe.js';
import { NodeRegistry } from '../../../electron/engine/upstream/registry.js';
import { MEMORY_REGISTRY_STREAMS, MemoryStreamRegistry, type StreamRegistryView } from '../../../electron/engine/upstream/stream-registry-view.js';
import { UpstreamTransport } from '../../../electron/engine/upstream/transport.js';

function setup(view: StreamRegistryView | undefined) {
  const config = parseConfig({
    health: { intervalMs: 0 },
    nodes: [
      { id: 'a', url: 'http://127.0.0.1:1' },
      { id: 'b', url: 'http://127.0.0.1:2' },
    ],
    routes: [{ id: 'r', path: '/live/', kind: 'flv', mode: 'proxy', locate: 'registry' }],
  });
  const registry = new NodeRegistry(createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
  registry.sync(config);
  const probe = new StreamProbe(registry, () => config.locator, createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
  const locator = new StreamLocator({ registry, probe, sessionsByNode: () => new Map(), streams: () => view });
  const table = new RouteTable(config);
  const locate = (path: string) => locator.locate(table, table.match(path) as RouteConfig, parseRequestTarget(path));
  return { registry, locate, stop: () => registry.stop() };
}

const noNode = (pattern: RegExp) => (error: RelayError) => {
  assert.equal(error.code, 'NO_NODE');
  assert.match(error.message, pattern);
  return true;
};

describe('registry locator', () => {
  it('usable holders, newest publish first, with the entry age; unusable ones skipped', async () => {
    const memory = new MemoryStreamRegistry(() => 30_000);
    const { registry, locate, stop } = setup(memory);
    await memory.publish('a', ['live/cam1']);
    await new Promise((r) => setTimeout(r, 5));
    await memory.publish('b', ['live/cam1']);
    const found = locate('/live/cam1.flv') as Location;
    assert.deepEqual(
      found.nodes.map((n) => n.id),
      ['b', 'a'],
    );
    assert.equal(found.locator, 'registry');
    assert.equal(found.streamKey, 'live/cam1');
    assert.match(found.reason, /registered on b \(confirmed 0 s ago, expires in 30 s\), a/);
    assert.equal(typeof found.cacheAgeMs, 'number');
    registry.get('b')!.health = 'down';
    assert.deepEqual(
      (locate('/live/cam1.flv') as Location).nodes.map((n) => n.id),
      ['a'],
    );
    registry.get('a')!.health = 'down';
    assert.throws(() => locate('/live/cam1.flv'), noNode(/a is down, b is down/));
    stop();
  });

  it('no holder, unusable holders only, no registry: NO_NODE naming the key', async () => {
    const memory = new MemoryStreamRegistry(() => 30_000);
    const { registry, locate, stop } = setup(memory);
    assert.throws(() => locate('/live/none.flv'), noNode(/no node has registered "live\/none" in the stream registry \(memory\)/));
    await memory.publish('zz', ['live/ghost']);
    assert.throws(() => locate('/live/ghost.flv'), noNode(/"live\/ghost" is registered on zz, none of them usable/));
    stop();
    registry.stop();
    const none = setup(undefined);
    assert.throws(() => none.locate('/live/x.flv'), noNode(/no stream registry to look "live\/x" up in/));
    none.stop();
  });

  it('a registry that cannot be read: NO_NODE with the cause', async () => {
    const failing: StreamRegistryView = {
      holders: (key) => Promise.reject(new RelayError('FLEET_UNAVAILABLE', `the stream registry cannot be read for "${key}": Redis is down`)),
      confirm: () => undefined,
    };
    const { locate, stop } = setup(failing);
    await assert.rejects(Promise.resolve(locate('/live/cam1.flv')), noNode(/cannot be read for "live\/cam1": Redis is down/));
    stop();
  });

  it('entries expire by the TTL unless refreshed or confirmed; unpublish removes; confirm never creates', async () => {
    let ttl = 50;
    const memory = new MemoryStreamRegistry(() => ttl);
    await memory.publish('a', ['live/x', 'live/y']);
    memory.confirm('b', new Set(['live/x']));
    assert.deepEqual(
      memory.holders('live/x').holders.map((h) => h.nodeId),
      ['a'],
    );
    await new Promise((r) => setTimeout(r, 30));
    memory.confirm('a', new Set(['live/x']));
    await memory.refresh('a', ['live/z']);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(
      memory.holders('live/x').holders.map((h) => h.nodeId),
      ['a'],
      'confirmed',
    );
    assert.deepEqual(memory.holders('live/y').holders, [], 'expired');
    assert.equal(memory.holders('live/z').holders.length, 1, 'a refresh publishes an unknown stream');
    await memory.unpublish('a', ['live/x']);
    assert.deepEqual(memory.holders('live/x').holders, []);
    ttl = 60_000;
    for (let i = 0; i < MEMORY_REGISTRY_STREAMS + 10; i += 1) await memory.publish('a', [`live/s${i}`]);
    assert.equal(memory.size, MEMORY_REGISTRY_STREAMS, 'bounded');
    assert.deepEqual(memory.holders('live/s0').holders, [], 'the least recently announced went first');
    assert.equal(memory.holders(`live/s${MEMORY_REGISTRY_STREAMS + 9}`).holders.length, 1);
  });
});
