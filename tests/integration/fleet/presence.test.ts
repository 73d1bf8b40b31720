/**
 * Fleet presence and fleet-wide viewer caps with three relay processes (`relaydeck serve`)
 * sharing a real redis-server, and real HTTP-FLV viewers through a live FLV node:
 *  - a per-stream cap of N holds across the three relays: N+5 viewers spread over them
 *    get exactly 5 refusals (503 VIEWER_LIMIT); a viewer leaving frees a place on any relay;
 *  - GET /api/fleet lists the relays and the streams with each relay's viewers;
 *  - a relay killed with SIGKILL is shown gone within fleet.expiryMs (+ one heartbeat), the
 *    fleet's viewer totals drop by its viewers, and its places under the cap are free again.
 * Skips with the printed reason when redis-server is missing.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FleetDto } from '../../../shared/dto.js';
import { HttpApiClient } from '../../helpers/api-client.js';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../helpers/flv-viewer.js';
import { sleep, waitFor } from '../../helpers/http.js';
import { missingRedis, RedisServer } from '../../helpers/redis.js';
import { spawnServe, type ServeProcess } from '../../helpers/serve-process.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const TOKEN = 'fleet-presence-token-0123456789';
const HEARTBEAT_MS = 200;
const EXPIRY_MS = 1_500;
/** The fleet-wide per-stream cap under test. */
const CAP = 4;
const skip = missingRedis();
if (skip) console.log(`# fleet presence suite skipped: ${skip}`);

interface Relay {
  id: string;
  run: ServeProcess;
  relayUrl: string;
  api: HttpApiClient;
}

