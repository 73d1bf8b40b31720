/**
 * Shared probe answers (fleet.shareProbes, fleet/shared-probes.ts) on a real redis-server: three
 * relays refresh one node's stream list every locator.probeRefreshMs; with sharing, about one
 * relay asks the node per refresh and the others take its stored answer (the node's own
 * request count shows it); without sharing each relay asks. Every relay still locates the
 * stream by probe, and Redis going away makes each relay ask the node itself again.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sleep, waitFor } from '../../helpers/http.js';
import { missingRedis, RedisServer } from '../../helpers/redis.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const skip = missingRedis();
if (skip) console.log(`# skipping the shared probes suite: ${skip}`);

const REFRESH_MS = 300;
const WINDOW_MS = 3_000;

/** A node with an SRS-style stream list API that counts how often it is asked. */
async function listingNode(): Promise<{ url: string; asked: () => number; close: () => Promise<void> }> {
  let asked = 0;
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/streams/')) {
      asked += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 0, streams: [{ app: 'live', name: 'cam1', publish: { active: true } }] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    asked: () => asked,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function askedDuring(node: { asked: () => number }, ms: number): Promise<number> {
  const start = node.asked();
  await sleep(ms);
  return node.asked() - start;
}

describe('probe answers shared through the fleet (real redis-server)', { skip }, () => {
  const redis = new RedisServer();
  let node: Awaited<ReturnType<typeof listingNode>>;
  const relays: StartedRelay[] = [];

  const start = async (fleetName: string, shareProbes: boolean) => {
    const config = {
      fleet: { redisUrl: redis.url, name: fleetName, shareProbes, commandTimeoutMs: 500 },
      locator: { probeRefreshMs: REFRESH_MS, probeTtlMs: 2_000, probeTimeoutMs: 500 },
      nodes: [{ id: 'srs', url: node.url, api: { type: 'srs' } }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'redirect', locate: 'probe' }],
    };
    const started: StartedRelay[] = [];
    for (let i = 0; i < 3; i += 1) started.push(await startRelay(config));
    relays.push(...started);
    return started;
  };
  const stopAll = async (which: StartedRelay[]) => {
    for (const relay of which) await relay.stop();
  };

  before(async () => {
    await redis.start();
    node = await listingNode();
  });
  after(async () => {
    await stopAll(relays);
    await node?.close();
    await redis.stop();
  });

  it('three relays ask the node about once per refresh with sharing, three times as often without', async () => {
    const shared = await start(`shared-${process.pid}`, true);
    for (const relay of shared) {
      await waitFor(
        async () => (await relay.api.call('GET', '/api/resolve?path=/live/cam1.flv')).body.nodeId === 'srs',
        5_000,
        'the probe locator to find live/cam1',
      );
    }
    const withSharing = await askedDuring(node, WINDOW_MS);
    await stopAll(shared);
    const alone = await start(`unshared-${process.pid}`, false);
    const withoutSharing = await askedDuring(node, WINDOW_MS);
    const refreshes = WINDOW_MS / REFRESH_MS;
    console.log(`# node asked ${withSharing} times in ${WINDOW_MS} ms by 3 relays sharing answers, ${withoutSharing} without (${refreshes} refresh periods)`);
    assert.ok(withSharing <= refreshes * 1.6, `with sharing: ${withSharing} asks for ${refreshes} refresh periods`);
    assert.ok(withSharing >= refreshes * 0.5, `with sharing the list is still refreshed about once per period: ${withSharing} asks`);
    assert.ok(withoutSharing >= refreshes * 2.5, `without sharing: ${withoutSharing} asks`);
    await stopAll(alone);
  });

  it('Redis away: each relay asks the node itself again (nothing shared, nothing refused)', async () => {
    const shared = await start(`away-${process.pid}`, true);
    await sleep(REFRESH_MS * 2);
    await redis.kill();
    await sleep(REFRESH_MS);
    const asked = await askedDuring(node, WINDOW_MS);
    const refreshes = WINDOW_MS / REFRESH_MS;
    assert.ok(asked >= refreshes * 2.5, `Redis away: ${asked} asks by 3 relays in ${refreshes} refresh periods`);
    for (const relay of shared) assert.equal((await relay.api.call('GET', '/api/resolve?path=/live/cam1.flv')).body.nodeId, 'srs');
    await stopAll(shared);
    await redis.start();
  });
});
