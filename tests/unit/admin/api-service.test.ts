/**
 * The operator API over a plain fake of its operations (admin/operations.ts): no engine,
 * no sockets. Inputs are validated before any operation runs, with errors naming the field;
 * unknown ids are NOT_FOUND; pause and resume go through isPaused/setPaused; a config change
 * is judged as a whole config (the fake's transaction validates with parseConfig, as the
 * engine's does) and a refused change leaves the running config as it was.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig, type RelayDeckConfig } from '../../../shared/config.js';
import type { NodeDto, SessionDto } from '../../../shared/dto.js';
import { createApiService } from '../../../electron/engine/admin/api-service.js';
import type { ApiOperations } from '../../../electron/engine/admin/operations.js';
import { toRelayError, type ErrorCode } from '../../../electron/engine/core/errors.js';
import { RouteTable } from '../../../electron/engine/routing/route-table.js';
import type { StreamLocator } from '../../../electron/engine/upstream/locator.js';

const START_CONFIG = {
  relay: { port: 0 },
  admin: { port: 0, token: 'x'.repeat(20) },
  nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }],
  routes: [
    { id: 'live', path: '/live/', kind: 'flv', mode: 'redirect', nodes: ['a'] },
    { id: 'vod', path: '/vod/', kind: 'file', mode: 'proxy' },
  ],
};

/** An in-memory relay behind the operations, recording what the API asked of it. */
class FakeRelay {
  config: RelayDeckConfig = parseConfig(structuredClone(START_CONFIG));
  paused = false;
  changes = 0;
  kicked: [string, string][] = [];
  closed: string[] = [];
  sessions = new Map<string, SessionDto>([['s1', { id: 's1' } as SessionDto]]);

  readonly ops: ApiOperations = {
    server: { relayUrl: () => 'http://127.0.0.1:8090', adminUrl: () => 'http://127.0.0.1:8091', startedAt: () => 1_000 },
    config: {
      current: () => this.config,
      change: async (edit) => {
        this.changes += 1;
        const draft = structuredClone(this.config);
        edit(draft);
        this.config = parseConfig(draft); // validated whole, then swapped, as the engine's transaction does
        return this.config;
      },
      restartNeeded: () => false,
    },
    relay: {
      isPaused: () => this.paused,
      setPaused: (paused) => {
        this.paused = paused;
      },
      removeDemo: async () => undefined,
    },
    nodes: { list: (nodes = this.config.nodes) => nodes.map((node) => ({ ...node, status: 'up' }) as NodeDto) },
    sessions: {
      list: () => [...this.sessions.values()],
      recent: () => [],
      kick: (id, reason) => {
        if (!this.sessions.has(id)) return false;
        this.kicked.push([id, reason]);
        return true;
      },
    },
    streams: {
      listFlv: () => [],
      closeFlv: (id) => void this.closed.push(id),
      listHls: () => [],
      hlsCache: () => ({}) as never,
      tierStreams: () => ({}) as never,
    },
    traffic: { stats: () => ({}) as never, history: () => ({}) as never },
    // Not reached by these tests: the calls below touch routes, nodes, settings, sessions and streams only.
    tls: {} as never,
    logs: {} as never,
    fleet: {} as never,
    routing: {
      lookup: () => {
        const table = new RouteTable(this.config);
        const locator = {
          locate: () => {
            throw new Error('the locator is not asked while paused');
          },
        } as unknown as StreamLocator;
        return { table, locator, match: (path: string) => table.match(path) };
      },
    },
  };
}

function setup() {
  const fake = new FakeRelay();
  return { fake, api: createApiService(fake.ops) };
}

/** Assert `call` rejects with an error the transports answer as `code` (core/errors.ts toRelayError), its message matching `message`. */
async function refused(call: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    const mapped = toRelayError(error);
    assert.equal(mapped.code, code, String(error));
    assert.match(mapped.message, message);
    return true;
  });
}

