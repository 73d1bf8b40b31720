/**
 * The fleet stream registry's store on a real redis-server (fleet/stream-registry.ts): Redis
 * calls per lookup (one per cache miss, shared by concurrent misses; none on a hit), the
 * pub/sub invalidation between relays, publish/refresh/confirm/unpublish semantics, the
 * newest-publish order, and entries expiring by Redis's clock.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { createLogger } from '../../../electron/engine/core/log.js';
import { FleetLink } from '../../../electron/engine/fleet/link.js';
import { FleetStreamRegistry, REGISTRY_CACHE_MS } from '../../../electron/engine/fleet/stream-registry.js';
import type { RegistryAnswer } from '../../../electron/engine/upstream/stream-registry-view.js';
import { sleep, waitFor } from '../../helpers/http.js';
import { missingRedis, RedisServer } from '../../helpers/redis.js';

const skip = missingRedis();
if (skip) console.log(`# skipping the registry store suite: ${skip}`);

const TTL_MS = 2_000;

describe('fleet stream registry store (real redis-server)', { skip }, () => {
  const redis = new RedisServer();
  const links: FleetLink[] = [];
  let one: FleetStreamRegistry;
  let two: FleetStreamRegistry;

  const registry = async () => {
    const settings = parseConfig({ fleet: { redisUrl: redis.url, name: `store-${process.pid}`, registryTtlMs: TTL_MS } }).fleet;
    const link = new FleetLink({ settings, log: createLogger('test') });
    links.push(link);
    await link.connect();
    const made = new FleetStreamRegistry({ link, settings: () => settings, log: createLogger('test') });
    await made.start();
    return made;
  };
  const ids = async (answer: RegistryAnswer | Promise<RegistryAnswer>) => (await answer).holders.map((h) => h.nodeId);

  before(async () => {
    await redis.start();
    one = await registry();
    two = await registry();
  });
  after(async () => {
    for (const link of links) await link.close();
    await redis.stop();
  });

  it('one Redis read per lookup miss, shared by concurrent lookups; none while cached', async () => {
    await one.publish('a', ['live/x']);
    const reads = two.calls.reads;
    const answers = await Promise.all(Array.from({ length: 50 }, () => two.holders('live/x')));
    assert.equal(two.calls.reads - reads, 1, '50 concurrent lookups, one read');
    assert.ok(answers.every((a) => a.holders[0]?.nodeId === 'a'));
    for (let i = 0; i < 1000; i += 1) {
      const answer = two.holders('live/x');
      assert.ok(!(answer instanceof Promise), 'a cached answer is synchronous');
    }
    assert.equal(two.calls.reads - reads, 1, 'no read while cached');
    await sleep(REGISTRY_CACHE_MS + 50);
    assert.deepEqual(await ids(two.holders('live/x')), ['a']);
    assert.equal(two.calls.reads - reads, 2, 'read again once the cache is older than REGISTRY_CACHE_MS');
  });

  it("a change on one relay drops the others' cached answer (pub/sub), so the next lookup reads it", async () => {
    await one.publish('a', ['live/y']);
    assert.deepEqual(await ids(two.holders('live/y')), ['a']);
    // Publish times are Redis milliseconds: b must come at least a millisecond after a to be the newer one.
    await sleep(20);
    await one.publish('b', ['live/y']);
    await waitFor(async () => (await ids(two.holders('live/y'))).join() === 'b,a', 500, 'the newer publish on b to show first, within the cache time');
    await one.unpublish('b', ['live/y']);
    await waitFor(async () => (await ids(two.holders('live/y'))).join() === 'a', 500, 'the unpublish to show');
  });

  it('refresh keeps the publish order and extends; confirm extends only existing entries; entries expire by the TTL', async () => {
    await one.publish('a', ['live/z']);
    await sleep(20);
    await one.publish('b', ['live/z']);
    await one.refresh('a', ['live/z']);
    const answer = await two.holders('live/z');
    assert.deepEqual(
      answer.holders.map((h) => h.nodeId),
      ['b', 'a'],
      'a refresh is no new publish',
    );
    one.confirm('c', new Set(['live/z']));
    await sleep(300);
    assert.deepEqual(await ids(one.holders('live/z')), ['b', 'a'], 'confirm created nothing for c');
    const started = Date.now();
    while (Date.now() - started < TTL_MS * 1.5) {
      one.confirm('a', new Set(['live/z']));
      await sleep(TTL_MS / 4);
    }
    one.confirm('a', new Set(['live/z']));
    await sleep(100);
    assert.deepEqual(await ids(two.holders('live/z')), ['a'], 'a confirmed by probes stays; b, not confirmed, expired');
  });
});
