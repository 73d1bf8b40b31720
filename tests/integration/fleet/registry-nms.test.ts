/**
 * Issue 16 acceptance, stream registry: two real node-media-server nodes whose own event hook
 * (NMS `notify.url`) calls a relay's node hook (/_relaydeck/hooks/<node>/nms), three relays on
 * one real redis-server with a route locate "registry". A stream published on node B is played
 * through all three relays with one pull per relay (B's own API counts 3 subscribers). Then B
 * dies without notifying: its registry entry is no longer confirmed (B's stream list through
 * its API was what kept it) and expires within fleet.registryTtlMs; the publisher republishes
 * on A, A's hook announces it, and every relay's viewers fail over to A as they do today.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { FlvTestViewer } from '../../helpers/flv-viewer.js';
import { sleep, waitFor } from '../../helpers/http.js';
import { freePort, missingTool, NMS_API_USER, nmsSubscribers, publishTestStream, startNms, type NmsOrigin } from '../../helpers/media.js';
import { missingRedis, RedisServer } from '../../helpers/redis.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const skip = missingRedis() || missingTool('ffmpeg', 'ffmpeg');
if (skip) console.log(`# skipping the registry acceptance suite: ${skip}`);

const SECRET_A = 'nms-a-hook-secret-0123456789';
const SECRET_B = 'nms-b-hook-secret-0123456789';
const TTL_MS = 2_000;
const VIEWERS_PER_RELAY = 2;

describe('stream registry acceptance: 2 node-media-servers, 3 relays, 1 redis-server', { skip }, () => {
  const redis = new RedisServer();
  const fleetName = `registry-${process.pid}`;
  let a: NmsOrigin;
  let b: NmsOrigin;
  let publisher: ChildProcess | undefined;
  const relays: StartedRelay[] = [];
  const viewers: FlvTestViewer[] = [];
  let store: Redis;

  before(async () => {
    await redis.start();
    store = new Redis(redis.url, { lazyConnect: true });
    await store.connect();
    const ports = [await freePort(), await freePort(), await freePort()];
    // Each node's hook goes to a different relay: the registry is the fleet's, whichever relay hears it.
    a = await startNms({ notifyUrl: `http://127.0.0.1:${ports[0]}/_relaydeck/hooks/a/nms?secret=${SECRET_A}` });
    b = await startNms({ notifyUrl: `http://127.0.0.1:${ports[1]}/_relaydeck/hooks/b/nms?secret=${SECRET_B}` });
    const config = (port: number, index: number) => ({
      relay: { port },
      fleet: { redisUrl: redis.url, name: fleetName, relayId: `r${index + 1}`, registryTtlMs: TTL_MS },
      health: { intervalMs: 200, timeoutMs: 300, fails: 2, passes: 1 },
      locator: { probeTtlMs: 1_500, probeRefreshMs: 500, probeTimeoutMs: 1_000 },
      nodes: [
        { id: 'a', url: a.httpUrl, hookSecret: SECRET_A, api: { type: 'nms', ...NMS_API_USER } },
        { id: 'b', url: b.httpUrl, hookSecret: SECRET_B, api: { type: 'nms', ...NMS_API_USER } },
      ],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', locate: 'registry' }],
    });
    for (const [index, port] of ports.entries()) relays.push(await startRelay(config(port, index)));
  });

  after(async () => {
    viewers.forEach((v) => v.close());
    publisher?.kill('SIGKILL');
    for (const relay of relays) await relay.stop();
    await a?.stop();
    await b?.stop();
    store?.disconnect();
    await redis.stop();
  });

  it('a stream published on B (its hook) plays through all three relays with one pull per relay', async () => {
    publisher = publishTestStream(`${b.rtmpUrl}/live/cam1`);
    for (const relay of relays) {
      await waitFor(
        async () => (await relay.api.call('GET', '/api/resolve?path=/live/cam1.flv')).body.nodeId === 'b',
        20_000,
        `${relay.relayUrl} to find live/cam1 on b in the registry`,
      );
    }
    const resolved = (await relays[2].api.call('GET', '/api/resolve?path=/live/cam1.flv')).body;
    assert.equal(resolved.locator, 'registry');
    assert.match(resolved.reason, /registered on b/);
    for (const relay of relays) for (let i = 0; i < VIEWERS_PER_RELAY; i += 1) viewers.push(await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open());
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 15_000, 'every viewer to get a keyframe');
    for (const relay of relays) {
      const streams = (await relay.api.call('GET', '/api/streams')).body as { nodeId: string; viewers: number }[];
      assert.equal(streams.length, 1, 'one stream (one pull) per relay');
      assert.equal(streams[0].nodeId, 'b');
      assert.equal(streams[0].viewers, VIEWERS_PER_RELAY);
    }
    assert.equal((await nmsSubscribers(b)).get('live/cam1'), relays.length, 'node B serves one pull per relay');
  });

  it("B's entry outlives registryTtlMs while probes of B's stream list confirm it (NMS sends no heartbeat)", async () => {
    await sleep(TTL_MS + 500);
    const resolved = (await relays[1].api.call('GET', '/api/resolve?path=/live/cam1.flv')).body;
    assert.equal(resolved.nodeId, 'b', JSON.stringify(resolved));
    const confirmedAgo = Number(/confirmed ([\d.]+) s ago/.exec(resolved.reason)?.[1]) * 1000;
    assert.ok(confirmedAgo < TTL_MS, `confirmed ${confirmedAgo} ms ago: ${resolved.reason}`);
  });

  it('B dies without notifying: its entry expires within registryTtlMs and the viewers fail over to A once A announces the stream', async () => {
    const key = `relaydeck:{${fleetName}}:reg:live/cam1`;
    const expiresAt = async () => {
      const value = await store.hget(key, 'b');
      return value ? Number(value.split(' ')[0]) : 0;
    };
    const serverNow = async () => {
      const [seconds, micros] = await store.time();
      return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    };
    assert.ok((await expiresAt()) > (await serverNow()), 'b holds live/cam1 before it dies');
    await b.stop();
    const killedAt = await serverNow();
    publisher?.kill('SIGKILL');
    publisher = publishTestStream(`${a.rtmpUrl}/live/cam1`);
    // The entry is confirmed no more (nor is it kept alive by anything else): it expires at most TTL after B's last confirmation.
    const lastExpiry = await waitFor(
      async () => {
        const [expiry, now] = [await expiresAt(), await serverNow()];
        return expiry <= now ? expiry || now : 0;
      },
      TTL_MS + 5_000,
      "b's registry entry to expire",
    );
    const expiredAfter = lastExpiry - killedAt;
    console.log(`# b's entry expired ${expiredAfter} ms after the kill (registryTtlMs ${TTL_MS})`);
    // At most the TTL after B's last confirmation, which came before its death (a confirmation in flight then may land a few ms later; polling adds its step).
    assert.ok(expiredAfter <= TTL_MS + 200, `expired ${expiredAfter} ms after the kill, TTL ${TTL_MS} ms`);

    for (const relay of relays) {
      await waitFor(
        async () => {
          const streams = (await relay.api.call('GET', '/api/streams')).body as { nodeId: string; viewers: number; state?: string }[];
          return streams.length === 1 && streams[0].nodeId === 'a';
        },
        20_000,
        `${relay.relayUrl}'s stream to move to a`,
      );
    }
    const before = viewers.map((v) => v.bytes);
    await waitFor(() => viewers.every((v, i) => v.bytes > before[i] + 10_000 && !v.ended), 10_000, 'every viewer to keep receiving from a');
    for (const relay of relays) {
      const streams = (await relay.api.call('GET', '/api/streams')).body as { viewers: number }[];
      assert.equal(streams[0].viewers, VIEWERS_PER_RELAY, 'no viewer lost in the failover');
    }
    assert.equal((await nmsSubscribers(a)).get('live/cam1'), relays.length, 'node A serves one pull per relay');
    const resolved = (await relays[0].api.call('GET', '/api/resolve?path=/live/cam1.flv')).body;
    assert.equal(resolved.nodeId, 'a');
    assert.deepEqual(resolved.fallbackNodeIds, []);
  });
});
