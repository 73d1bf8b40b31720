/** The browser/Node client drives a real engine's admin API and maps error bodies to ApiError. */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { API_CALLS, ApiError, type RelayDeckApi } from '../../../shared/api.js';
import { createHttpClient, pathFor } from '../../../shared/http-client.js';
import type { Engine } from '../../../electron/engine/engine.js';
import { ADMIN_TOKEN, startEngine } from '../../helpers/engine-fixtures.js';

let engine: Engine;
let client: RelayDeckApi;

before(async () => {
  engine = await startEngine();
  client = createHttpClient({ baseUrl: `${engine.adminUrl}/`, token: ADMIN_TOKEN, timeoutMs: 5_000 });
});

after(() => engine.stop());

function isApiError(code: string, status: number, messagePart?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ApiError, `expected an ApiError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    if (messagePart) assert.match(error.message, new RegExp(messagePart.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    return true;
  };
}

test('lists the configured routes and nodes', async () => {
  const routes = await client.listRoutes({});
  assert.deepEqual(
    routes.map((r) => [r.id, r.path, r.mode]),
    [
      ['live', '/live/', 'redirect'],
      ['hls', '/hls/', 'proxy'],
    ],
  );
  const nodes = await client.listNodes({});
  assert.deepEqual(
    nodes.map((n) => [n.id, n.activeSessions]),
    [['origin1', 0]],
  );
});

test('getServerInfo reports the addresses the engine really listens on', async () => {
  const info = await client.getServerInfo({});
  assert.equal(info.adminUrl, engine.adminUrl);
  assert.equal(info.relayUrl, engine.relayUrl);
});

test('updateRoute sends the body as JSON and returns the changed route', async () => {
  const route = await client.updateRoute({ id: 'live', body: { mode: 'proxy' } });
  assert.equal(route.mode, 'proxy');
  assert.equal((await client.listRoutes({})).find((r) => r.id === 'live')?.mode, 'proxy');
  await client.updateRoute({ id: 'live', body: { mode: 'redirect' } });
});

test('a bad update is an ApiError BAD_CONFIG 400 naming the field, and changes nothing', async () => {
  await assert.rejects(client.updateRoute({ id: 'live', body: { mode: 'teleport' as never } }), isApiError('BAD_CONFIG', 400, 'body.mode'));
  assert.equal((await client.listRoutes({})).find((r) => r.id === 'live')?.mode, 'redirect');
});

test('an unknown id is an ApiError NOT_FOUND 404', async () => {
  await assert.rejects(client.updateRoute({ id: 'nope', body: { mode: 'proxy' } }), isApiError('NOT_FOUND', 404, '"nope"'));
});

test('the id is percent-encoded into one path segment', async () => {
  assert.equal(pathFor(API_CALLS.updateRoute, { id: 'a/b?c' }), '/api/routes/a%2Fb%3Fc');
  await assert.rejects(client.deleteRoute({ id: 'a/b' }), isApiError('NOT_FOUND', 404, '"a/b"'));
});

test('a call that needs an id refuses to send without one', async () => {
  await assert.rejects(client.deleteRoute({} as { id: string }), isApiError('BAD_CONFIG', 400, 'id'));
});

test('a wrong token is an ApiError UNAUTHORIZED 401', async () => {
  const stranger = createHttpClient({ baseUrl: engine.adminUrl, token: 'y'.repeat(20) });
  await assert.rejects(stranger.listRoutes({}), isApiError('UNAUTHORIZED', 401));
});

test('the token is read on every call when given as a function', async () => {
  let token = 'y'.repeat(20);
  const rotating = createHttpClient({ baseUrl: engine.adminUrl, token: () => token });
  await assert.rejects(rotating.getStats({}), isApiError('UNAUTHORIZED', 401));
  token = ADMIN_TOKEN;
  assert.equal(typeof (await rotating.getStats({})).totals.requests, 'number');
});

test('no server listening is an ApiError NETWORK with status 0', async () => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const orphan = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, token: ADMIN_TOKEN });
  await assert.rejects(orphan.listRoutes({}), isApiError('NETWORK', 0));
});

test('a server that never answers is an ApiError TIMEOUT after timeoutMs', async (t) => {
  const server = http.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const slow = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, token: ADMIN_TOKEN, timeoutMs: 200 });
  await assert.rejects(slow.listRoutes({}), isApiError('TIMEOUT', 0));
});

test('an error status without the JSON error body is an ApiError HTTP_STATUS', async (t) => {
  const server = http.createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' });
    res.end('<h1>Bad gateway</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const proxied = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, token: ADMIN_TOKEN });
  await assert.rejects(proxied.listRoutes({}), isApiError('HTTP_STATUS', 502));
});