test('invalid input is refused naming the field, before any config change starts', async () => {
  const { fake, api } = setup();
  await refused(api.createRoute({ body: { id: 'img', path: '/img/', kind: 'file', mode: 'bogus' } as never }), 'BAD_CONFIG', /^body\.mode: /);
  await refused(api.updateRoute({ id: 'live', body: { colour: 'red' } as never }), 'BAD_CONFIG', /^body\.colour: unknown key/);
  await refused(api.updateRoute({ id: '', body: {} }), 'BAD_CONFIG', /^id: /);
  await refused(api.createNode('not an object' as never), 'BAD_CONFIG', /^input: expected an object/);
  await refused(api.updateSettings({ body: { relay: { port: -1 } } }), 'BAD_CONFIG', /^body\.relay\.port: /);
  await refused(api.signUrl({ body: { routeId: 'live', path: '/live/x.flv' } as never }), 'BAD_CONFIG', /^body\.ttl: /);
  await refused(api.updateNode({ id: 'a', body: { id: 'b' } }), 'BAD_CONFIG', /^body\.id: cannot rename node "a"/);
  assert.equal(fake.changes, 0);
});

test('an unknown id is NOT_FOUND, and the running config is unchanged', async () => {
  const { fake, api } = setup();
  const before = structuredClone(fake.config);
  await refused(api.updateRoute({ id: 'nope', body: { mode: 'proxy' } }), 'NOT_FOUND', /no route with id "nope"/);
  await refused(api.deleteRoute({ id: 'nope' }), 'NOT_FOUND', /no route with id "nope"/);
  await refused(api.replaceNode({ id: 'ghost', body: { id: 'ghost', url: 'http://127.0.0.1:9' } }), 'NOT_FOUND', /no node with id "ghost"/);
  await refused(api.kickSession({ id: 'gone' }), 'NOT_FOUND', /no session with id "gone"/);
  await refused(api.signUrl({ body: { routeId: 'nope', path: '/x', ttl: '1h' } }), 'NOT_FOUND', /no route with id "nope"/);
  assert.deepEqual(fake.config, before);
  assert.deepEqual(fake.kicked, []);
});

test('a change is judged as a whole config: cross-item errors refuse it and nothing is applied', async () => {
  const { fake, api } = setup();
  const before = structuredClone(fake.config);
  await refused(api.updateRoute({ id: 'vod', body: { nodes: ['ghost'] } }), 'BAD_CONFIG', /^routes\[1\]\.nodes\[0\]: no node with id "ghost"/);
  await refused(api.createRoute({ body: { id: 'live', path: '/x/', kind: 'flv', mode: 'proxy' } }), 'CONFLICT', /a route with id "live" exists already/);
  await refused(api.deleteNode({ id: 'a' }), 'CONFLICT', /node "a" is used by route\(s\) live/);
  assert.deepEqual(fake.config, before);
  const saved = await api.updateRoute({ id: 'vod', body: { mode: 'redirect' } });
  assert.equal(saved.mode, 'redirect');
  assert.equal(fake.config.routes[1].mode, 'redirect');
  assert.deepEqual(await api.deleteRoute({ id: 'vod' }), { deleted: 'vod' });
  assert.deepEqual(
    fake.config.routes.map((r) => r.id),
    ['live'],
  );
});

test('pause and resume go through setPaused, and the relay state reads isPaused', async () => {
  const { fake, api } = setup();
  assert.equal((await api.getRelayState({})).paused, false);
  assert.equal((await api.pauseRelay({})).paused, true);
  assert.equal(fake.paused, true);
  assert.equal((await api.getRelayState({})).paused, true);
  assert.equal((await api.resumeRelay({})).paused, false);
  assert.equal(fake.paused, false);
});

test('resolving a path while paused names the route and the pause, without asking the locator', async () => {
  const { fake, api } = setup();
  fake.paused = true;
  await refused(api.resolvePath({ body: { path: '/live/cam1.flv' } }), 'OVERLOADED', /route "live" matches, but the relay is paused/);
  await refused(api.resolvePath({ body: { path: '/nowhere/x' } }), 'NO_ROUTE', /no route's prefix matches \/nowhere\/x/);
});

test('a kick ends the session with the operator reason; closing a stream passes its id', async () => {
  const { fake, api } = setup();
  assert.deepEqual(await api.kickSession({ id: 's1' }), { kicked: 's1' });
  assert.deepEqual(fake.kicked, [['s1', 'kicked by operator']]);
  assert.deepEqual(await api.closeStream({ id: 'flv-1' }), { closed: 'flv-1' });
  assert.deepEqual(fake.closed, ['flv-1']);
});

test('server info reports the addresses and start time the operations give', async () => {
  const { api } = setup();
  const info = await api.getServerInfo({});
  assert.equal(info.relayUrl, 'http://127.0.0.1:8090');
  assert.equal(info.adminUrl, 'http://127.0.0.1:8091');
  assert.equal(info.startedAt, 1_000);
  assert.equal(info.publicUrl, null);
});
