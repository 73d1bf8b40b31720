/**
 * Streaming behaviour of proxy mode, for both engines: no buffering, backpressure to the
 * node, abort propagation when the viewer leaves, and the viewer's end when the node ends.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TestOrigin, streamingHandler } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { waitFor, waitUntilSteady } from '../../helpers/http.js';

function openStream(url: string): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => resolve({ req, res }));
    req.on('error', reject);
  });
}

for (const proxyEngine of ['native', 'http-proxy-3'] as const) {
  describe(`proxy streaming (${proxyEngine})`, () => {
    const origin = new TestOrigin();
    let relay: StartedRelay;
    before(async () => {
      const url = await origin.start();
      relay = await startRelay({
        relay: { proxyEngine },
        nodes: [{ id: 'a', url }],
        routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', fanout: false }],
      });
    });
    after(async () => {
      await relay.stop();
      await origin.stop();
    });

    it('delivers the first bytes as soon as the node sends them', async () => {
      let sendMore: () => void = () => {};
      origin.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'video/x-flv' });
        res.write(Buffer.from('FLV\x01\x05\x00\x00\x00\x09'));
        sendMore = () => res.end('rest');
      };
      const { res } = await openStream(`${relay.relayUrl}/live/first.flv`);
      const first = await new Promise<Buffer>((resolve) => res.once('data', resolve));
      assert.equal(first.subarray(0, 3).toString(), 'FLV', 'first chunk arrived before the node sent anything else');
      sendMore();
      const rest: Buffer[] = [];
      for await (const chunk of res) rest.push(chunk as Buffer);
      assert.equal(Buffer.concat(rest).toString(), 'rest');
    });

    it('aborts the upstream within 1 s of the viewer leaving, leaving no upstream connection open', async () => {
      origin.handler = streamingHandler(Buffer.alloc(4096, 1), 20);
      const { req, res } = await openStream(`${relay.relayUrl}/live/cam1.flv`);
      await new Promise((resolve) => res.once('data', resolve));
      assert.equal(origin.openSockets.size, 1, 'one upstream connection (a pooled keep-alive socket may be reused)');
      assert.equal(relay.engine.sessions.size, 1);
      req.destroy();
      const tookMs = await origin.waitAllClosed(1000);
      assert.ok(tookMs <= 1000);
      await waitFor(() => relay.engine.sessions.size === 0, 1000, 'session map to empty');
      const last = relay.engine.sessions.recent().at(-1);
      assert.equal(last?.status, 499);
      assert.equal(last?.errorCode, 'CLIENT_CLOSED');
    });

    it("ends the viewer's response when the node ends it", async () => {
      origin.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'video/x-flv' });
        res.write('a');
        setTimeout(() => res.end('b'), 50);
      };
      const { res } = await openStream(`${relay.relayUrl}/live/short.flv`);
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'ab');
      assert.equal(res.complete, true);
      await waitFor(() => relay.engine.sessions.size === 0, 1000, 'session map to empty');
    });

    it('respects backpressure: a viewer that stops reading stops the node', async () => {
      let written = 0;
      let paused = false;
      const chunk = Buffer.alloc(64 * 1024, 7);
      origin.handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'video/x-flv' });
        const pump = () => {
          while (written < 256 * 1024 * 1024) {
            written += chunk.length;
            if (!res.write(chunk)) {
              paused = true;
              res.once('drain', () => {
                paused = false;
                pump();
              });
              return;
            }
          }
          res.end();
        };
        pump();
      };
      const { req, res } = await openStream(`${relay.relayUrl}/live/fast.flv`);
      res.pause();
      const writtenWhilePaused = await waitUntilSteady(() => written, 400, 10_000, 'the node to stop writing');
      assert.ok(paused, 'the node is held back by backpressure');
      assert.ok(written < 64 * 1024 * 1024, `only socket buffers fill up (${written} bytes written)`);
      let received = 0;
      res.on('data', (c: Buffer) => (received += c.length));
      res.resume();
      await waitFor(() => received > writtenWhilePaused + chunk.length, 5000, 'the stream to flow again');
      req.destroy();
      await origin.waitAllClosed(1000);
    });

    it('shows a flowing stream in the sessions API with growing byte counts', async () => {
      origin.handler = streamingHandler(Buffer.alloc(1000, 1), 20);
      const { req, res } = await openStream(`${relay.relayUrl}/live/watch.flv?token=secret`);
      res.resume();
      const first = await waitFor(
        async () => (await relay.api.call('GET', '/api/sessions')).body.find((s: any) => s.path === '/live/watch.flv' && s.bytesOut > 0),
        2000,
        'session bytes',
      );
      const second = await waitFor(
        async () => (await relay.api.call('GET', '/api/sessions')).body.find((s: any) => s.id === first.id && s.bytesOut > first.bytesOut),
        2000,
        'bytes to grow while the stream flows',
      );
      assert.equal(second.routeId, 'live');
      assert.equal(second.nodeId, 'a');
      assert.ok(!JSON.stringify(second).includes('secret'), 'the query (which may hold credentials) is not exposed');
      req.destroy();
      await origin.waitAllClosed(1000);
    });
  });
}
