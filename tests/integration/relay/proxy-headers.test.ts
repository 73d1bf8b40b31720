/**
 * Proxy mode header rules, Range and conditional requests, HEAD, and status pass-through,
 * through a real origin, for both proxy engines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request } from '../../helpers/http.js';

const FILE = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');

for (const proxyEngine of ['native', 'http-proxy-3'] as const) {
  describe(`proxy headers (${proxyEngine})`, () => {
    const origin = new TestOrigin();
    let relay: StartedRelay;
    before(async () => {
      const url = await origin.start();
      origin.handler = (req, res) => {
        if (req.url?.startsWith('/files/missing')) {
          res.writeHead(404, { 'content-type': 'text/plain', 'x-origin': 'yes' });
          res.end('no such file');
          return;
        }
        if (req.headers['if-none-match'] === '"v1"') {
          res.writeHead(304, { etag: '"v1"' });
          res.end();
          return;
        }
        const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
        const common = { etag: '"v1"', 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
        const hopHeaders = {
          connection: 'keep-alive, x-secret-hop',
          'x-secret-hop': 'leak',
          'keep-alive': 'timeout=5',
          'proxy-authenticate': 'Basic',
          'x-end-to-end': 'kept',
        };
        if (range) {
          const [start, end] = [Number(range[1]), Number(range[2])];
          res.writeHead(206, { ...common, 'content-range': `bytes ${start}-${end}/${FILE.length}`, 'content-length': end - start + 1 });
          res.end(req.method === 'HEAD' ? undefined : FILE.subarray(start, end + 1));
          return;
        }
        res.writeHead(200, { ...common, ...hopHeaders, 'content-length': FILE.length });
        res.end(req.method === 'HEAD' ? undefined : FILE);
      };
      relay = await startRelay({
        relay: { proxyEngine },
        nodes: [{ id: 'a', url }],
        routes: [{ id: 'files', path: '/files/', kind: 'file', mode: 'proxy' }],
      });
    });
    after(async () => {
      await relay.stop();
      await origin.stop();
    });

    it('strips hop-by-hop and Connection-named headers towards the node, and replaces X-Forwarded-*', async () => {
      origin.requests.length = 0;
      await request(`${relay.relayUrl}/files/a.bin?q=1`, {
        headers: {
          host: 'viewer-facing.example',
          connection: 'keep-alive, x-client-hop',
          'x-client-hop': 'must-go',
          'keep-alive': 'timeout=1',
          te: 'trailers',
          'proxy-authorization': 'Basic Zm9vOmJhcg==',
          upgrade: 'h2c',
          'x-forwarded-for': '6.6.6.6',
          'x-forwarded-host': 'evil.example',
          'x-forwarded-proto': 'gopher',
          'x-forwarded-port': '1',
          'x-custom': 'stays',
        },
      });
      const seen = origin.requests[0];
      assert.equal(seen.url, '/files/a.bin?q=1');
      for (const gone of ['x-client-hop', 'keep-alive', 'te', 'proxy-authorization', 'upgrade', 'x-forwarded-port']) {
        assert.equal(seen.headers[gone], undefined, `${gone} reached the node`);
      }
      assert.equal(seen.headers['x-custom'], 'stays');
      assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(seen.headers['x-forwarded-proto'], 'http');
      assert.equal(seen.headers['x-forwarded-host'], 'viewer-facing.example');
      assert.equal(seen.headers.host, `127.0.0.1:${origin.port}`);
    });

    it('strips hop-by-hop and Connection-named headers from the node response', async () => {
      const answer = await request(`${relay.relayUrl}/files/a.bin`);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, FILE);
      assert.equal(answer.headers['x-secret-hop'], undefined);
      assert.equal(answer.headers['proxy-authenticate'], undefined);
      assert.equal(answer.headers['x-end-to-end'], 'kept');
      assert.equal(answer.headers['content-length'], String(FILE.length));
      assert.notEqual(answer.headers['keep-alive'], 'timeout=5');
    });

    it('passes Range requests through (206 with the right bytes)', async () => {
      const answer = await request(`${relay.relayUrl}/files/a.bin`, { headers: { range: 'bytes=10-19' } });
      assert.equal(answer.status, 206);
      assert.equal(answer.headers['content-range'], `bytes 10-19/${FILE.length}`);
      assert.equal(answer.body.toString(), 'abcdefghij');
    });

    it('passes conditional requests through (304 without a body)', async () => {
      const answer = await request(`${relay.relayUrl}/files/a.bin`, { headers: { 'if-none-match': '"v1"' } });
      assert.equal(answer.status, 304);
      assert.equal(answer.headers.etag, '"v1"');
      assert.equal(answer.body.length, 0);
    });

    it('answers HEAD with the headers and no body', async () => {
      const answer = await request(`${relay.relayUrl}/files/a.bin`, { method: 'HEAD' });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-length'], String(FILE.length));
      assert.equal(answer.body.length, 0);
      assert.equal(origin.requests.at(-1)?.method, 'HEAD');
    });

    it("passes a node's non-2xx answer for a file through as it is", async () => {
      const answer = await request(`${relay.relayUrl}/files/missing.bin`);
      assert.equal(answer.status, 404);
      assert.equal(answer.headers['x-origin'], 'yes');
      assert.equal(answer.body.toString(), 'no such file');
    });
  });
}
