/**
 * Regressions from an outsider's attack on the issue 11 hardening, one describe per hole,
 * each through real sockets against a real relay:
 *  - dot segments in disguise ("..;", ".;", "...") that lenient nodes (Tomcat, Jetty, Windows)
 *    resolve as "..": they climbed out of the matched route prefix;
 *  - paths a lenient node reads as another, longer route (";" path parameters, NTFS stream
 *    names, other letter case, trailing dots or spaces, Unicode compatibility forms): they
 *    skipped its auth;
 *  - HEAD on a live stream, whose headers a streaming node holds until the body: its header
 *    timeout took a healthy node down (three viewers' HEADs);
 *  - a node's Location on its own host but another scheme or port, or unparseable, was passed
 *    to viewers by a route that passes foreign redirects, showing the node's address;
 *  - failed admin logins from ever new loopback addresses (127.0.0.2, 127.0.0.3, ...) each got a
 *    fresh allowance: an unlimited token guessing rate for any local process.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { portOf, rawExchange, rawJson, rawStatus } from '../../helpers/http.js';

const TOKEN = 'attack-token-123';

describe('paths a lenient node reads differently are refused before any route is chosen', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let port: number;
  before(async () => {
    origin.handler = (req, res) => res.end(`node saw ${req.url}`);
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'n', url }],
      routes: [
        { id: 'open', path: '/p/', kind: 'file', mode: 'proxy' },
        { id: 'sec', path: '/p/sec/', kind: 'file', mode: 'proxy', auth: { tokens: [{ token: TOKEN, label: 'op' }] } },
        { id: 'jump', path: '/jump/', kind: 'file', mode: 'redirect' },
      ],
    });
    port = portOf(relay.relayUrl);
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  const get = async (target: string) => {
    const seenBefore = origin.requests.length;
    const answer = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n`, 3000);
    const status = rawStatus(answer);
    return { status, code: status >= 400 ? rawJson(answer).error.code : undefined, node: origin.requests.slice(seenBefore).map((r) => r.url) };
  };

  const refused: [string, string][] = [
    ['"..;" that climbs out of the route prefix', '/p/..;/admin/x'],
    ['"..;" that climbs into the token route', '/p/x/..;/sec/y'],
    ['".;" before the token route', '/p/.;/sec/y'],
    ['an encoded "..;"', '/p/x/%2e%2e;/sec/y'],
    ['"..;" with a parameter value', '/p/x/..;jsessionid=1/sec/y'],
    ['"..%3B"', '/p/x/..%3B/sec/y'],
    ['a segment of three dots', '/p/.../sec/y'],
    ['dots then an encoded space', '/p/x/..%20/sec/y'],
    ['"..;" on a redirect route', '/jump/..;/admin'],
    ['a ";" path parameter on the token route\'s segment', '/p/sec;x/y'],
    ['an empty ";" parameter', '/p/sec;/y'],
    ['an empty segment with a parameter before it', '/p/;x/sec/y'],
    ["the token route's segment in upper case", '/p/SEC/y'],
    ['mixed case', '/p/Sec/y'],
    ['encoded upper case', '/p/%53EC/y'],
    ['a trailing dot', '/p/sec./y'],
    ['an encoded trailing dot', '/p/sec%2e/y'],
    ['a trailing encoded space', '/p/sec%20/y'],
    ['a fullwidth letter (NFKC "s")', '/p/%EF%BD%93ec/y'],
    ["an NTFS stream name on the token route's segment", '/p/sec::$INDEX_ALLOCATION/y'],
  ];
  for (const [what, target] of refused) {
    it(`refuses ${what} (${target}) with 400 BAD_REQUEST, node not asked`, async () => {
      const { status, code, node } = await get(target);
      assert.equal(status, 400);
      assert.equal(code, 'BAD_REQUEST');
      assert.deepEqual(node, []);
    });
  }

  it('the admin resolve tool refuses what the relay refuses', async () => {
    const answer = await relay.api.call('GET', `/api/resolve?path=${encodeURIComponent('/p/sec;x/y')}`);
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.code, 'BAD_REQUEST');
  });

  const served: [string, string, string][] = [
    ['a ";" parameter that changes no route', '/p/file;v=2', '/p/file;v=2'],
    ['upper case that changes no route', '/p/Movie.MP4', '/p/Movie.MP4'],
    ['dots inside a name', '/p/a..b/c.d.e', '/p/a..b/c.d.e'],
    ['a name ending in a dot outside the token route', '/p/notes./x', '/p/notes./x'],
    ['the token route with its token', `/p/sec/y?token=${TOKEN}`, '/p/sec/y'],
  ];
  for (const [what, target, nodePath] of served) {
    it(`still serves ${what} (${target})`, async () => {
      const { status, node } = await get(target);
      assert.equal(status, 200);
      assert.deepEqual(node, [nodePath]);
    });
  }
});

for (const proxyEngine of ['native', 'http-proxy-3'] as const) {
  describe(`HEAD on a live FLV stream does not count against the node (${proxyEngine})`, () => {
    const origin = new LiveFlvOrigin();
    let relay: StartedRelay;
    let port: number;
    before(async () => {
      const url = await origin.start();
      relay = await startRelay({
        relay: { proxyEngine, headerTimeoutMs: 300 },
        health: { intervalMs: 0, passiveMaxFails: 3, passiveWindowMs: 60_000 },
        nodes: [{ id: 'n', url }],
        routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
      });
      port = portOf(relay.relayUrl);
    });
    after(async () => {
      await relay.stop();
      await origin.stop();
    });

    it('four HEADs the node holds past relay.headerTimeoutMs get 504; the node stays up and streams', async () => {
      // Node's http server (like node-media-server) sends a HEAD's headers only when the response ends: never, on a live stream.
      for (let i = 0; i < 4; i += 1) {
        const answer = await rawExchange(port, 'HEAD /live/cam1.flv HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 3000);
        assert.equal(rawStatus(answer), 504);
      }
      const node = (await relay.api.call('GET', '/api/nodes')).body[0];
      assert.equal(node.status, 'up');
      assert.equal(node.passiveFailures, 0);
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get(`${relay.relayUrl}/live/cam1.flv`, { agent: false }, (res) => {
          res.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
      assert.equal(status, 200);
    });
  });
}

describe("a node's Location on its own host is never passed on, even where foreign redirects pass", () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let port: number;
  before(async () => {
    origin.handler = (req, res) => {
      const to: Record<string, string> = {
        '/pass/https': `https://127.0.0.1:${origin.port}/pass/x`,
        '/pass/other-port': `http://127.0.0.1:${origin.port + 1}/pass/x`,
        '/pass/unparseable': `http://127.0.0.1%3A${origin.port}/pass/x`,
        '/pass/cdn': 'https://cdn.example/x',
      };
      const location = to[req.url ?? ''];
      if (location) res.writeHead(302, { location }).end();
      else res.end('ok');
    };
    const url = await origin.start();
    relay = await startRelay({ nodes: [{ id: 'n', url }], routes: [{ id: 'pass', path: '/pass/', kind: 'file', mode: 'proxy', foreignRedirects: 'pass' }] });
    port = portOf(relay.relayUrl);
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  const get = (path: string) => rawExchange(port, `GET ${path} HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n`, 3000);

  for (const [what, path] of [
    ['the node host with another scheme', '/pass/https'],
    ['the node host on another port', '/pass/other-port'],
    ['a Location that is no URL, holding the node address', '/pass/unparseable'],
  ]) {
    it(`refuses ${what} with 502 UPSTREAM_REDIRECT`, async () => {
      const answer = await get(path);
      assert.equal(rawStatus(answer), 502, answer);
      assert.equal(rawJson(answer).error.code, 'UPSTREAM_REDIRECT');
      assert.ok(!answer.includes(String(origin.port)), 'the node port is not in the answer');
    });
  }

  it('still passes a redirect to another host', async () => {
    const answer = await get('/pass/cdn');
    assert.equal(rawStatus(answer), 302);
    assert.match(answer, /\r\nlocation: https:\/\/cdn\.example\/x\r\n/i);
  });
});

describe('failed admin logins from the loopback count as one client, whichever 127.x address they use', () => {
  let relay: StartedRelay;
  before(async () => {
    relay = await startRelay({ admin: { maxFailedAuthPerMinute: 3 }, routes: [] });
  });
  after(() => relay.stop());

  const call = (token: string, localAddress: string) =>
    new Promise<number>((resolve, reject) => {
      const url = new URL('/api/routes', relay.adminUrl);
      const req = http.get(url, { agent: false, localAddress, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });

  it('a fourth wrong guess from a new loopback address is refused 429', async () => {
    for (let i = 2; i <= 4; i += 1) assert.equal(await call(`wrong-${i}`, `127.0.0.${i}`), 401);
    assert.equal(await call('wrong-5', '127.0.0.5'), 429);
    assert.equal(await call('wrong-6', '127.0.0.6'), 429);
  });
});
