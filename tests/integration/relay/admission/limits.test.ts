/**
 * Viewer limits through real sockets: viewers per stream and per route (routes[].limits) over
 * HTTP-FLV, WebSocket-FLV and HLS alike, and connections per client address
 * (relay.maxConnectionsPerAddress). Over a limit the viewer gets 503 VIEWER_LIMIT or 429
 * ADDRESS_LIMIT with Retry-After and a JSON error naming the limit; each refusal is counted
 * in the stats and /metrics; a place freed is taken again.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FlvTestViewer } from '../../../helpers/flv-viewer.js';
import { FlvWsViewer } from '../../../helpers/flv-ws-viewer.js';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { portOf, request, waitFor, type Answer } from '../../../helpers/http.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';

const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg1.ts\n';

function errorOf(answer: Answer): { code: string; message: string } {
  return JSON.parse(answer.body.toString()).error;
}

describe('viewer limits', () => {
  let flvOrigin: LiveFlvOrigin;
  let hlsOrigin: TestOrigin;
  let relay: StartedRelay;

  before(async () => {
    flvOrigin = new LiveFlvOrigin();
    flvOrigin.streams.add('/live/cam2.flv');
    const flvUrl = await flvOrigin.start();
    hlsOrigin = new TestOrigin();
    hlsOrigin.handler = (req, res) => {
      if ((req.url ?? '').includes('.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(PLAYLIST);
      else res.writeHead(200, { 'content-type': 'video/mp2t' }).end(Buffer.alloc(1_000, 0x47));
    };
    const hlsUrl = await hlsOrigin.start();
    relay = await startRelay({
      relay: { maxConnectionsPerAddress: 4 },
      hls: { viewerWindowMs: 1_000 },
      nodes: [
        { id: 'flv', url: flvUrl },
        { id: 'hls', url: hlsUrl },
      ],
      routes: [
        { id: 'stream', path: '/s/', kind: 'flv', mode: 'proxy', stripPrefix: true, nodes: ['flv'], limits: { maxViewersPerStream: 2 } },
        { id: 'route', path: '/r/', kind: 'flv', mode: 'proxy', stripPrefix: true, nodes: ['flv'], limits: { maxViewers: 1 } },
        { id: 'tv', path: '/tv/', kind: 'hls', mode: 'proxy', stripPrefix: true, nodes: ['hls'], limits: { maxViewersPerStream: 2 } },
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await flvOrigin?.stop();
    await hlsOrigin?.stop();
  });

  it('per stream: the third viewer of a stream gets 503 VIEWER_LIMIT naming the limit (HTTP and WebSocket alike); another stream is not affected; a place freed is taken again', async () => {
    const url = `${relay.relayUrl}/s/live/cam1.flv`;
    const http1 = await new FlvTestViewer(url).open();
    const ws = new FlvWsViewer(url.replace('http:', 'ws:'));
    await ws.open();
    try {
      assert.equal(http1.status, 200);
      const third = await request(url);
      assert.equal(third.status, 503);
      assert.equal(third.headers['retry-after'], '5');
      assert.equal(errorOf(third).code, 'VIEWER_LIMIT');
      assert.match(errorOf(third).message, /routes\[\]\.limits\.maxViewersPerStream \(2\)/);
      const wsThird = await request(url, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      assert.equal(wsThird.status, 503, 'a WebSocket viewer is refused before its handshake');
      const other = await new FlvTestViewer(`${relay.relayUrl}/s/live/cam2.flv`).open();
      assert.equal(other.status, 200, 'the cap is per stream');
      other.close();
      http1.close();
      await waitFor(async () => (await relay.api.call('GET', '/api/stats')).body.routes.stream.active === 1, 5_000, 'the first viewer gone');
      const next = await new FlvTestViewer(url).open();
      assert.equal(next.status, 200, 'its place is free again');
      next.close();
    } finally {
      http1.close();
      ws.close();
    }
  });

  it('per route: past maxViewers any stream of the route is refused', async () => {
    const first = await new FlvTestViewer(`${relay.relayUrl}/r/live/cam1.flv`).open();
    try {
      const second = await request(`${relay.relayUrl}/r/live/cam2.flv`);
      assert.equal(second.status, 503);
      assert.match(errorOf(second).message, /routes\[\]\.limits\.maxViewers \(1\)/);
    } finally {
      first.close();
    }
  });

  it('HLS: viewers are sessions, not requests; the third viewer is refused while the first two keep loading segments', async () => {
    const playlist = (address: string) => request(`${relay.relayUrl}/tv/live/cam1/index.m3u8`, { localAddress: address });
    const a = await playlist('127.0.3.1');
    const b = await playlist('127.0.3.2');
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    const refused = await playlist('127.0.3.3');
    assert.equal(refused.status, 503);
    assert.equal(errorOf(refused).code, 'VIEWER_LIMIT');
    const segment = a.body
      .toString()
      .split('\n')
      .find((line) => line.startsWith('/'))!;
    for (let i = 0; i < 5; i += 1) {
      assert.equal((await request(relay.relayUrl + segment, { localAddress: '127.0.3.1' })).status, 200);
      assert.equal((await playlist('127.0.3.2')).status, 200, 'a reload of the same viewer is no new viewer');
    }
    // Both go idle (hls.viewerWindowMs): their places are free.
    await waitFor(async () => (await playlist('127.0.3.3')).status === 200, 5_000, 'a place after the others went idle');
  });

  it('per address: a request on a connection past relay.maxConnectionsPerAddress gets 429 ADDRESS_LIMIT and its connection closes', async () => {
    // Four connections from 127.0.4.1 that send nothing yet (idle, or a slow client): each counts.
    const held = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const socket = net.connect({ host: '127.0.0.1', port: portOf(relay.relayUrl), localAddress: '127.0.4.1' }, () => resolve(socket));
            socket.on('error', reject);
          }),
      ),
    );
    try {
      const fifth = await request(`${relay.relayUrl}/not-a-route`, { localAddress: '127.0.4.1' });
      assert.equal(fifth.status, 429);
      assert.equal(errorOf(fifth).code, 'ADDRESS_LIMIT');
      assert.match(errorOf(fifth).message, /relay\.maxConnectionsPerAddress \(4\)/);
      assert.equal(fifth.headers.connection, 'close');
      assert.equal(fifth.headers['retry-after'], '5');
      assert.equal((await request(`${relay.relayUrl}/not-a-route`, { localAddress: '127.0.4.2' })).status, 404, 'another address is not affected');
      held[0].destroy();
      await waitFor(async () => (await request(`${relay.relayUrl}/not-a-route`, { localAddress: '127.0.4.1' })).status === 404, 5_000, 'room again');
    } finally {
      held.forEach((socket) => socket.destroy());
    }
  });

  it('counts each refusal by limit in the stats and in /metrics', async () => {
    const { body: stats } = await relay.api.call('GET', '/api/stats');
    assert.ok(stats.routes.stream.limits.maxViewersPerStream >= 2);
    assert.ok(stats.routes.route.limits.maxViewers >= 1);
    assert.ok(stats.routes.tv.limits.maxViewersPerStream >= 1);
    assert.ok(stats.totals.limits.maxConnectionsPerAddress >= 1);
    const metrics = (await relay.api.call('GET', '/metrics')).body as string;
    assert.match(metrics, /relaydeck_limit_refusals_total\{route="stream",limit="maxViewersPerStream",relay="[^"]+"\} [1-9]/);
    assert.match(metrics, /relaydeck_limit_refusals_total\{route="\(none\)",limit="maxConnectionsPerAddress",relay="[^"]+"\} [1-9]/);
  });
});
