/**
 * Redirect mode through real sockets: the Location for each route shape, the query kept,
 * and injection / open-redirect attempts refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { portOf, rawExchange, rawJson, rawStatus, request } from '../../helpers/http.js';

describe('redirect mode', () => {
  let relay: StartedRelay;
  before(async () => {
    relay = await startRelay({
      health: { intervalMs: 0 }, // redirect only: nothing connects to these nodes
      nodes: [
        { id: 'a', url: 'http://127.0.0.2:8000' },
        { id: 'b', url: 'https://media.invalid/base/' },
        { id: 'off', url: 'http://127.0.0.3:1', enabled: false },
      ],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'redirect', nodes: ['a'] },
        { id: 'img', path: '/img/', kind: 'file', mode: 'redirect', nodes: ['b'], stripPrefix: true },
        { id: 'img-hd', path: '/img/hd/', kind: 'file', mode: 'redirect', nodes: ['off', 'a'], status: 307 },
        { id: 'dead', path: '/dead/', kind: 'file', mode: 'redirect', nodes: ['off'] },
      ],
    });
  });
  after(() => relay.stop());

  it('keeps the path and the query for a route without stripPrefix', async () => {
    const answer = await request(`${relay.relayUrl}/live/cam1.flv?token=abc&x=%20y`);
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.location, 'http://127.0.0.2:8000/live/cam1.flv?token=abc&x=%20y');
    assert.equal(answer.headers['cache-control'], 'no-store');
  });

  it('strips the prefix and keeps the node URL path', async () => {
    const answer = await request(`${relay.relayUrl}/img/2024/a.png?w=100`);
    assert.equal(answer.headers.location, 'https://media.invalid/base/2024/a.png?w=100');
  });

  it('uses the longest matching prefix, skips disabled nodes and honours status 307', async () => {
    const answer = await request(`${relay.relayUrl}/img/hd/b.png`);
    assert.equal(answer.status, 307);
    assert.equal(answer.headers.location, 'http://127.0.0.2:8000/img/hd/b.png');
  });

  it('answers 503 NO_NODE when every node of the route is disabled', async () => {
    const answer = await request(`${relay.relayUrl}/dead/x`);
    assert.equal(answer.status, 503);
    assert.equal(JSON.parse(answer.body.toString()).error.code, 'NO_NODE');
  });

  it('never builds Location from the Host or forwarded headers', async () => {
    const answer = await request(`${relay.relayUrl}/live/cam1.flv`, {
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', forwarded: 'host=evil.example' },
    });
    assert.equal(answer.headers.location, 'http://127.0.0.2:8000/live/cam1.flv');
  });

  it('refuses encoded CR/LF and other control characters in path or query with 400 JSON', async () => {
    for (const target of ['/live/a%0d%0aSet-Cookie:%20x=1.flv', '/live/a.flv?x=%0D%0ALocation:%20http://evil', '/live/a%00.flv', '/live/a.flv?q=%7f']) {
      const answer = await request(relay.relayUrl + target);
      assert.equal(answer.status, 400, target);
      assert.equal(answer.headers.location, undefined, target);
      assert.equal(JSON.parse(answer.body.toString()).error.code, 'BAD_REQUEST', target);
    }
  });

  it('refuses raw control bytes, protocol-relative and absolute-form targets', async () => {
    const port = portOf(relay.relayUrl);
    const raw = await rawExchange(port, 'GET /live/a\tb.flv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(rawStatus(raw), 400);
    const scheme = await rawExchange(port, 'GET //evil.example/live/a.flv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(rawStatus(scheme), 400);
    assert.equal(rawJson(scheme).error.code, 'BAD_REQUEST');
    const absolute = await rawExchange(port, 'GET http://evil.example/live/a.flv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(rawStatus(absolute), 400);
    assert.doesNotMatch(absolute, /evil\.example/i);
  });

  it('refuses dot-segment traversal, raw or encoded', async () => {
    for (const target of ['/img/../admin', '/img/%2e%2e/secret', '/img/a%2f..%2fb', '/live/./x.flv']) {
      const raw = await rawExchange(portOf(relay.relayUrl), `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.equal(rawStatus(raw), 400, target);
    }
  });

  it('answers 404 NO_ROUTE JSON for a path no route matches', async () => {
    const answer = await request(`${relay.relayUrl}/other/x`);
    assert.equal(answer.status, 404);
    assert.deepEqual(JSON.parse(answer.body.toString()), { error: { code: 'NO_ROUTE', message: 'no route matches /other/x' } });
  });

  it('counts redirects per route in the stats', async () => {
    const stats = await relay.api.call('GET', '/api/stats');
    assert.ok(stats.body.routes.live.redirects >= 2);
    assert.ok(stats.body.routes.img.redirects >= 1);
    assert.equal(stats.body.routes.live.proxied, 0);
  });
});
