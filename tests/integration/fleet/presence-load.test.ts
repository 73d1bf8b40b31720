/**
 * Fleet-wide load and caps with two relay engines on a real redis-server and live FLV nodes:
 *  - the least-load locator balances on the fleet's sessions per node (this relay's plus the
 *    others' last heartbeat), not this relay's alone;
 *  - only routes with caps call Redis at a viewer join (watched with MONITOR);
 *  - Redis away: each relay admits by its own count (the cap then holds per relay) and keeps
 *    serving; Redis back: the next heartbeat rewrites each relay's counts and the cap holds
 *    fleet-wide again, with no restart.
 * Skips with the printed reason when redis-server is missing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FleetDto, SessionDto } from '../../../shared/dto.js';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../helpers/flv-viewer.js';
import { sleep, waitFor } from '../../helpers/http.js';
import { missingRedis, monitorRedis, RedisServer } from '../../helpers/redis.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const skip = missingRedis();
if (skip) console.log(`# fleet load suite skipped: ${skip}`);

describe('fleet-wide load and caps (two engines, real Redis)', { skip }, () => {
  const redis = new RedisServer();
  const originA = new LiveFlvOrigin({ fps: 10, gopFrames: 10, keyframeBytes: 2_000, interBytes: 500 });
  const originB = new LiveFlvOrigin({ fps: 10, gopFrames: 10, keyframeBytes: 2_000, interBytes: 500, marker: 0x66 });
  const relays: StartedRelay[] = [];
  const viewers: FlvTestViewer[] = [];

  const open = async (relay: StartedRelay, path: string) => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}${path}`).open();
    viewers.push(viewer);
    return viewer;
  };
  const sessionsOf = async (relay: StartedRelay) => (await relay.api.call<SessionDto[]>('GET', '/api/sessions')).body;
  const closeAll = async () => {
    for (const viewer of viewers.splice(0)) viewer.close();
    for (const relay of relays) await waitFor(async () => (await sessionsOf(relay)).length === 0, 5_000, 'no viewers left');
  };

  before(async () => {
    await redis.start();
    for (const origin of [originA, originB]) origin.streams.add('/live/cam2.flv');
    const [a, b] = [await originA.start(), await originB.start()];
    for (const id of ['r1', 'r2'])
      relays.push(
        await startRelay({
          relay: { shutdownGraceMs: 0 },
          fleet: { redisUrl: redis.url, name: `load-${process.pid}`, relayId: id, heartbeatMs: 100, expiryMs: 1_000 },
          nodes: [
            { id: 'a', url: a },
            { id: 'b', url: b },
          ],
          routes: [
            { id: 'balanced', path: '/lb/', kind: 'flv', mode: 'proxy', stripPrefix: true, nodes: ['a', 'b'], locate: 'least-load' },
            { id: 'capped', path: '/capped/', kind: 'flv', mode: 'proxy', stripPrefix: true, nodes: ['a'], limits: { maxViewersPerStream: 2 } },
            { id: 'free', path: '/free/', kind: 'flv', mode: 'proxy', stripPrefix: true, nodes: ['a'] },
          ],
        }),
      );
  });

  after(async () => {
    for (const viewer of viewers) viewer.close();
    await Promise.all(relays.map((relay) => relay.stop()));
    await originA.stop();
    await originB.stop();
    await redis.stop();
  });

  it("least-load counts the other relays' sessions per node: a viewer on r2 goes to the node r1 loads least", async () => {
    const [r1, r2] = relays;
    for (let n = 0; n < 3; n += 1) assert.equal((await open(r1, '/lb/live/cam1.flv')).status, 200);
    const onR1 = await sessionsOf(r1);
    assert.deepEqual(
      onR1.map((s) => s.nodeId),
      ['a', 'a', 'a'],
      'r1 pulls cam1 from node a (first of equals), its viewers share that pull',
    );
    await waitFor(
      async () => (await r2.api.call<FleetDto>('GET', '/api/fleet')).body.relays.find((r) => r.id === 'r1')?.viewers === 3,
      5_000,
      "r2 has r1's heartbeat",
    );
    assert.equal((await open(r2, '/lb/live/cam2.flv')).status, 200);
    const onR2 = await sessionsOf(r2);
    assert.deepEqual(
      onR2.map((s) => s.nodeId),
      ['b'],
      'alone, r2 would pick node a (0 sessions on both); with the fleet, a has 3',
    );
    await closeAll();
  });

  it('only routes with caps call Redis at a viewer join', async () => {
    const [r1] = relays;
    const monitor = await monitorRedis(redis.port);
    // Route names appear in script calls only as count fields (the heartbeat's record is a SET).
    const scriptCalls = () => monitor.lines.filter((line) => /\] "eval(sha)?"/i.test(line) && (line.includes('free') || line.includes('capped')));
    try {
      for (let n = 0; n < 3; n += 1) assert.equal((await open(r1, '/free/live/cam1.flv')).status, 200);
      await sleep(300); // any call would have reached the monitor by now
      assert.equal(scriptCalls().length, 0, `no script call for an uncapped route: ${scriptCalls().join('\n')}`);
      assert.equal((await open(r1, '/capped/live/cam1.flv')).status, 200);
      await waitFor(() => scriptCalls().some((call) => call.includes('capped')), 2_000, 'the join script for the capped route');
    } finally {
      monitor.close();
    }
    await closeAll();
  });

  it('Redis away: each relay admits by its own count and keeps serving; Redis back: the cap holds fleet-wide again without a restart', async () => {
    const [r1, r2] = relays;
    const url = '/capped/live/cam1.flv';
    await redis.kill();
    try {
      await waitFor(async () => (await r1.api.call<FleetDto>('GET', '/api/fleet')).body.redis.state === 'down', 5_000, 'r1 sees Redis down');
      const admitted = [await open(r1, url), await open(r1, url), await open(r2, url), await open(r2, url)];
      assert.deepEqual(
        admitted.map((v) => v.status),
        [200, 200, 200, 200],
        'the cap (2) holds per relay while Redis is away',
      );
      const third = await open(r1, url);
      assert.equal(third.status, 503);
      await waitFor(() => third.ended, 2_000, 'the refusal read');
      assert.doesNotMatch(third.json().error.message, /across the fleet/, 'refused by the local count');
      await waitFor(() => admitted.every((v) => v.firstKeyframeAt > 0), 10_000, 'the viewers play with Redis away');
      // getFleet still answers: itself up with its viewers, the relay it cannot hear gone once fleet.expiryMs passed.
      const fleet = await waitFor(
        async () => {
          const dto = (await r1.api.call<FleetDto>('GET', '/api/fleet')).body;
          return dto.relays.find((r) => r.id === 'r2')?.state === 'gone' ? dto : undefined;
        },
        5_000,
        'r2 shown gone on r1 while Redis is away',
      );
      assert.equal(fleet.redis.state, 'down');
      assert.deepEqual(
        fleet.relays.filter((r) => r.state === 'up').map((r) => [r.id, r.viewers]),
        [['r1', 2]],
      );
    } finally {
      await redis.start();
    }
    await waitFor(async () => (await r2.api.call<FleetDto>('GET', '/api/fleet')).body.redis.state === 'up', 10_000, 'r2 sees Redis again');
    // Both relays' counts are written back by their next heartbeats: 4 viewers against a cap of 2.
    const refused = await waitFor(
      async () => {
        const viewer = await new FlvTestViewer(`${r2.relayUrl}${url}`).open();
        viewers.push(viewer);
        if (viewer.status !== 503) return undefined;
        await waitFor(() => viewer.ended, 2_000, 'the refusal read');
        return /across the fleet/.test(viewer.json().error.message) ? viewer : undefined;
      },
      5_000,
      'a fleet-wide refusal once Redis is back',
    );
    assert.equal(refused.status, 503);
    await closeAll();
    // All gone: two places fleet-wide, one on each relay, the third refused.
    assert.equal((await open(r1, url)).status, 200);
    assert.equal((await open(r2, url)).status, 200);
    // Both counts written back by a heartbeat since (a heartbeat taken before a join may land after it, with the count before it).
    await waitFor(
      async () => {
        const { relays: seen } = (await r1.api.call<FleetDto>('GET', '/api/fleet')).body;
        return seen.find((r) => r.id === 'r1')?.viewers === 1 && seen.find((r) => r.id === 'r2')?.viewers === 1;
      },
      5_000,
      'one viewer on each relay in the fleet view',
    );
    assert.equal((await open(r1, url)).status, 503);
    await closeAll();
  });
});
