/**
 * The admin HTTP API through real sockets: bearer auth, route and node CRUD persisted to
 * the config file, bad changes refused with the running config unchanged, stats, metrics.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readConfigFile } from '../../../electron/engine/config/store.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request } from '../../helpers/http.js';

describe('admin API', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let configPath: string;
  before(async () => {
    const url = await origin.start();
    configPath = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-admin-')), 'config.json');
    relay = await startRelay({ nodes: [{ id: 'a', url }], routes: [{ id: 'live', path: '/live/', kind: 'file', mode: 'proxy' }] }, configPath);
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('answers 401 JSON without a token or with a wrong one, for the API and /metrics', async () => {
    for (const token of [null, 'wrong-token-wrong-token', `${relay.api.token}x`]) {
      for (const p of ['/api/routes', '/metrics']) {
        const answer = await relay.api.call('GET', p, undefined, token);
        assert.equal(answer.status, 401, `${p} with ${token}`);
        assert.equal(answer.body.error.code, 'UNAUTHORIZED');
      }
    }
  });

  it('lists, creates, patches, replaces and deletes routes, saving each change to the file', async () => {
    assert.deepEqual(
      (await relay.api.call('GET', '/api/routes')).body.map((r: any) => r.id),
      ['live'],
    );
    const created = await relay.api.call('POST', '/api/routes', { id: 'img', path: '/img/', kind: 'file', mode: 'redirect' });
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 302);
    assert.equal((await readConfigFile(configPath)).routes.length, 2);
    const patched = await relay.api.call('PATCH', '/api/routes/img', { mode: 'proxy' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.mode, 'proxy');
    const replaced = await relay.api.call('PUT', '/api/routes/img', { id: 'img', path: '/images/', kind: 'file', mode: 'redirect', stripPrefix: true });
    assert.equal(replaced.body.path, '/images/');
    assert.equal((await readConfigFile(configPath)).routes[1].path, '/images/');
    assert.equal((await relay.api.call('DELETE', '/api/routes/img')).body.deleted, 'img');
    assert.equal((await readConfigFile(configPath)).routes.length, 1);
    assert.equal((await relay.api.call('DELETE', '/api/routes/img')).status, 404);
  });

  it('refuses a bad change with 400 naming the field, and keeps the running and saved config', async () => {
    const before = await fs.readFile(configPath, 'utf8');
    const cases: [string, string, unknown, number, string, RegExp][] = [
      ['PATCH', '/api/routes/live', { mode: 'bogus' }, 400, 'BAD_CONFIG', /^body\.mode: expected "redirect" or "proxy"/],
      ['PATCH', '/api/routes/live', { nodes: ['ghost'] }, 400, 'BAD_CONFIG', /^routes\[0\]\.nodes\[0\]: no node with id "ghost"/],
      ['PATCH', '/api/routes/live', { colour: 'red' }, 400, 'BAD_CONFIG', /^body\.colour: unknown key/],
      ['POST', '/api/routes', { id: 'live', path: '/x/', kind: 'flv', mode: 'proxy' }, 409, 'CONFLICT', /exists already/],
      ['POST', '/api/nodes', { id: 'b', url: 'javascript:alert(1)' }, 400, 'BAD_CONFIG', /^nodes\[1\]\.url/],
      ['PATCH', '/api/routes/nope', { mode: 'proxy' }, 404, 'NOT_FOUND', /no route with id "nope"/],
      ['PATCH', '/api/routes/live', '{not json', 400, 'BAD_CONFIG', /^body: not valid JSON/],
      ['GET', '/api/unknown', undefined, 404, 'NOT_FOUND', /no API call/],
      ['DELETE', '/api/routes', undefined, 405, 'METHOD_NOT_ALLOWED', /not allowed/],
    ];
    for (const [method, p, body, status, code, message] of cases) {
      const answer = await relay.api.call(method, p, body);
      assert.equal(answer.status, status, `${method} ${p} ${JSON.stringify(body)}`);
      assert.equal(answer.body.error.code, code);
      assert.match(answer.body.error.message, message);
    }
    const live = (await relay.api.call('GET', '/api/routes')).body[0];
    assert.equal(live.mode, 'proxy');
    assert.deepEqual(JSON.parse(await fs.readFile(configPath, 'utf8')).routes[0].mode, JSON.parse(before).routes[0].mode);
    assert.equal((await request(`${relay.relayUrl}/live/x.flv`)).status, 200, 'the relay still serves with the old config');
  });

  it('refuses a body over admin.maxBodyBytes with 413', async () => {
    const answer = await relay.api.call('POST', '/api/routes', JSON.stringify({ id: 'x', pad: 'a'.repeat(1_100_000) }));
    assert.equal(answer.status, 413);
    assert.equal(answer.body.error.code, 'BODY_TOO_LARGE');
  });

  it('refuses to delete a node that a route names', async () => {
    await relay.api.call('POST', '/api/routes', { id: 'pinned', path: '/pinned/', kind: 'file', mode: 'proxy', nodes: ['a'] });
    const answer = await relay.api.call('DELETE', '/api/nodes/a');
    assert.equal(answer.status, 409);
    assert.match(answer.body.error.message, /used by route\(s\) pinned/);
    assert.equal((await relay.api.call('GET', '/api/nodes')).body.length, 1);
    await relay.api.call('DELETE', '/api/routes/pinned');
  });

  it('manages nodes: create, disable, list with live counts', async () => {
    const created = await relay.api.call('POST', '/api/nodes', { id: 'b', url: 'http://127.0.0.1:9' });
    assert.equal(created.status, 201);
    assert.equal(created.body.enabled, true);
    assert.equal(created.body.activeSessions, 0);
    const disabled = await relay.api.call('PATCH', '/api/nodes/b', { enabled: false });
    assert.equal(disabled.body.enabled, false);
    const rename = await relay.api.call('PATCH', '/api/nodes/b', { id: 'c' });
    assert.equal(rename.status, 400);
    const nodes = (await relay.api.call('GET', '/api/nodes')).body;
    assert.deepEqual(
      nodes.map((n: any) => [n.id, n.enabled]),
      [
        ['a', true],
        ['b', false],
      ],
    );
    assert.equal((await relay.api.call('DELETE', '/api/nodes/b')).status, 200);
  });

  it('reports stats per route and Prometheus metrics', async () => {
    await request(`${relay.relayUrl}/live/s.flv`);
    await request(`${relay.relayUrl}/nowhere`);
    const stats = (await relay.api.call('GET', '/api/stats')).body;
    assert.ok(stats.routes.live.proxied >= 1);
    assert.ok(stats.routes.live.bytesOut >= 2);
    assert.ok(stats.totals.errors.NO_ROUTE >= 1);
    const metrics = await relay.api.call('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(metrics.body, /relaydeck_proxied_total\{route="live",relay="[^"]+"\} [1-9]/);
    assert.match(metrics.body, /relaydeck_errors_total\{route="\(none\)",code="NO_ROUTE",relay="[^"]+"\} [1-9]/);
    const log = (await relay.api.call('GET', '/api/requests')).body;
    assert.ok(log.some((e: any) => e.path === '/live/s.flv' && e.status === 200));
    const numbers = log.map((e: any) => e.seq);
    assert.ok(
      numbers.every((n: number, i: number) => Number.isInteger(n) && n >= 1 && (i === 0 || n === numbers[i - 1] + 1)),
      `entries numbered in order: ${numbers.join(',')}`,
    );
  });

  it('sends no CORS headers, so other origins cannot read answers', async () => {
    const answer = await relay.api.call('GET', '/api/routes');
    assert.equal(answer.headers.get('access-control-allow-origin'), null);
  });
});
