/**
 * The fleet's shared config (issue 16 point 2) with a real redis-server and real engines (three
 * relays in this process, each on its own ports with its own config file): seeding from the
 * first relay's file, a route change on one relay answering on the others within 1 s, 20
 * concurrent changes from three relays ending in one version with none lost (each applied or
 * answered 409), an invalid document in Redis refused and reported, and Redis killed: the relays
 * keep serving (a redirect route, a proxied FLV viewer), a shared change answers 503, a relay
 * restarted meanwhile serves its last good copy (a new one its file), and once Redis is back a change on one relay
 * reaches the others with no restart.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Engine } from '../../../electron/engine/engine.js';
import type { SharedConfigStatus } from '../../../electron/engine/fleet/shared-config.js';
import { HttpApiClient } from '../../helpers/api-client.js';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../helpers/flv-viewer.js';
import { request, sleep, waitFor } from '../../helpers/http.js';
import { missingRedis, RedisServer } from '../../helpers/redis.js';
import { TEST_TOKEN, testConfig } from '../../helpers/relay.js';

const skip = missingRedis();
if (skip) console.log(`# skipping the fleet shared config suite: ${skip}`);

/** How long Redis stays down in the long test (the figure). */
const REDIS_DOWN_MS = 30_000;

const NODE = { id: 'a', url: 'http://127.0.0.2:8000' };
const redirectRoute = (id: string) => ({ id, path: `/${id}/`, kind: 'file', mode: 'redirect', nodes: ['a'] });

interface FleetRelay {
  id: string;
  engine: Engine;
  api: HttpApiClient;
  configPath: string;
}

let fleetCount = 0;

/** The shared config's status of a relay (the part getFleet reads). */
function statusOf(relay: FleetRelay): SharedConfigStatus {
  const fleet = relay.engine['fleet'];
  assert.ok(fleet, `${relay.id} runs in fleet mode`);
  return fleet.sharedConfig.status();
}

function linkUp(relay: FleetRelay): boolean {
  return relay.engine['fleet']?.link.up === true;
}

/** The status of GET <relay>/<route id>/x: 302 once the relay has the redirect route, 404 before. */
async function routeStatus(relay: FleetRelay, routeId: string): Promise<number> {
  return (await request(`${relay.engine.relayUrl}/${routeId}/x`)).status;
}