async function fleetOf(relay: Relay): Promise<FleetDto> {
  const answer = await relay.api.call<FleetDto>('GET', '/api/fleet');
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** Viewers of the capped stream per relay id, as getFleet lists them. */
function cappedPerRelay(fleet: FleetDto): Record<string, number> {
  const out: Record<string, number> = {};
  for (const stream of fleet.streams)
    if (stream.routeId === 'capped') for (const relay of stream.relays) out[relay.relayId] = (out[relay.relayId] ?? 0) + relay.viewers;
  return Object.fromEntries(Object.entries(out).sort());
}

describe('fleet presence and fleet-wide caps (three relay processes)', { skip }, () => {
  const redis = new RedisServer();
  const origin = new LiveFlvOrigin({ fps: 10, gopFrames: 10, keyframeBytes: 2_000, interBytes: 500 });
  const relays: Relay[] = [];
  const viewers: FlvTestViewer[] = [];
  let dir = '';

  before(async () => {
    await redis.start();
    const originUrl = await origin.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-fleet-presence-'));
    const fleetName = `presence-${process.pid}`;
    await Promise.all(
      ['r1', 'r2', 'r3'].map(async (id) => {
        const configPath = path.join(dir, `${id}.json`);
        const config = {
          relay: { port: 0, shutdownGraceMs: 0 },
          admin: { port: 0, token: TOKEN },
          health: { intervalMs: 0 },
          fleet: { redisUrl: redis.url, name: fleetName, relayId: id, heartbeatMs: HEARTBEAT_MS, expiryMs: EXPIRY_MS },
          nodes: [{ id: 'origin', url: originUrl }],
          routes: [
            { id: 'capped', path: '/capped/', kind: 'flv', mode: 'proxy', stripPrefix: true, nodes: ['origin'], limits: { maxViewersPerStream: CAP } },
            { id: 'free', path: '/free/', kind: 'flv', mode: 'proxy', stripPrefix: true, nodes: ['origin'] },
          ],
        };
        await fs.writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
        const run = spawnServe(['--import', 'tsx', 'electron/engine/cli.ts', 'serve', '--config', configPath], { RELAYDECK_LOG_LEVEL: 'warn' }, ROOT);
        const { relay, admin } = await run.addresses();
        relays.push({ id, run, relayUrl: relay, api: new HttpApiClient(admin, TOKEN) });
      }),
    );
    relays.sort((a, b) => a.id.localeCompare(b.id));
    // Every relay has seen the two others.
    for (const relay of relays)
      await waitFor(async () => (await fleetOf(relay)).relays.filter((r) => r.state === 'up').length === 3, 10_000, `${relay.id} sees three relays up`);
  });

  after(async () => {
    for (const viewer of viewers) viewer.close();
    for (const relay of relays) relay.run.child.kill('SIGKILL');
    await Promise.all(relays.map((relay) => relay.run.exited));
    await origin.stop();
    await redis.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it(`a per-stream cap of ${CAP} holds across three relays: ${CAP + 5} viewers spread over them get exactly 5 refusals (503 VIEWER_LIMIT); getFleet shows each relay's viewers; a viewer leaving frees a place on another relay`, async () => {
    const opened = await Promise.all(
      Array.from({ length: CAP + 5 }, (_, i) =>
        new FlvTestViewer(`${relays[i % 3].relayUrl}/capped/live/cam1.flv`).open().then((viewer) => ({ viewer, relay: relays[i % 3] })),
      ),
    );
    for (const { viewer } of opened) viewers.push(viewer);
    const admitted = opened.filter(({ viewer }) => viewer.status === 200);
    const refused = opened.filter(({ viewer }) => viewer.status !== 200);
    assert.equal(admitted.length, CAP, `statuses: ${opened.map(({ viewer }) => viewer.status).join(',')}`);
    assert.equal(refused.length, 5);
    await waitFor(() => refused.every(({ viewer }) => viewer.ended), 5_000, 'the refusals read');
    for (const { viewer } of refused) {
      assert.equal(viewer.status, 503);
      assert.equal(viewer.json().error.code, 'VIEWER_LIMIT');
      assert.match(viewer.json().error.message, /maxViewersPerStream \(4\) viewers across the fleet/);
    }
    // The admitted viewers get media.
    await waitFor(() => admitted.every(({ viewer }) => viewer.firstKeyframeAt > 0), 10_000, 'every admitted viewer got a keyframe');

    const expected: Record<string, number> = {};
    for (const { relay } of admitted) expected[relay.id] = (expected[relay.id] ?? 0) + 1;
    for (const relay of relays) {
      const fleet = await waitFor(
        async () => {
          const dto = await fleetOf(relay);
          return JSON.stringify(cappedPerRelay(dto)) === JSON.stringify(Object.fromEntries(Object.entries(expected).sort())) ? dto : undefined;
        },
        5_000,
        `getFleet on ${relay.id} lists the viewers per relay ${JSON.stringify(expected)}`,
      );
      const stream = fleet.streams.find((s) => s.routeId === 'capped');
      assert.equal(stream?.streamKey, 'live/cam1');
      assert.equal(stream?.viewers, CAP);
      assert.ok(
        stream?.relays.every((r) => r.nodeId === 'origin'),
        'each relay serves it through the node',
      );
      assert.equal(fleet.relays.find((r) => r.self)?.id, relay.id);
      assert.equal(fleet.enabled, true);
      assert.equal(fleet.redis.state, 'up');
      assert.ok(
        fleet.relays.every(
          (r) => r.state === 'up' && r.configVersion === fleet.configVersion && r.configVersion >= 1 && r.version !== '' && r.url.startsWith('http://'),
        ),
        `every relay up with the fleet's config version: ${JSON.stringify(fleet.relays)}`,
      );
    }

    // A viewer leaves: a place is free on every relay; a new viewer on another relay takes it, and the next one is refused.
    const leaving = admitted[0];
    leaving.viewer.close();
    const other = relays.find((r) => r !== leaving.relay) as Relay;
    const next = await waitFor(
      async () => {
        const viewer = await new FlvTestViewer(`${other.relayUrl}/capped/live/cam1.flv`).open();
        if (viewer.status === 200) return viewer;
        viewer.close();
        return undefined;
      },
      5_000,
      'a viewer on another relay takes the freed place',
    );
    viewers.push(next);
    const over = await new FlvTestViewer(`${relays[2].relayUrl}/capped/live/cam1.flv`).open();
    viewers.push(over);
    assert.equal(over.status, 503, 'the cap is full again');
  });

  it('a relay killed with SIGKILL is gone within fleet.expiryMs (+ one heartbeat) on the others; the fleet totals drop by its viewers; its places under the cap are freed', async () => {
    const [r1, , r3] = relays;
    // The capped stream's places: 2 on r3, 2 on r1 (the cap is full).
    for (const viewer of viewers.splice(0)) viewer.close();
    for (const relay of relays)
      await waitFor(async () => ((await relay.api.call('GET', '/api/sessions')).body as unknown[]).length === 0, 5_000, `${relay.id} has no viewers left`);
    for (const relay of [r3, r3, r1, r1]) {
      const viewer = await new FlvTestViewer(`${relay.relayUrl}/capped/live/cam1.flv`).open();
      viewers.push(viewer);
      assert.equal(viewer.status, 200);
    }
    // Viewers of an uncapped route: 1 on r1, 2 on r2, 3 on r3.
    for (const [index, count] of [1, 2, 3].entries())
      for (let n = 0; n < count; n += 1) viewers.push(await new FlvTestViewer(`${relays[index].relayUrl}/free/live/cam1.flv`).open());
    const perRelay = async () => {
      const fleet = await fleetOf(r1);
      return Object.fromEntries(fleet.relays.map((r) => [r.id, r.viewers]));
    };
    // What each relay serves now (capped viewers included), as the relays themselves count them.
    const own: Record<string, number> = {};
    for (const relay of relays) own[relay.id] = ((await relay.api.call('GET', '/api/sessions')).body as unknown[]).length;
    await waitFor(async () => JSON.stringify(await perRelay()) === JSON.stringify(own), 5_000, `getFleet shows each relay's viewers ${JSON.stringify(own)}`);
    const before = await fleetOf(r1);
    assert.equal(before.totals.viewers, own.r1 + own.r2 + own.r3);
    assert.equal(before.totals.relays, 3);
    const r3Capped = cappedPerRelay(before).r3 ?? 0;
    assert.equal(r3Capped, 2);

    const killedAt = Date.now();
    r3.run.child.kill('SIGKILL');
    await r3.run.exited;
    const gone = await waitFor(
      async () => {
        const fleet = await fleetOf(r1);
        return fleet.relays.find((r) => r.id === 'r3')?.state === 'gone' ? fleet : undefined;
      },
      EXPIRY_MS + 5_000,
      'r3 shown gone',
    );
    const goneAfterMs = Date.now() - killedAt;
    console.log(`# relay killed: shown gone after ${goneAfterMs} ms (fleet.expiryMs ${EXPIRY_MS}, heartbeat ${HEARTBEAT_MS})`);
    assert.ok(goneAfterMs <= EXPIRY_MS + HEARTBEAT_MS, `gone after ${goneAfterMs} ms`);
    const r3Row = gone.relays.find((r) => r.id === 'r3');
    assert.ok(
      r3Row && r3Row.lastSeenAt <= killedAt + 50 && r3Row.lastSeenAt >= killedAt - HEARTBEAT_MS - 200,
      `last seen ${r3Row?.lastSeenAt} vs killed ${killedAt}`,
    );
    assert.equal(r3Row?.version !== '', true, 'a gone relay keeps its version and URL');
    assert.equal(gone.totals.relays, 2);
    assert.equal(gone.totals.viewers, before.totals.viewers - own.r3, 'the totals drop by its viewers');
    assert.ok(
      gone.streams.every((s) => s.relays.every((r) => r.relayId !== 'r3')),
      'no stream lists it',
    );

    // Its capped viewers drop out of the fleet's counts with its presence: as many new viewers are admitted (on r1 and r2), no more.
    for (let n = 0; n < r3Capped; n += 1) {
      const viewer = await new FlvTestViewer(`${relays[1].relayUrl}/capped/live/cam1.flv`).open();
      viewers.push(viewer);
      assert.equal(viewer.status, 200, `freed place ${n + 1} of ${r3Capped}`);
    }
    await sleep(50);
    const over = await new FlvTestViewer(`${r1.relayUrl}/capped/live/cam1.flv`).open();
    viewers.push(over);
    assert.equal(over.status, 503, 'the cap holds again once the freed places are taken');
  });
});
