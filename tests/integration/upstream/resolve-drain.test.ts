/**
 * The resolve check and drain through real sockets: GET /api/resolve names the route, mode,
 * node, final URL, locator and cache age, and answers 503 JSON with the reason when no node
 * can serve (real requests answer the same); a draining node gets no new sessions, its live
 * streams move to a node that holds them (relay/flv/drain.test.ts has the details), and the
 * API shows what remains.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../helpers/flv-viewer.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request, waitFor } from '../../helpers/http.js';

describe('resolve check and drain', () => {
  const a = new LiveFlvOrigin({ marker: 0xa1 });
  const b = new LiveFlvOrigin({ marker: 0xb2 });
  let relay: StartedRelay;
  before(async () => {
    a.streams.add('/live/cam2.flv');
    b.streams.add('/live/cam2.flv');
    const [urlA, urlB] = [await a.start(), await b.start()];
    relay = await startRelay({
      health: { intervalMs: 500 },
      flv: { idleCloseMs: 0 },
      nodes: [
        { id: 'a', url: urlA },
        { id: 'b', url: urlB },
      ],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'img', path: '/img/', kind: 'file', mode: 'redirect', nodes: ['b'], stripPrefix: true },
      ],
    });
  });
  after(async () => {
    await relay.stop();
    await a.stop();
    await b.stop();
  });

  it('resolves a path: route, mode, node, final URL, locator and reason', async () => {
    const answer = await relay.api.call('GET', `/api/resolve?path=${encodeURIComponent('/img/x/a.png?w=1')}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.routeId, 'img');
    assert.equal(answer.body.mode, 'redirect');
    assert.equal(answer.body.status, 302);
    assert.equal(answer.body.nodeId, 'b');
    assert.equal(answer.body.url, `http://127.0.0.1:${b.port}/x/a.png?w=1`);
    assert.equal(answer.body.locator, 'first');
    assert.equal(answer.body.cacheAgeMs, null);
    assert.match(answer.body.reason, /route "img"/);
    const real = await request(`${relay.relayUrl}/img/x/a.png?w=1`);
    assert.equal(real.headers.location, answer.body.url, 'the real request goes where resolve said');
  });

  it('answers 503 JSON with the reason when no node can serve, as real requests do', async () => {
    await relay.api.call('PATCH', '/api/nodes/b', { enabled: false });
    const answer = await relay.api.call('GET', '/api/resolve?path=/img/a.png');
    assert.equal(answer.status, 503);
    assert.equal(answer.body.error.code, 'NO_NODE');
    assert.match(answer.body.error.message, /b is disabled/);
    const real = await request(`${relay.relayUrl}/img/a.png`);
    assert.equal(real.status, 503);
    assert.deepEqual(JSON.parse(real.body.toString()), answer.body);
    await relay.api.call('PATCH', '/api/nodes/b', { enabled: true });
    const unrouted = await relay.api.call('GET', '/api/resolve?path=/nowhere');
    assert.equal(unrouted.status, 404);
    assert.equal(unrouted.body.error.code, 'NO_ROUTE');
    for (const path of ['/img/%0d%0a', '/img/\r\nLocation: x', '/img/../etc']) {
      const bad = await relay.api.call('GET', `/api/resolve?path=${encodeURIComponent(path)}`);
      assert.equal(bad.status, 400, path);
      assert.equal(bad.body.error.code, 'BAD_REQUEST');
    }
  });

  it('drain: no new sessions to the node; its live stream moves to a node that holds it, the viewer stays; the API shows what remains', async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => viewer.firstKeyframeAt > 0, 3000, 'playback from a');
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'a');
    const drained = await relay.api.call('PATCH', '/api/nodes/a', { draining: true });
    assert.equal(drained.body.status, 'draining');
    assert.ok(drained.body.drain, 'the drain progress is shown');

    const second = await new FlvTestViewer(`${relay.relayUrl}/live/cam2.flv`).open();
    await waitFor(() => second.firstKeyframeAt > 0, 3000, 'playback of a new stream');
    const resolved = await relay.api.call('GET', '/api/resolve?path=/live/cam9.flv');
    assert.equal(resolved.body.nodeId, 'b');
    await waitFor(async () => (await relay.api.call('GET', '/api/streams')).body.every((s: any) => s.nodeId === 'b'), 3000, 'both streams on b');

    const bytes = viewer.bytes;
    await waitFor(() => viewer.bytes > bytes || viewer.ended, 5000, 'the moved stream to continue');
    assert.equal(viewer.ended, false);
    const nodes = (await relay.api.call('GET', '/api/nodes')).body;
    const a = nodes.find((n: any) => n.id === 'a');
    assert.equal(a.activeSessions, 0);
    assert.equal(a.activePulls, 0);
    assert.equal(a.drain.streamsLeft, 0);
    assert.equal(nodes.find((n: any) => n.id === 'b').activeSessions, 2);
    viewer.close();
    second.close();
    await relay.api.call('PATCH', '/api/nodes/a', { draining: false });
  });

  it('reports per-node stats in the API and in /metrics', async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    // The rates are averaged over the stats interval: wait for the first one that saw the stream.
    const node = await waitFor(
      async () => (await relay.api.call('GET', '/api/nodes')).body.find((n: any) => n.id === 'a' && n.mbpsIn > 0.1 && n.mbpsOut > 0.1),
      5000,
      'the node rates to show the stream (over 0.1 Mbit/s in and out)',
    );
    assert.equal(node.status, 'up');
    assert.ok(node.rttMs >= 0, 'RTT from the health check');
    assert.deepEqual(node.streams, ['/live/cam1.flv']);
    const metrics = (await relay.api.call('GET', '/metrics')).body as string;
    assert.match(metrics, /relaydeck_node_up\{node="a",relay="[^"]+"\} 1/);
    assert.match(metrics, /relaydeck_node_sessions\{node="a",relay="[^"]+"\} 1/);
    assert.match(metrics, /relaydeck_node_rtt_ms\{node="a",relay="[^"]+"\} [0-9.]+/);
    viewer.close();
  });
});
