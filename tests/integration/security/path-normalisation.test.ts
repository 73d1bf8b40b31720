/**
 * Issue 11 point 5, the nested-route auth escape: with an open route /p/ and a token route
 * /p/sec/, "/p/%73ec/x" or "/p//sec/x" reached the node's /p/sec/x without a token, since
 * routes were matched on the raw path. Routes are now matched on the normal form of the path
 * (shared/request-path.ts) and the node gets exactly that form. Raw sockets, so every byte of
 * the request target reaches the relay as written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { portOf, rawExchange, rawJson, rawStatus, request } from '../../helpers/http.js';

const TOKEN = 'secret-token-123';
const KEY = { id: 'k1', secret: 'path-normalisation-secret-0123' };
const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg1.ts\n';

describe('routes are matched on the normalised path', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let port: number;
  before(async () => {
    origin.handler = (req, res) => {
      if ((req.url ?? '').includes('.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(PLAYLIST);
      else res.end(`node saw ${req.url}`);
    };
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'n', url }],
      routes: [
        { id: 'open', path: '/p/', kind: 'file', mode: 'proxy' },
        { id: 'sec', path: '/p/sec/', kind: 'file', mode: 'proxy', auth: { tokens: [{ token: TOKEN, label: 'op' }], keys: [KEY] } },
        { id: 'enc', path: '/enc/', kind: 'file', mode: 'proxy', allowEncodedSlash: true },
        { id: 'jump', path: '/jump/', kind: 'file', mode: 'redirect' },
        { id: 'hls', path: '/h/', kind: 'hls', mode: 'proxy', auth: { keys: [KEY] } },
      ],
    });
    port = portOf(relay.relayUrl);
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  /** GET `target` on a raw socket: status, error code (if any), and what the node was asked for. */
  const get = async (target: string) => {
    const seenBefore = origin.requests.length;
    const answer = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n`, 3000);
    const status = rawStatus(answer);
    const node = origin.requests.slice(seenBefore).map((r) => r.url);
    return { status, code: status >= 400 ? rawJson(answer).error.code : undefined, node, raw: answer };
  };

  const escapes: [string, string][] = [
    ['an encoded unreserved letter', '/p/%73ec/x'],
    ['lowercase escapes of every letter', '/p/%73%65%63/x'],
    ['a doubled slash', '/p//sec/x'],
    ['many slashes', '/p///sec//x'],
  ];
  for (const [what, target] of escapes) {
    it(`${what} (${target}) meets the token route: 401, and the node is not asked`, async () => {
      const { status, code, node } = await get(target);
      assert.equal(status, 401);
      assert.equal(code, 'AUTH_MISSING');
      assert.deepEqual(node, []);
    });
  }

  it('with the token, the node gets the normalised path', async () => {
    const { status, node } = await get(`/p/%73ec//x?token=${TOKEN}`);
    assert.equal(status, 200);
    assert.deepEqual(node, ['/p/sec/x']);
  });

  const refused: [string, string][] = [
    ['a dot segment', '/p/./sec/x'],
    ['an encoded dot segment', '/p/%2e/sec/x'],
    ['an encoded dot-dot that would climb out of /p/sec/', '/p/sec/%2E%2e/x'],
    ['an encoded slash on a route that does not allow it', '/p/sec%2Fx'],
    ['a lowercase encoded slash', '/p/sec%2fx'],
    ['an encoded backslash', '/p/sec%5Cx'],
    ['a raw backslash', '/p/sec\\x'],
    ['dot-dot between encoded slashes, even where encoded slashes are allowed', '/enc/a%2F..%2Fsecret'],
    ['a malformed escape', '/p/%zz'],
    ['an escape that is not UTF-8', '/p/%FF'],
  ];
  for (const [what, target] of refused) {
    it(`refuses ${what} (${target}) with 400, node not asked`, async () => {
      const { status, code, node } = await get(target);
      assert.equal(status, 400);
      assert.equal(code, 'BAD_REQUEST');
      assert.deepEqual(node, []);
    });
  }

  it('an encoded slash on a route that allows it is kept encoded and forwarded as is', async () => {
    const { status, node } = await get('/enc/a%2fb%5cc');
    assert.equal(status, 200);
    assert.deepEqual(node, ['/enc/a%2Fb%5Cc']);
  });

  it('other escapes stay encoded (uppercase hex), unreserved ones are decoded, raw non-path characters encoded', async () => {
    const { status, node } = await get('/p/%7euser%7E/%e2%82%AC%20a%41"b?q=%2f%7e');
    assert.equal(status, 200);
    assert.deepEqual(node, ['/p/~user~/%E2%82%AC%20aA%22b?q=%2f%7e'], 'the query is forwarded as received');
  });

  it('a redirect route sends the viewer to the normalised path on the node', async () => {
    const { status, raw } = await get('/jump//%61b/c');
    assert.equal(status, 302);
    assert.ok(raw.toLowerCase().includes(`location: http://127.0.0.1:${origin.port}/jump/ab/c\r\n`), raw);
  });

  it('a URL signed for /p/sec/x works when requested as /p/%73ec/x', async () => {
    const signed = await relay.api.call('POST', '/api/sign', { routeId: 'sec', path: '/p/sec/x', ttl: '10m' });
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
    const query = signed.body.pathAndQuery.slice(signed.body.pathAndQuery.indexOf('?'));
    const { status, node } = await get(`/p/%73ec/x${query}`);
    assert.equal(status, 200);
    assert.deepEqual(node, ['/p/sec/x']);
  });

  it('signing a path or prefix written in another form signs its normal form; HLS children verify', async () => {
    const signed = await relay.api.call('POST', '/api/sign', { routeId: 'hls', path: '/h/%63am//index.m3u8', ttl: '10m', prefix: '/h/%63am/' });
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
    assert.match(signed.body.pathAndQuery, /^\/h\/cam\/index\.m3u8\?sign=\d+-[0-9a-f]{64}&sp=%2Fh%2Fcam%2F$/);
    const query = signed.body.pathAndQuery.slice(signed.body.pathAndQuery.indexOf('?'));
    const playlist = await get(`/h/%63%61%6D/index.m3u8${query}`);
    assert.equal(playlist.status, 200, playlist.raw.slice(0, 300));
    const segment = playlist.raw.split('\n').find((line) => line.startsWith('/h/cam/seg1.ts?'));
    assert.ok(segment, playlist.raw);
    const answer = await request(relay.relayUrl + segment);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), 'node saw /h/cam/seg1.ts');
  });

  it('a route prefix not in normal form is refused by the config check, naming the field', async () => {
    for (const [path, reason] of [
      ['/p/%73ec2/', /routes\[5\]\.path: must be in normal form .*"\/p\/sec2\/"/],
      ['/p/./', /routes\[5\]\.path: .*dot segment/],
      ['/p/a%2Fb/', /routes\[5\]\.path: .*encoded/],
    ] as const) {
      const answer = await relay.api.call('POST', '/api/routes', { id: 'bad', path, kind: 'file', mode: 'proxy' });
      assert.equal(answer.status, 400, path);
      assert.match(answer.body.error.message, reason);
    }
  });
});
