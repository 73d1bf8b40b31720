/**
 * Upstream loss: viewers stay connected while the relay reconnects with backoff and moves
 * to the next node; they resume at a keyframe with timestamps continued. After the grace
 * time with no node they are ended; garbage from the node ends the stream cleanly.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer, timestampViolation } from '../../../helpers/flv-viewer.js';
import { RawOrigin } from '../../../helpers/raw-origin.js';
import { flvHeader, syntheticStream } from '../../../helpers/flv-builder.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { request, waitFor } from '../../../helpers/http.js';

const MARK_A = 0xa1;
const MARK_B = 0xb2;
const markerOf = (bytes: Buffer) => bytes[bytes.length - 5];

describe('FLV failover', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('keeps viewers connected across a node loss and continues from the next node at a keyframe, timestamps continued', async () => {
    const a = new LiveFlvOrigin({ marker: MARK_A, startTimestamp: 90_000 });
    const b = new LiveFlvOrigin({ marker: MARK_B, startTimestamp: 0 });
    const [urlA, urlB] = [await a.start(), await b.start()];
    cleanups.push(() => b.stop());
    const relay: StartedRelay = await startRelay({
      flv: { failoverGraceMs: 5000, reconnectMinMs: 50, idleCloseMs: 0 },
      nodes: [
        { id: 'a', url: urlA },
        { id: 'b', url: urlB },
      ],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    cleanups.push(() => relay.stop());
    const viewers = await Promise.all([1, 2, 3].map(() => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    await waitFor(
      () => viewers.every((v) => v.tags.some((t) => t.video && !t.video.keyframe && markerOf(t.bytes) === MARK_A)),
      5000,
      'every viewer to play from node a',
    );
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'a');

    a.cutAll();
    await a.stop(); // node a is gone for good: reconnects to it are refused
    await waitFor(
      () => viewers.every((v) => v.tags.some((t) => t.video?.keyframe && markerOf(t.bytes) === MARK_B)),
      5000,
      'every viewer to resume from node b',
    );
    await waitFor(
      () => viewers.every((v) => v.tags.filter((t) => t.type === 9 && markerOf(t.bytes) === MARK_B).length >= 5),
      5000,
      'every viewer to play on from node b',
    );

    const [stream] = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(stream.nodeId, 'b');
    assert.equal(stream.reconnects, 1);
    assert.equal(stream.upstreamOpen, 1);
    for (const viewer of viewers) {
      assert.equal(viewer.ended, false, 'the viewer stayed connected');
      assert.equal(viewer.parseError, undefined);
      assert.equal(viewer.items.filter((i) => i.kind === 'header').length, 1, 'one FLV header only');
      const media = viewer.tags.filter((t) => t.type === 9 && !t.video?.sequenceHeader);
      const firstB = media.findIndex((t) => markerOf(t.bytes) === MARK_B);
      assert.ok(media[firstB].video?.keyframe, 'resumed at a keyframe');
      const gap = media[firstB].timestamp - media[firstB - 1].timestamp;
      assert.ok(gap > 0 && gap <= 100, `timestamps continued across the switch (gap ${gap} ms), not reset to node b's 0`);
      assert.equal(timestampViolation(viewer), undefined);
      const seqAfter = viewer.tags.findIndex((t) => t.video?.sequenceHeader && viewer.tags.indexOf(t) > viewer.tags.indexOf(media[firstB - 1]));
      assert.ok(seqAfter >= 0 && seqAfter < viewer.tags.indexOf(media[firstB]), 'fresh sequence headers before the new keyframe');
    }
    viewers.forEach((v) => v.close());
    await b.waitAllClosed(1000);
  });

  it('ends viewers cleanly when no node takes over within the grace time', async () => {
    const a = new LiveFlvOrigin();
    const urlA = await a.start();
    const relay = await startRelay({
      flv: { failoverGraceMs: 800, reconnectMinMs: 50, reconnectMaxMs: 200, idleCloseMs: 0 },
      nodes: [{ id: 'a', url: urlA }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    cleanups.push(() => relay.stop());
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => viewer.firstKeyframeAt > 0, 2000, 'keyframe');
    a.cutAll();
    await a.stop();
    const lostAt = Date.now();
    await waitFor(() => viewer.ended, 5000, 'the viewer to be ended');
    assert.ok(Date.now() - lostAt >= 700, 'not before the grace time');
    assert.equal(viewer.complete, true, 'ended cleanly (chunked terminator), not cut');
    assert.ok(relay.engine.stats.snapshot().routes.live.errors.UPSTREAM_LOST >= 1);
    await waitFor(() => relay.engine.flvStreams.size === 0 && relay.engine.sessions.size === 0, 1000, 'maps to shrink to zero');
  });

  it('ends the stream cleanly for its viewers when the node turns to garbage, and keeps serving', async () => {
    const raw = new RawOrigin();
    const url = await raw.start();
    cleanups.push(() => raw.stop());
    raw.onRequest = (socket) => {
      const body = syntheticStream(2);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nContent-Length: 100000000\r\n\r\n`);
      socket.write(body);
      setTimeout(() => socket.write(Buffer.from('<html>oops, an error page in the middle of the stream</html>'.repeat(20))), 300);
    };
    const relay = await startRelay({
      flv: { idleCloseMs: 0 },
      nodes: [{ id: 'raw', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    cleanups.push(() => relay.stop());
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => viewer.ended, 3000, 'the stream to end');
    assert.equal(viewer.complete, true);
    assert.equal(viewer.parseError, undefined, 'the viewer got only whole, valid tags');
    assert.ok(viewer.tags.length > 10);
    assert.equal(relay.engine.stats.snapshot().routes.live.errors.UPSTREAM_FORMAT, 1);
    await waitFor(() => raw.sockets.size === 0, 1000, 'the upstream connection to close');
    const fresh = await request(`${relay.relayUrl}/elsewhere`);
    assert.equal(fresh.status, 404, 'still serving');
  });

  it('answers 502 UPSTREAM_FORMAT to a first viewer when the node sends something other than FLV', async () => {
    const raw = new RawOrigin();
    const url = await raw.start();
    cleanups.push(() => raw.stop());
    raw.onRequest = (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>not a stream</html>');
    const relay = await startRelay({ nodes: [{ id: 'raw', url }], routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }] });
    cleanups.push(() => relay.stop());
    const answer = await request(`${relay.relayUrl}/live/cam1.flv`);
    assert.equal(answer.status, 502);
    assert.equal(JSON.parse(answer.body.toString()).error.code, 'UPSTREAM_FORMAT');
    assert.match(JSON.parse(answer.body.toString()).error.message, /at byte 0/);
    void flvHeader;
  });
});