/** Wait until `relay` answers the redirect route `routeId`; returns ms waited. */
async function routeAnswers(relay: FleetRelay, routeId: string, ms: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if ((await routeStatus(relay, routeId)) === 302) return performance.now() - started;
    if (performance.now() - started > ms)
      throw new Error(`${relay.id} did not answer route ${routeId} within ${ms} ms (config version ${statusOf(relay).version})`);
    await sleep(2);
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('fleet shared config', { skip }, () => {
  const redis = new RedisServer();
  let dir = '';
  const running = new Set<FleetRelay>();
  const clients: Redis[] = [];

  before(async () => {
    await redis.start();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-fleet-config-'));
  });
  after(async () => {
    for (const relay of running) await relay.engine.stop();
    for (const client of clients) client.disconnect();
    await redis.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** Start relay `id` of fleet `fleet` with its own config file (kept across a restart of the same id). */
  async function startFleetRelay(fleet: string, id: string, partial: Record<string, unknown> = {}): Promise<FleetRelay> {
    const configPath = path.join(dir, fleet, id, 'config.json');
    const config = testConfig({
      ...partial,
      fleet: { redisUrl: redis.url, name: fleet, relayId: id, commandTimeoutMs: 500, connectTimeoutMs: 500 },
    });
    const engine = await Engine.start({ config, configPath });
    const relay = { id, engine, api: new HttpApiClient(engine.adminUrl, TEST_TOKEN), configPath };
    running.add(relay);
    return relay;
  }

  async function stopRelay(relay: FleetRelay): Promise<void> {
    running.delete(relay);
    await relay.engine.stop();
  }

  /** Three relays of a new fleet: the first seeds it (one node, route `live`), the others start with no routes. */
  async function startFleet(extra: Record<string, unknown> = {}): Promise<{ name: string; relays: FleetRelay[] }> {
    const name = `f${++fleetCount}-${process.pid}`;
    const first = await startFleetRelay(name, 'r1', { relay: { shutdownGraceMs: 100 }, nodes: [NODE], routes: [redirectRoute('live')], ...extra });
    const others = await Promise.all(['r2', 'r3'].map((id) => startFleetRelay(name, id)));
    return { name, relays: [first, ...others] };
  }

  function redisClient(): Redis {
    const client = new Redis(redis.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined); // reconnects while the long test holds Redis down
    clients.push(client);
    return client;
  }

  it('the first relay seeds the fleet from its file; the others serve the fleet version, not their own file', async () => {
    const { name, relays } = await startFleet();
    for (const relay of relays) {
      assert.equal(await routeStatus(relay, 'live'), 302, `${relay.id} serves the fleet's route`);
      const status = statusOf(relay);
      assert.equal(status.version, 1, relay.id);
      assert.equal(status.source, 'fleet', relay.id);
      assert.equal(status.by, 'r1', relay.id);
    }
    const stored = JSON.parse((await redisClient().get(`relaydeck:{${name}}:config`)) ?? '{}');
    assert.equal(stored.version, 1);
    assert.equal(stored.by, 'r1');
    assert.equal('admin' in stored.config, false, 'local sections stay out of Redis');
    assert.equal('port' in stored.config.relay, false, 'relay.port stays local');
    // The last good copy: beside the config file, mode 0600, the stored document.
    const lastGood = path.join(path.dirname(relays[1].configPath), `fleet-${name}.last-good.json`);
    await waitFor(async () => (await fs.stat(lastGood).catch(() => undefined)) !== undefined, 2000, 'the last good copy');
    assert.equal((await fs.stat(lastGood)).mode & 0o777, 0o600);
    assert.equal(JSON.parse(await fs.readFile(lastGood, 'utf8')).version, 1);
    for (const relay of relays) await stopRelay(relay);
  });

  it('a route change made on relay 1 answers on relays 2 and 3 within 1 s (20 changes, p50/p99 printed)', async () => {
    const { relays } = await startFleet();
    const [one, ...others] = relays;
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const id = `p${i}`;
      assert.equal(await routeStatus(others[0], id), 404);
      const created = await one.api.call('POST', '/api/routes', redirectRoute(id));
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const started = performance.now();
      await Promise.all(others.map((relay) => routeAnswers(relay, id, 1000)));
      times.push(performance.now() - started);
    }
    console.log(
      `# config propagation to 2 relays: p50 ${percentile(times, 50).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
    );
    assert.ok(Math.max(...times) < 1000);
    for (const relay of relays) assert.equal(statusOf(relay).version, 21, relay.id);
    // The change went to the fleet, not into the other relays' files: their files keep only local sections.
    const file = JSON.parse(await fs.readFile(one.configPath, 'utf8').catch(() => '{}'));
    assert.equal(file.routes?.some((r: { id: string }) => r.id === 'p0') ?? false, false, "relay 1's file does not take the shared change");
    for (const relay of relays) await stopRelay(relay);
  });

  it('20 concurrent changes from three relays end in one version on all three; each is applied or answered 409, none lost', async () => {
    const { relays } = await startFleet();
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => relays[i % 3].api.call('POST', '/api/routes', redirectRoute(`c${i}`))));
    const created = answers.flatMap((answer, i) => (answer.status >= 200 && answer.status < 300 ? [`c${i}`] : []));
    const conflicts = answers.filter((answer) => answer.status === 409);
    for (const answer of answers) assert.ok(answer.status === 201 || answer.status === 409, `${answer.status} ${JSON.stringify(answer.body)}`);
    for (const conflict of conflicts) {
      assert.equal(conflict.body.error.code, 'CONFIG_CONFLICT');
      assert.match(conflict.body.error.message, /read the new version and retry/);
    }
    console.log(`# 20 concurrent changes: ${created.length} applied, ${conflicts.length} answered 409`);
    assert.ok(created.length >= 1);
    const version = 1 + created.length;
    await waitFor(() => relays.every((relay) => statusOf(relay).version === version), 2000, `version ${version} on every relay`);
    for (const relay of relays) {
      const ids = relay.engine.config.routes.map((r) => r.id).filter((id) => id.startsWith('c'));
      assert.deepEqual(ids.sort(), [...created].sort(), `${relay.id}: applied routes are exactly the 2xx answers`);
    }
    // Callers that retry on 409 get every change in.
    const retried = await Promise.all(
      Array.from({ length: 9 }, async (_, i) => {
        for (let attempt = 0; attempt < 50; attempt++) {
          const answer = await relays[i % 3].api.call('POST', '/api/routes', redirectRoute(`t${i}`));
          if (answer.status === 201) return attempt;
          assert.equal(answer.status, 409, JSON.stringify(answer.body));
          await sleep(5 + Math.random() * 20);
        }
        throw new Error(`t${i} never applied`);
      }),
    );
    await waitFor(
      () => relays.every((relay) => relay.engine.config.routes.filter((r) => r.id.startsWith('t')).length === 9),
      2000,
      'the 9 retried changes on every relay',
    );
    console.log(`# 9 changes retried on 409: ${retried.reduce((a, b) => a + b, 0)} retries in all`);
    for (const relay of relays) await stopRelay(relay);
  });

  it('an invalid document written straight into Redis is not applied: the old config is kept and reported; a valid change replaces it', async () => {
    const { name, relays } = await startFleet();
    const client = redisClient();
    const key = `relaydeck:{${name}}:config`;
    const stored = JSON.parse((await client.get(key)) ?? '{}');
    const bad = {
      ...stored,
      version: 2,
      by: 'test',
      config: { ...stored.config, routes: [{ id: 'bad', path: 'no-slash', kind: 'file', mode: 'redirect', nodes: ['a'] }] },
    };
    await client.set(key, JSON.stringify(bad));
    await client.publish(`relaydeck:{${name}}:ch:config`, JSON.stringify({ version: 2 }));
    await waitFor(() => relays.every((relay) => statusOf(relay).lastRejected?.version === 2), 2000, 'every relay to report version 2 rejected');
    for (const relay of relays) {
      const status = statusOf(relay);
      assert.equal(status.version, 1, relay.id);
      assert.match(status.lastRejected?.error ?? '', /routes/);
      assert.equal(await routeStatus(relay, 'live'), 302, `${relay.id} keeps serving`);
    }
    // Not JSON at all: refused too.
    await client.set(key, '{not json');
    await client.publish(`relaydeck:{${name}}:ch:config`, 'x');
    await waitFor(() => relays.every((relay) => /JSON/.test(statusOf(relay).lastRejected?.error ?? '')), 2000, 'every relay to report the unreadable document');
    assert.ok(relays.every((relay) => statusOf(relay).version === 1));
    // A valid change made on any relay replaces the refused document, and every relay takes it.
    const created = await relays[1].api.call('POST', '/api/routes', redirectRoute('fixed'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await Promise.all(relays.map((relay) => routeAnswers(relay, 'fixed', 1000)));
    assert.equal(JSON.parse((await client.get(key)) ?? '{}').version, 2);
    for (const relay of relays) await stopRelay(relay);
  });

  it('a version whose announcement was lost is caught up within a heartbeat: a relay serving it says so in its presence', async () => {
    const { name, relays } = await startFleet();
    const client = redisClient();
    const key = `relaydeck:{${name}}:config`;
    const stored = JSON.parse((await client.get(key)) ?? '{}');
    // Written as a compare-and-set whose answer never came back would leave it: in Redis, never announced.
    const next = { ...stored, version: 2, by: 'lost', config: { ...stored.config, routes: [...stored.config.routes, redirectRoute('unannounced')] } };
    await client.set(key, JSON.stringify(next));
    await sleep(300);
    assert.equal(await routeStatus(relays[0], 'unannounced'), 404, 'nothing was announced: no relay has read it yet');
    // A relay that starts now reads it, and its heartbeat tells the others there is a newer version.
    const late = await startFleetRelay(name, 'r4');
    await routeAnswers(late, 'unannounced', 1000);
    await Promise.all(relays.map((relay) => routeAnswers(relay, 'unannounced', 3000)));
    for (const relay of [...relays, late]) assert.equal(statusOf(relay).version, 2, relay.id);
    for (const relay of [...relays, late]) await stopRelay(relay);
  });

  it('a change of local sections only stays on the relay and needs no Redis round trip; its file gets it', async () => {
    const { relays } = await startFleet();
    const [one, two] = relays;
    await one.engine.changeConfig((draft) => {
      draft.admin.maxFailedAuthPerMinute = 7;
    });
    assert.equal(statusOf(one).version, 1);
    assert.equal(two.engine.config.admin.maxFailedAuthPerMinute === 7, false);
    const file = JSON.parse(await fs.readFile(one.configPath, 'utf8'));
    assert.equal(file.admin.maxFailedAuthPerMinute, 7);
    for (const relay of relays) await stopRelay(relay);
  });

  it('a change of both parts: the fleet takes the shared part, the file the local part', async () => {
    const { relays } = await startFleet();
    const [one, two] = relays;
    await one.engine.changeConfig((draft) => {
      draft.admin.maxFailedAuthPerMinute = 8;
      draft.routes.push(redirectRoute('both') as never);
    });
    assert.equal(statusOf(one).version, 2);
    await routeAnswers(two, 'both', 1000);
    assert.notEqual(two.engine.config.admin.maxFailedAuthPerMinute, 8, 'local sections stay local');
    const file = JSON.parse(await fs.readFile(one.configPath, 'utf8'));
    assert.equal(file.admin.maxFailedAuthPerMinute, 8);
    assert.equal(file.routes?.some((r: { id: string }) => r.id === 'both') ?? false, false);
    for (const relay of relays) await stopRelay(relay);
  });

  it('a reload of the file (SIGHUP) in fleet mode takes its local sections and leaves the shared part to the fleet', async () => {
    const { relays } = await startFleet();
    const [one] = relays;
    await one.engine.replaceConfig(testConfig({ admin: { maxFailedAuthPerMinute: 11 }, routes: [] }));
    assert.equal(one.engine.config.admin.maxFailedAuthPerMinute, 11);
    assert.deepEqual(
      one.engine.config.routes.map((r) => r.id),
      ['live'],
    );
    assert.equal(statusOf(one).version, 1);
    for (const relay of relays) await stopRelay(relay);
  });

  it('versions only go up: an older document put into Redis is not applied, and the newest version is written back', async () => {
    const { name, relays } = await startFleet();
    const client = redisClient();
    const key = `relaydeck:{${name}}:config`;
    for (const id of ['v2', 'v3']) assert.equal((await relays[0].api.call('POST', '/api/routes', redirectRoute(id))).status, 201);
    await waitFor(() => relays.every((relay) => statusOf(relay).version === 3), 2000, 'version 3 everywhere');
    const stored = JSON.parse((await client.get(key)) ?? '{}');
    await client.set(key, JSON.stringify({ ...stored, version: 2, by: 'test', config: { ...stored.config, routes: [] } }));
    await client.publish(`relaydeck:{${name}}:ch:config`, JSON.stringify({ version: 2 }));
    // A message naming an older version is not even read; a relay that reads the store (here: after a conflict) writes its newer version back.
    const conflict = await relays[1].api.call('POST', '/api/routes', redirectRoute('v4'));
    assert.equal(conflict.status, 409, JSON.stringify(conflict.body));
    await waitFor(async () => JSON.parse((await client.get(key)) ?? '{}').version === 3, 2000, 'version 3 written back');
    for (const relay of relays) {
      assert.equal(statusOf(relay).version, 3, relay.id);
      assert.equal(await routeStatus(relay, 'v3'), 302, relay.id);
    }
    assert.equal((await relays[1].api.call('POST', '/api/routes', redirectRoute('v4'))).status, 201);
    await Promise.all(relays.map((relay) => routeAnswers(relay, 'v4', 1000)));
    for (const relay of relays) await stopRelay(relay);
  });

  it("a seed from a relay's file does not win over relays holding that version from the fleet (a Redis that lost its data)", async () => {
    const { name, relays } = await startFleet();
    const client = redisClient();
    const key = `relaydeck:{${name}}:config`;
    const stored = JSON.parse((await client.get(key)) ?? '{}');
    // What a new relay with an empty file would write first into a Redis that lost the fleet's document.
    await client.set(key, JSON.stringify({ version: 1, by: 'newcomer', at: Date.now(), from: 'file', config: { ...stored.config, routes: [] } }));
    await client.publish(`relaydeck:{${name}}:ch:config`, JSON.stringify({ version: 1, by: 'newcomer', seed: true }));
    await waitFor(async () => JSON.parse((await client.get(key)) ?? '{}').by !== 'newcomer', 2000, "the fleet's version written back");
    const back = JSON.parse((await client.get(key)) ?? '{}');
    assert.equal(back.version, 1);
    assert.equal(back.from, undefined);
    assert.deepEqual(
      back.config.routes.map((r: { id: string }) => r.id),
      ['live'],
    );
    await sleep(100);
    for (const relay of relays) assert.equal(await routeStatus(relay, 'live'), 302, `${relay.id} keeps the fleet's routes`);
    for (const relay of relays) await stopRelay(relay);
  });

  it(`Redis killed for ${REDIS_DOWN_MS / 1000} s: relays keep serving, shared changes answer 503, a restarted relay serves its last good copy; Redis back: changes flow again`, async () => {
    const origin = new LiveFlvOrigin();
    let redisDown = false;
    const originUrl = await origin.start();
    try {
      const { name, relays } = await startFleet({
        nodes: [NODE, { id: 'flv', url: originUrl }],
        routes: [redirectRoute('home'), { id: 'cam', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['flv'] }],
      });
      const [one, two, three] = relays;
      const viewer = await new FlvTestViewer(`${two.engine.relayUrl}/live/cam1.flv`, false).open();
      assert.equal(viewer.status, 200);
      await waitFor(() => viewer.firstKeyframeAt > 0, 3000, 'the viewer to play');
      // The last good copy is on disk before Redis goes away.
      const lastGood = path.join(path.dirname(three.configPath), `fleet-${name}.last-good.json`);
      await waitFor(async () => (await fs.stat(lastGood).catch(() => undefined)) !== undefined, 2000, 'the last good copy');

      await redis.kill();
      redisDown = true;
      const downAt = Date.now();
      await waitFor(() => relays.every((relay) => !linkUp(relay)), 3000, 'every relay to see Redis down');
      const refused = await one.api.call('POST', '/api/routes', redirectRoute('while-down'));
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'FLEET_UNAVAILABLE');
      assert.match(refused.body.error.message, /unreachable/);
      assert.equal(
        one.engine.config.routes.some((r) => r.id === 'while-down'),
        false,
        'nothing applied',
      );
      // Local sections still change while Redis is away.
      await one.engine.changeConfig((draft) => {
        draft.admin.maxFailedAuthPerMinute = 9;
      });

      // Relay 3 restarts while Redis is down: it starts with no routes in its file, and serves the fleet's from its last good copy.
      await stopRelay(three);
      const restarted = await startFleetRelay(name, 'r3');
      assert.equal(statusOf(restarted).source, 'last-good');
      assert.equal(statusOf(restarted).version, 1);
      assert.equal(await routeStatus(restarted, 'home'), 302, 'the restarted relay serves the last good config');
      // A new relay with no last good copy serves its own file (no routes) until Redis is back.
      const fresh = await startFleetRelay(name, 'r4');
      assert.equal(statusOf(fresh).source, 'local');
      assert.equal(statusOf(fresh).version, 0);
      assert.equal(await routeStatus(fresh, 'home'), 404);

      // Hold Redis down; the relays keep serving: the redirect answers and the proxied viewer keeps receiving.
      while (Date.now() - downAt < REDIS_DOWN_MS) {
        const before = viewer.bytes;
        await sleep(2000);
        assert.ok(viewer.bytes > before, 'the FLV viewer keeps receiving bytes while Redis is down');
        assert.equal(viewer.ended, false);
        for (const relay of [one, two, restarted]) assert.equal(await routeStatus(relay, 'home'), 302, `${relay.id} serves while Redis is down`);
      }
      const late = await new FlvTestViewer(`${one.engine.relayUrl}/live/cam1.flv`, false).open();
      assert.equal(late.status, 200, 'a new viewer is served while Redis is down');
      await waitFor(() => late.firstKeyframeAt > 0, 3000, 'the new viewer to play');
      late.close();

      // Redis back (empty: no persistence): the relays reseed their version and changes flow with no restart.
      await redis.start();
      redisDown = false;
      const live = [one, two, restarted, fresh];
      await waitFor(() => live.every(linkUp), 10_000, 'every relay to see Redis again');
      await waitFor(() => live.every((relay) => statusOf(relay).source === 'fleet'), 5000, 'every relay back on the fleet store');
      let created = await one.api.call('POST', '/api/routes', redirectRoute('after'));
      for (let i = 0; created.status === 409 && i < 20; i++) {
        await sleep(50);
        created = await one.api.call('POST', '/api/routes', redirectRoute('after'));
      }
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await Promise.all([two, restarted, fresh].map((relay) => routeAnswers(relay, 'after', 2000)));
      assert.equal(await routeStatus(fresh, 'home'), 302, "the new relay serves the fleet's config, not its file's");
      assert.ok(live.every((relay) => statusOf(relay).version === 2));
      assert.ok(viewer.bytes > 0 && !viewer.ended, 'the viewer played through');
      viewer.close();
      for (const relay of live) await stopRelay(relay);
    } finally {
      if (redisDown) await redis.start();
      await origin.stop();
    }
  });

  it('a relay without fleet.redisUrl has no fleet part and saves every change into its file as before', async () => {
    const configPath = path.join(dir, 'alone', 'config.json');
    const engine = await Engine.start({ config: testConfig({ nodes: [NODE] }), configPath });
    try {
      assert.equal(engine['fleet'], undefined);
      await engine.changeConfig((draft) => {
        draft.routes.push(redirectRoute('solo') as never);
      });
      const file = JSON.parse(await fs.readFile(configPath, 'utf8'));
      assert.deepEqual(
        file.routes.map((r: { id: string }) => r.id),
        ['solo'],
      );
    } finally {
      await engine.stop();
    }
  });
});
