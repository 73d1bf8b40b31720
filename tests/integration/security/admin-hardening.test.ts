/**
 * The admin port against web pages the operator happens to visit: it answers only the Host
 * names it is reached by (DNS rebinding gets 421), refuses cross-site fetches, and turns
 * malformed ids and pathologically deep JSON into 400s instead of 500s or a crash.
 * (Lockout by requests without a credential: admin-surface.test.ts.)
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { EVENTS_PATH } from '../../../shared/events.js';
import { startRelay, TEST_TOKEN, type StartedRelay } from '../../helpers/relay.js';
import { portOf, rawExchange, rawJson, rawStatus, request, type Answer } from '../../helpers/http.js';

const AUTH = { authorization: `Bearer ${TEST_TOKEN}` };
const json = (answer: Answer) => JSON.parse(answer.body.toString());

/** A GET to the admin port with the Host header set (fetch cannot set it). */
function withHost(relay: StartedRelay, path: string, host: string, headers: Record<string, string> = AUTH): Promise<Answer> {
  return request(`${relay.adminUrl}${path}`, { headers: { ...headers, host } });
}

function assertMisdirected(answer: Answer, what: string): void {
  assert.equal(answer.status, 421, what);
  assert.match(String(answer.headers['content-type']), /application\/json/, what);
  assert.equal(json(answer).error.code, 'MISDIRECTED', what);
}

describe('admin hardening', () => {
  let relay: StartedRelay;
  let port: number;
  before(async () => {
    relay = await startRelay({ nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }], routes: [] });
    port = portOf(relay.adminUrl);
  });
  after(() => relay.stop());

  it('answers 421 to a Host it is not reached by (DNS rebinding), on the API, metrics, events and UI alike', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1:${port + 1}`]) {
      for (const path of ['/api/routes', '/metrics', EVENTS_PATH, '/']) assertMisdirected(await withHost(relay, path, host), `${path} with Host ${host}`);
    }
    // HTTP/1.1 without Host is refused by Node itself (400); HTTP/1.0 may omit it.
    const noHost = await rawExchange(port, `GET /api/routes HTTP/1.0\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n\r\n`);
    assert.equal(rawStatus(noHost), 421, 'no Host header at all');
    assert.equal(rawJson(noHost).error.code, 'MISDIRECTED');
  });

  it('answers its own address and the loopback names with its port', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, `[::1]:${port}`]) {
      const answer = await withHost(relay, '/api/routes', host);
      assert.equal(answer.status, 200, `Host ${host}: ${answer.body}`);
    }
  });

  it('answers the names listed in admin.allowedHosts, and validates them', async () => {
    const named = await startRelay({ admin: { allowedHosts: ['relay.lan', 'Admin.Example.com'] }, routes: [] });
    try {
      const namedPort = portOf(named.adminUrl);
      for (const host of ['relay.lan', `relay.lan:${namedPort}`, 'admin.example.com:443']) {
        assert.equal((await withHost(named, '/api/routes', host)).status, 200, `Host ${host}`);
      }
      assertMisdirected(await withHost(named, '/api/routes', 'other.lan'), 'a name not listed');
    } finally {
      await named.stop();
    }
    assert.deepEqual(parseConfig({}).admin.allowedHosts, []);
    assert.throws(() => parseConfig({ admin: { allowedHosts: ['relay.lan', 'relay.lan:8091'] } }), /admin\.allowedHosts\[1\]/);
    assert.throws(() => parseConfig({ admin: { allowedHosts: ['*'] } }), /admin\.allowedHosts\[0\]/);
  });

  it("bound to every interface, answers the loopback names and the machine's own addresses, nothing else", async () => {
    const wide = await startRelay({ admin: { host: '0.0.0.0', allowRemote: true }, routes: [] });
    try {
      const widePort = portOf(wide.adminUrl);
      const own = Object.values(os.networkInterfaces())
        .flat()
        .filter((i) => i && i.family === 'IPv4')
        .map((i) => i!.address);
      for (const address of [...own, '127.0.0.2', 'localhost']) {
        assert.equal(
          (await request(`http://127.0.0.1:${widePort}/api/routes`, { headers: { ...AUTH, host: `${address}:${widePort}` } })).status,
          200,
          `Host ${address}`,
        );
      }
      assertMisdirected(await request(`http://127.0.0.1:${widePort}/api/routes`, { headers: { ...AUTH, host: `evil.example:${widePort}` } }), 'a foreign name');
    } finally {
      await wide.stop();
    }
  });

  it('refuses cross-site fetches (Sec-Fetch-Site) with 403, same-origin ones are fine', async () => {
    assert.equal((await relay.api.call('GET', '/api/routes')).status, 200, 'no Sec-Fetch-Site (not a browser) is fine');
    for (const site of ['cross-site']) {
      const answer = await request(`${relay.adminUrl}/api/routes`, { headers: { ...AUTH, 'sec-fetch-site': site } });
      assert.equal(answer.status, 403, site);
      assert.equal(json(answer).error.code, 'CORS_FORBIDDEN');
      const metrics = await request(`${relay.adminUrl}/metrics`, { headers: { ...AUTH, 'sec-fetch-site': site } });
      assert.equal(metrics.status, 403, `/metrics ${site}`);
    }
    for (const site of ['same-origin', 'none']) {
      assert.equal((await request(`${relay.adminUrl}/api/routes`, { headers: { ...AUTH, 'sec-fetch-site': site } })).status, 200, site);
    }
  });

  it('answers 400 JSON to a malformed percent-encoding in an id', async () => {
    for (const [method, path] of [
      ['DELETE', '/api/routes/%'],
      ['PATCH', '/api/routes/%'],
      ['DELETE', '/api/nodes/%ff'],
      ['PATCH', '/api/nodes/%E0%A4%A'],
    ]) {
      const answer = await relay.api.call(method, path, method === 'PATCH' ? {} : undefined);
      assert.equal(answer.status, 400, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error.code, 'BAD_REQUEST');
    }
  });

  it('answers 400 JSON to a body nested deeper than ADMIN_MAX_JSON_DEPTH, and keeps serving', async () => {
    const depth = 100_000;
    for (const body of ['['.repeat(depth) + ']'.repeat(depth), '{"a":'.repeat(depth) + '1' + '}'.repeat(depth), '['.repeat(depth)]) {
      const answer = await relay.api.call('POST', '/api/routes', body);
      assert.equal(answer.status, 400, JSON.stringify(answer.body).slice(0, 200));
      assert.equal(answer.body.error.code, 'BAD_REQUEST');
      assert.match(answer.body.error.message, /nested deeper than 64/);
    }
    const brackets = await relay.api.call('POST', '/api/routes', { id: 'x', path: `/${'['.repeat(500)}/`, kind: 'file', mode: 'proxy' });
    assert.doesNotMatch(JSON.stringify(brackets.body), /nested deeper/, 'brackets inside strings do not count');
    assert.equal((await relay.api.call('GET', '/api/routes')).status, 200, 'still answering');
  });
});
