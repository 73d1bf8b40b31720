/**
 * FLV fan-out life cycle: the pull opens on the first viewer and closes flv.idleCloseMs
 * after the last; an offline stream gets a fast 404 JSON (or waits, per route); no stream
 * or viewer entry outlives its connection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../../helpers/flv-viewer.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { request, sleep, waitFor } from '../../../helpers/http.js';

describe('FLV stream life cycle', () => {
  const origin = new LiveFlvOrigin();
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      flv: { idleCloseMs: 600, firstMediaTimeoutMs: 400 },
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'wait', path: '/wait/', kind: 'flv', mode: 'proxy', offlineWaitMs: 3000, stripPrefix: true },
        { id: 'now', path: '/now/', kind: 'flv', mode: 'proxy', stripPrefix: true },
      ],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('opens no pull before the first viewer, and closes it idleCloseMs after the last one leaves', async () => {
    assert.equal(origin.openSockets.size, 0);
    const a = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    const b = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => a.bytes > 0 && b.bytes > 0, 2000, 'bytes');
    a.close();
    await waitFor(() => relay.engine.sessions.size === 1, 2000, 'the relay to see the first viewer leave');
    assert.equal(origin.openSockets.size, 1, 'one viewer left: the pull stays');
    b.close();
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the relay to see the last viewer leave');
    assert.equal(origin.openSockets.size, 1, 'within idleCloseMs the pull stays (a returning viewer reuses it)');
    const back = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => back.firstKeyframeAt > 0, 1000, 'instant restart from the cache');
    const opened = origin.connectionsOpened;
    back.close();
    const closedAfter = await origin.waitAllClosed(2000);
    assert.ok(closedAfter >= 450, `closed after ${closedAfter} ms, not at once`);
    assert.equal(origin.connectionsOpened, opened, 'the returning viewer reused the pull');
    await waitFor(() => relay.engine.flvStreams.size === 0 && relay.engine.sessions.size === 0, 1000, 'maps to shrink to zero');
  });

  it('answers a fast 404 JSON for a stream the node does not have', async () => {
    const answer = await request(`${relay.relayUrl}/live/nobody.flv`);
    assert.equal(answer.status, 404);
    const { error } = JSON.parse(answer.body.toString());
    assert.equal(error.code, 'STREAM_OFFLINE');
    assert.match(error.message, /answered 404/, "answered on the node's 404, not after the media wait");
    await waitFor(() => relay.engine.flvStreams.size === 0 && relay.engine.sessions.size === 0, 1000, 'nothing left behind');
  });

  it('answers 404 after firstMediaTimeoutMs when the node sends a header but no media (node-media-server style)', async () => {
    origin.headerOnly = true;
    try {
      const answer = await request(`${relay.relayUrl}/live/cam1.flv`);
      assert.equal(answer.status, 404);
      const { error } = JSON.parse(answer.body.toString());
      assert.equal(error.code, 'STREAM_OFFLINE');
      assert.match(error.message, /sent no media within 400 ms/, 'offline because no media came within firstMediaTimeoutMs');
    } finally {
      origin.headerOnly = false;
    }
    await origin.waitAllClosed(1000);
  });

  it('on a route with offlineWaitMs, holds the viewer until the stream comes online', async () => {
    origin.streams.delete('/live/late.flv');
    const viewer = new FlvTestViewer(`${relay.relayUrl}/wait/live/late.flv`);
    const opening = viewer.open();
    await sleep(800); // kept: the relay must stay silent while the publisher is absent (no event marks "still nothing")
    assert.equal(viewer.status, 0, 'no answer yet: waiting for the publisher');
    origin.streams.add('/live/late.flv');
    await opening;
    assert.equal(viewer.status, 200);
    await waitFor(() => viewer.firstKeyframeAt > 0, 3000, 'media after the publisher appeared');
    viewer.close();
    await origin.waitAllClosed(2000);
  });

  it('on a route with offlineWaitMs, answers 404 when the wait runs out', async () => {
    origin.streams.delete('/live/never.flv');
    const started = Date.now();
    const answer = await request(`${relay.relayUrl}/wait/live/never.flv`);
    assert.equal(answer.status, 404);
    assert.ok(Date.now() - started >= 2900, `waited ${Date.now() - started} ms`);
    await waitFor(() => relay.engine.flvStreams.size === 0 && relay.engine.sessions.size === 0, 1000, 'nothing left behind');
  });

  it('closes the pull at once with idleCloseMs 0', async () => {
    const instant = await startRelay({
      flv: { idleCloseMs: 0 },
      nodes: [{ id: 'a', url: `http://127.0.0.1:${origin.port}` }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    try {
      const viewers = await Promise.all([1, 2, 3].map(() => new FlvTestViewer(`${instant.relayUrl}/live/cam1.flv`).open()));
      await waitFor(() => viewers.every((v) => v.bytes > 0), 2000, 'bytes');
      viewers.forEach((v) => v.close());
      const tookMs = await origin.waitAllClosed(1000);
      assert.ok(tookMs < 300, `closed after ${tookMs} ms`);
      await waitFor(() => instant.engine.flvStreams.size === 0 && instant.engine.sessions.size === 0, 1000, 'maps to shrink to zero');
    } finally {
      await instant.stop();
    }
  });

  it('ends a stream and its viewers when the operator closes it, and kicks single viewers', async () => {
    const a = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    const b = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => a.bytes > 0 && b.bytes > 0, 2000, 'bytes');
    const sessions = (await relay.api.call('GET', '/api/sessions')).body;
    const kicked = await relay.api.call('DELETE', `/api/sessions/${sessions[0].id}`);
    assert.equal(kicked.status, 200);
    await waitFor(() => a.ended || b.ended, 2000, 'the kicked viewer to be cut');
    const [stream] = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(stream.viewers, 1);
    const closed = await relay.api.call('DELETE', `/api/streams/${stream.id}`);
    assert.equal(closed.status, 200);
    await waitFor(() => a.ended && b.ended, 2000, 'both viewers to end');
    await origin.waitAllClosed(1000);
    assert.equal((await relay.api.call('DELETE', `/api/streams/${stream.id}`)).status, 404);
  });
});
