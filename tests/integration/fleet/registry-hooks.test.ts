/**
 * Node publish hooks through the real relay port (relay/node-hooks.ts) into the fleet's stream
 * registry on a real redis-server (fleet/stream-registry.ts), read by the `registry` locator
 * through /api/resolve: every hook format (srs, zlm, mediamtx, nms, json), secrets right,
 * wrong and missing, malformed bodies, the reserved prefix never forwarded, entries expiring
 * without refresh, a second relay on the same Redis seeing what the first was told, a relay
 * alone keeping its own registry in memory, and Redis away: hooks and lookups fail clearly
 * while other routes are served, also by a relay started while Redis is down.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request, sleep, waitFor } from '../../helpers/http.js';
import { missingRedis, RedisServer } from '../../helpers/redis.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const skip = missingRedis();
if (skip) console.log(`# skipping the registry hooks suite: ${skip}`);

const SECRET_A = 'node-a-hook-secret-0123456789';
const SECRET_B = 'node-b-hook-secret-9876543210';
const TTL_MS = 1_500;

/** A node that counts every request it gets (none of the hooks may reach it). */
async function countingOrigin(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits += 1;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function configFor(redisUrl: string, originUrl: string, fleetName: string) {
  return {
    fleet: { redisUrl, name: fleetName, registryTtlMs: TTL_MS, commandTimeoutMs: 500, connectTimeoutMs: 500 },
    nodes: [
      { id: 'a', url: originUrl, hookSecret: SECRET_A },
      { id: 'b', url: originUrl, hookSecret: SECRET_B },
      { id: 'c', url: originUrl },
    ],
    routes: [
      { id: 'live', path: '/live/', kind: 'flv', mode: 'redirect', locate: 'registry' },
      { id: 'files', path: '/', kind: 'file', mode: 'redirect' },
    ],
  };
}

interface HookAnswer {
  status: number;
  json: any;
}

async function hook(relay: StartedRelay, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HookAnswer> {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const answer = await request(
    `${relay.relayUrl}/_relaydeck/hooks/${path}`,
    { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
    text,
  );
  return { status: answer.status, json: JSON.parse(answer.body.toString() || 'null') };
}

async function resolve(relay: StartedRelay, stream: string) {
  return relay.api.call('GET', `/api/resolve?path=${encodeURIComponent(`/live/${stream}.flv`)}`);
}

async function holder(relay: StartedRelay, stream: string): Promise<string | undefined> {
  const answer = await resolve(relay, stream);
  return answer.status === 200 ? answer.body.nodeId : undefined;
}

describe('node hooks into the fleet stream registry (real redis-server)', { skip }, () => {
  const redis = new RedisServer();
  let origin: Awaited<ReturnType<typeof countingOrigin>>;
  let relay: StartedRelay;
  let second: StartedRelay;
  const fleetName = `hooks-${process.pid}`;

  before(async () => {
    await redis.start();
    origin = await countingOrigin();
    relay = await startRelay(configFor(redis.url, origin.url, fleetName));
    second = await startRelay(configFor(redis.url, origin.url, fleetName));
  });
  after(async () => {
    await relay?.stop();
    await second?.stop();
    await origin?.close();
    await redis.stop();
  });

  it('json: publish with the secret (query or bearer) is found by the registry locator, on every relay; unpublish removes it', async () => {
    const published = await hook(relay, `b/json?secret=${SECRET_B}`, { event: 'publish', streams: ['live/cam1'] });
    assert.equal(published.status, 200, JSON.stringify(published.json));
    assert.equal(published.json.code, 0);
    const found = await resolve(relay, 'cam1');
    assert.equal(found.status, 200, JSON.stringify(found.body));
    assert.equal(found.body.nodeId, 'b');
    assert.equal(found.body.locator, 'registry');
    assert.equal(found.body.streamKey, 'live/cam1');
    assert.match(found.body.reason, /"live\/cam1" registered on b \(confirmed [\d.]+ s ago, expires in [\d.]+ s\)/);
    assert.equal(typeof found.body.cacheAgeMs, 'number');
    assert.equal(await holder(second, 'cam1'), 'b', 'the other relay reads the same registry');

    assert.equal((await hook(relay, 'a/json', { event: 'publish', streams: ['live/cam1'] }, { authorization: `Bearer ${SECRET_A}` })).status, 200);
    // The other relay drops its cached answer when the change announcement reaches it (pub/sub, asynchronous).
    await waitFor(async () => (await holder(second, 'cam1')) === 'a', 2_000, 'the publish on a to reach the other relay');
    const both = await resolve(second, 'cam1');
    assert.equal(both.body.nodeId, 'a', 'the newest publish first');
    assert.deepEqual(both.body.fallbackNodeIds, ['b']);

    assert.equal((await hook(relay, `a/json?secret=${SECRET_A}`, { event: 'unpublish', streams: ['live/cam1'] })).status, 200);
    await waitFor(async () => (await holder(second, 'cam1')) === 'b', 2_000, 'the unpublish to reach the other relay');
    await hook(relay, `b/json?secret=${SECRET_B}`, { event: 'unpublish', streams: ['live/cam1'] });
    const gone = await resolve(relay, 'cam1');
    assert.equal(gone.status, 503);
    assert.equal(gone.body.error.code, 'NO_NODE');
    assert.match(gone.body.error.message, /no node has registered "live\/cam1"/);
  });

  it('secrets: wrong, missing, a node without hookSecret, an unknown node: 401 HOOK_UNAUTHORIZED, nothing recorded', async () => {
    const publish = { event: 'publish', streams: ['live/sneaky'] };
    for (const [path, headers, why] of [
      [`b/json?secret=${SECRET_A}`, {}, /wrong secret/],
      ['b/json', { authorization: 'Bearer not-the-secret-at-all' }, /wrong secret/],
      ['b/json', {}, /no secret/],
      [`c/json?secret=${SECRET_A}`, {}, /no hookSecret/],
      [`zz/json?secret=${SECRET_A}`, {}, /no such node/],
    ] as const) {
      const answer = await hook(relay, path, publish, headers);
      assert.equal(answer.status, 401, path);
      assert.equal(answer.json.error.code, 'HOOK_UNAUTHORIZED');
      assert.match(answer.json.error.message, why);
    }
    assert.equal((await resolve(relay, 'sneaky')).status, 503);
  });

  it('srs, zlm, mediamtx and nms formats publish and unpublish', async () => {
    const srs = { server_id: 's', action: 'on_publish', client_id: '1', ip: '127.0.0.1', vhost: '__defaultVhost__', app: 'live', stream: 'srs1' };
    const s1 = await hook(relay, `a/srs?secret=${SECRET_A}`, srs);
    assert.deepEqual([s1.status, s1.json.code], [200, 0]);
    assert.equal(await holder(relay, 'srs1'), 'a');
    assert.equal((await hook(relay, `a/srs?secret=${SECRET_A}`, { ...srs, action: 'on_play' })).json.event, 'ignore');
    await hook(relay, `a/srs?secret=${SECRET_A}`, { ...srs, action: 'on_unpublish' });
    assert.equal(await holder(relay, 'srs1'), undefined);

    const zlm = { regist: true, schema: 'rtmp', app: 'live', stream: 'zlm1', vhost: '__defaultVhost__', mediaServerId: 'z' };
    assert.equal((await hook(relay, `b/zlm?secret=${SECRET_B}`, zlm)).json.code, 0);
    assert.equal(await holder(relay, 'zlm1'), 'b');
    assert.equal((await hook(relay, `b/zlm?secret=${SECRET_B}`, { ...zlm, regist: false, schema: 'hls' })).json.event, 'ignore');
    assert.equal(await holder(relay, 'zlm1'), 'b', 'an hls unregistration leaves the rtmp one');
    await hook(relay, `b/zlm?secret=${SECRET_B}`, { ...zlm, regist: false });
    assert.equal(await holder(relay, 'zlm1'), undefined);

    assert.equal((await hook(relay, `a/mediamtx?event=ready&path=live/mtx1&secret=${SECRET_A}`)).status, 200);
    assert.equal(await holder(relay, 'mtx1'), 'a');
    await hook(relay, `a/mediamtx?event=notready&path=live/mtx1&secret=${SECRET_A}`);
    assert.equal(await holder(relay, 'mtx1'), undefined);

    const nms = { id: 'n', ip: '::1', app: 'live', name: 'nms1', query: {}, protocol: 'rtmp', action: 'postPublish' };
    assert.equal((await hook(relay, `b/nms?secret=${SECRET_B}`, JSON.stringify(nms), { 'content-type': 'text/plain;charset=UTF-8' })).status, 200);
    assert.equal(await holder(relay, 'nms1'), 'b');
    await hook(relay, `b/nms?secret=${SECRET_B}`, { ...nms, action: 'donePublish' });
    assert.equal(await holder(relay, 'nms1'), undefined);
  });

  it('malformed hooks are refused naming the field; the reserved prefix is never routed or forwarded', async () => {
    const secret = `?secret=${SECRET_A}`;
    const cases: [string, string | object | undefined, number, RegExp][] = [
      [`a/json${secret}`, '{"event":', 400, /^body: not valid JSON/],
      [`a/json${secret}`, { event: 'publish', streams: ['live/x'], by: 'me' }, 400, /^by: unknown field/],
      [`a/json${secret}`, { event: 'publish', streams: ['live/x', 5] }, 400, /^streams\[1\]:/],
      [`a/json${secret}`, undefined, 400, /^body: expected a JSON object/],
      [`a/srs${secret}`, { action: 'on_publish', app: 'live' }, 400, /^stream:/],
      [`a/zlm${secret}`, { regist: 'yes', app: 'live', stream: 'x', schema: 'rtmp' }, 400, /^regist:/],
      [`a/mediamtx${secret}&event=ready`, undefined, 400, /^path:/],
      [`a/json${secret}`, { event: 'publish', streams: ['x'.repeat(70 * 1024)] }, 413, /^body: at most/],
      [`a/rtmp${secret}`, {}, 404, /kind one of/],
      [`a${secret}`, {}, 404, /kind one of/],
      [`%zz/json${secret}`, {}, 400, /^nodeId: bad percent-encoding/],
    ];
    for (const [path, body, status, message] of cases) {
      const answer = await hook(relay, path, body);
      assert.equal(answer.status, status, `${path}: ${JSON.stringify(answer.json)}`);
      assert.match(answer.json.error.message, message, path);
    }
    const get = await request(`${relay.relayUrl}/_relaydeck/hooks/a/json${secret}`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
    assert.equal(origin.hits(), 0, 'no hook reached the node behind the catch-all route');
    assert.equal((await request(`${relay.relayUrl}/elsewhere`)).status, 302, 'the catch-all route itself still answers');
  });

  it('an entry not refreshed expires within registryTtlMs; a json refresh keeps it', async () => {
    await hook(relay, `a/json?secret=${SECRET_A}`, { event: 'publish', streams: ['live/kept', 'live/dropped'] });
    const started = Date.now();
    while (Date.now() - started < TTL_MS * 2) {
      await hook(relay, `a/json?secret=${SECRET_A}`, { event: 'refresh', streams: ['live/kept'] });
      await sleep(TTL_MS / 4);
    }
    assert.equal(await holder(second, 'kept'), 'a', 'refreshed: still held');
    const dropped = await resolve(second, 'dropped');
    assert.equal(dropped.status, 503, 'not refreshed: expired');
    assert.match(dropped.body.error.message, /"live\/dropped"/);
  });

  it('Redis away: hooks and registry lookups fail clearly, other routes are served, also by a relay started without Redis', async () => {
    await hook(relay, `a/json?secret=${SECRET_A}`, { event: 'publish', streams: ['live/held'] });
    await redis.kill();
    await waitFor(async () => (await resolve(second, 'nothing')).body.error?.code === 'NO_NODE', 5_000, 'Redis to be seen down');
    const json = await hook(relay, `a/json?secret=${SECRET_A}`, { event: 'publish', streams: ['live/new'] });
    assert.equal(json.status, 503);
    assert.equal(json.json.error.code, 'FLEET_UNAVAILABLE');
    const srs = await hook(relay, `a/srs?secret=${SECRET_A}`, { action: 'on_publish', app: 'live', stream: 'new' });
    assert.deepEqual([srs.status, srs.json.code, srs.json.recorded], [200, 0, false], "a node's publish gate is never refused for Redis");

    const restarted = await startRelay(configFor(redis.url, origin.url, fleetName));
    try {
      const lookup = await resolve(restarted, 'held');
      assert.equal(lookup.status, 503);
      assert.equal(lookup.body.error.code, 'NO_NODE');
      assert.match(lookup.body.error.message, /stream registry cannot be read for "live\/held"/);
      const viewer = await request(`${restarted.relayUrl}/live/held.flv`);
      assert.equal(viewer.status, 503);
      const other = await request(`${restarted.relayUrl}/files/a.txt`);
      assert.equal(other.status, 302, 'the route with another locator is served');
      assert.equal(other.headers.location, `${origin.url}/files/a.txt`);
    } finally {
      await restarted.stop();
    }
    // A Redis that comes back empty (no persistence here) knows what the nodes announce from then on: their next hook or heartbeat.
    await redis.start();
    await waitFor(
      async () => (await hook(relay, `a/json?secret=${SECRET_A}`, { event: 'refresh', streams: ['live/held'] })).status === 200,
      10_000,
      'hooks to be recorded again once Redis is back',
    );
    assert.equal(await holder(second, 'held'), 'a', 'the registry answers again');
  });
});

describe('a relay alone keeps its own stream registry in memory', () => {
  let relay: StartedRelay;
  before(async () => {
    relay = await startRelay({
      fleet: { registryTtlMs: 1_000 },
      nodes: [{ id: 'a', url: 'http://127.0.0.1:9', hookSecret: SECRET_A }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'redirect', locate: 'registry' }],
    });
  });
  after(() => relay?.stop());

  it('hooks publish into it, entries expire by the same TTL', async () => {
    assert.equal((await hook(relay, `a/json?secret=${SECRET_A}`, { event: 'publish', streams: ['live/solo'] })).status, 200);
    const found = await resolve(relay, 'solo');
    assert.equal(found.body.nodeId, 'a');
    assert.match(found.body.reason, /\(memory\)/);
    const jump = await request(`${relay.relayUrl}/live/solo.flv`);
    assert.equal(jump.status, 302);
    await sleep(1_100);
    assert.equal((await resolve(relay, 'solo')).status, 503, 'expired after registryTtlMs');
  });
});
