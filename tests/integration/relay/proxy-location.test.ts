/**
 * Issue 11 point 8a: a proxy route passed the node's own redirect (a 301 to
 * http://127.0.0.1:<node port>/...) to the viewer, revealing the node. A Location on a
 * configured node (absolute or relative) now becomes the relay path that reaches it; one
 * that no route reaches, or one on another host, is refused with 502 UPSTREAM_REDIRECT
 * unless the route passes foreign redirects (routes[].foreignRedirects = "pass"). For both
 * proxy engines, through a real node.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request } from '../../helpers/http.js';

for (const proxyEngine of ['native', 'http-proxy-3'] as const) {
  describe(`a node's redirect in proxy mode (${proxyEngine})`, () => {
    const node = new TestOrigin();
    const other = new TestOrigin();
    let relay: StartedRelay;
    let nodeUrl: string;
    let otherUrl: string;
    /** Node path → the Location it answers with. */
    const redirects: Record<string, () => string> = {
      '/files/old': () => `${nodeUrl}/files/new?q=1#t`,
      '/files/relative': () => 'new2',
      '/files/absolute-path': () => '/files/deep/x',
      '/files/dots': () => `${nodeUrl}/files/a/../b`,
      '/files/outside': () => `${nodeUrl}/elsewhere/x`,
      '/files/foreign': () => 'https://cdn.example/x',
      '/files/scheme': () => 'javascript:alert(1)',
      '/files/other-node': () => `${otherUrl}/files/y`,
      '/old': () => `${nodeUrl}/new`,
      '/pass/foreign': () => 'https://cdn.example/x',
      '/pass/other-node': () => `${otherUrl}/pass/y`,
    };
    before(async () => {
      nodeUrl = await node.start();
      otherUrl = await other.start();
      node.handler = (req, res) => {
        const to = redirects[(req.url ?? '').split('?')[0]];
        if (to) res.writeHead(301, { location: to(), 'content-length': 0 }).end();
        else res.writeHead(201, { location: `${nodeUrl}/files/created`, 'content-length': 2 }).end('ok');
      };
      relay = await startRelay({
        relay: { proxyEngine },
        nodes: [
          { id: 'n', url: nodeUrl },
          { id: 'm', url: otherUrl },
        ],
        routes: [
          { id: 'files', path: '/files/', kind: 'file', mode: 'proxy', nodes: ['n'] },
          { id: 'strip', path: '/strip/', kind: 'file', mode: 'proxy', nodes: ['n'], stripPrefix: true },
          { id: 'pass', path: '/pass/', kind: 'file', mode: 'proxy', nodes: ['n', 'm'], foreignRedirects: 'pass' },
        ],
      });
    });
    after(async () => {
      await relay.stop();
      await node.stop();
      await other.stop();
    });

    const get = (path: string) => request(relay.relayUrl + path);
    const errorCode = (body: Buffer) => JSON.parse(body.toString()).error.code;

    const rewritten: [string, string, string][] = [
      ['an absolute URL on the node', '/files/old', '/files/new?q=1#t'],
      ['a relative reference', '/files/relative', '/files/new2'],
      ['an absolute path', '/files/absolute-path', '/files/deep/x'],
      ['an absolute URL with dot segments', '/files/dots', '/files/b'],
      ['a node URL through a route that strips its prefix', '/strip/old', '/strip/new'],
      ['a URL on another node the route may use, even where foreign redirects pass', '/pass/other-node', '/pass/y'],
    ];
    for (const [what, path, location] of rewritten) {
      it(`rewrites ${what} into the relay's URL space (${path} → ${location})`, async () => {
        const answer = await get(path);
        assert.equal(answer.status, 301);
        assert.equal(answer.headers.location, location);
      });
    }

    it('rewrites a Location on any status (201 Created), not only on redirects', async () => {
      const answer = await get('/files/upload');
      assert.equal(answer.status, 201);
      assert.equal(answer.headers.location, '/files/created');
      assert.equal(answer.body.toString(), 'ok');
    });

    const refused: [string, string][] = [
      ['a node path no route reaches', '/files/outside'],
      ['another host', '/files/foreign'],
      ['a non-http scheme', '/files/scheme'],
      ['a node the route may not use', '/files/other-node'],
    ];
    for (const [what, path] of refused) {
      it(`refuses a redirect to ${what} with 502 UPSTREAM_REDIRECT, never showing the node`, async () => {
        const answer = await get(path);
        assert.equal(answer.status, 502);
        assert.equal(errorCode(answer.body), 'UPSTREAM_REDIRECT');
        assert.equal(answer.headers.location, undefined);
        assert.ok(!answer.body.toString().includes(String(node.port)), answer.body.toString());
      });
    }

    it('passes a redirect to another host unchanged when the route says "pass"', async () => {
      const answer = await get('/pass/foreign');
      assert.equal(answer.status, 301);
      assert.equal(answer.headers.location, 'https://cdn.example/x');
    });

    it('a refused redirect does not count against the node (passive health)', async () => {
      const nodeState = async () => ((await relay.api.call('GET', '/api/nodes')).body as { id: string; passiveFailures: number }[]).find((n) => n.id === 'n')!;
      const before = (await nodeState()).passiveFailures;
      assert.equal((await get('/files/foreign')).status, 502);
      assert.equal((await nodeState()).passiveFailures, before);
    });
  });
}
