/**
 * Drain and disable take live FLV streams off a node (issue 12, point 1). Disable moves a
 * stream at once through the failover path; drain opens a pull on another node first and
 * switches at that node's keyframe (make-before-break). Viewers stay connected, timestamps
 * continue, sequence headers come again before the new keyframe. A stream no other node
 * holds stays on the draining node with the reason shown, until relay.drainDeadlineMs ends
 * it (DRAINED in its viewers' session records).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer, timestampViolation } from '../../../helpers/flv-viewer.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { waitFor } from '../../../helpers/http.js';

const MARK_A = 0xa1;
const MARK_B = 0xb2;
const markerOf = (bytes: Buffer) => bytes[bytes.length - 5];
const fromB = (v: FlvTestViewer) => v.tags.some((t) => t.video?.keyframe && !t.video.sequenceHeader && markerOf(t.bytes) === MARK_B);

/** Every viewer continued from node b at a keyframe: one header, timestamps never back, sequence headers again before b's keyframe. */
function assertMovedToB(viewers: FlvTestViewer[]): void {
  for (const viewer of viewers) {
    assert.equal(viewer.ended, false, 'the viewer stayed connected');
    assert.equal(viewer.parseError, undefined);
    assert.equal(viewer.items.filter((i) => i.kind === 'header').length, 1, 'one FLV header only');
    assert.equal(timestampViolation(viewer), undefined);
    const tags = viewer.tags;
    const firstB = tags.findIndex((t) => t.type === 9 && !t.video?.sequenceHeader && markerOf(t.bytes) === MARK_B);
    assert.ok(tags[firstB].video?.keyframe, 'resumed at a keyframe');
    const lastA = tags.findLastIndex((t, i) => i < firstB && t.type === 9 && !t.video?.sequenceHeader);
    assert.ok(lastA >= 0 && markerOf(tags[lastA].bytes) === MARK_A, 'frames from a came first');
    const gap = tags[firstB].timestamp - tags[lastA].timestamp;
    assert.ok(gap > 0 && gap <= 100, `timestamps continued across the switch (gap ${gap} ms)`);
    assert.ok(
      tags.slice(lastA + 1, firstB).some((t) => t.video?.sequenceHeader),
      'sequence headers again before the new keyframe',
    );
  }
}

describe('FLV drain and disable', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function setUp(relayExtra: Record<string, unknown> = {}, bHolds = true) {
    const a = new LiveFlvOrigin({ marker: MARK_A, startTimestamp: 90_000 });
    const b = new LiveFlvOrigin({ marker: MARK_B, startTimestamp: 0 });
    if (!bHolds) b.streams.clear();
    const [urlA, urlB] = [await a.start(), await b.start()];
    const relay: StartedRelay = await startRelay({
      relay: relayExtra,
      flv: { failoverGraceMs: 5000, reconnectMinMs: 50, idleCloseMs: 0 },
      nodes: [
        { id: 'a', url: urlA },
        { id: 'b', url: urlB },
      ],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    cleanups.push(
      () => a.stop(),
      () => b.stop(),
      () => relay.stop(),
    );
    const viewers = await Promise.all([1, 2, 3].map(() => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 3000, 'playback from a');
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'a');
    return { a, b, relay, viewers };
  }

  it('drain moves the stream to another node at its keyframe, make-before-break: viewers stay, sessions follow', async () => {
    const { a, b, relay, viewers } = await setUp();
    assert.equal((await relay.api.call('PATCH', '/api/nodes/a', { draining: true })).status, 200);
    await waitFor(() => viewers.every(fromB), 3000, 'every viewer to continue from node b');
    assertMovedToB(viewers);
    const [stream] = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(stream.nodeId, 'b');
    assert.equal(stream.upstreamOpen, 1);
    await a.waitAllClosed(2000);
    const nodes = (await relay.api.call('GET', '/api/nodes')).body;
    const nodeA = nodes.find((n: any) => n.id === 'a');
    assert.equal(nodeA.status, 'draining');
    assert.deepEqual(nodeA.streams, []);
    assert.equal(nodeA.activeSessions, 0);
    assert.deepEqual(nodeA.drain.streams, [], 'nothing left on the draining node');
    assert.equal(nodes.find((n: any) => n.id === 'b').activeSessions, 3);
    const sessions = (await relay.api.call('GET', '/api/sessions')).body;
    assert.equal(sessions.length, 3);
    for (const session of sessions) {
      assert.equal(session.nodeId, 'b');
      assert.deepEqual(session.movedFrom, ['a']);
    }
    // A new viewer joins the stream where it is now.
    const late = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => late.firstKeyframeAt > 0, 3000, 'the late viewer to play');
    assert.ok(late.tags.every((t) => t.type !== 9 || t.video?.sequenceHeader || markerOf(t.bytes) === MARK_B));
    [...viewers, late].forEach((v) => v.close());
    await b.waitAllClosed(2000);
  });

  it('disable moves the stream off the node at once', async () => {
    const { a, relay, viewers } = await setUp();
    assert.equal((await relay.api.call('PATCH', '/api/nodes/a', { enabled: false })).status, 200);
    await a.waitAllClosed(1000);
    await waitFor(() => viewers.every(fromB), 3000, 'every viewer to continue from node b');
    assertMovedToB(viewers);
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'b');
    viewers.forEach((v) => v.close());
  });

  it('a stream no other node holds stays on the draining node with the reason shown; the drain deadline ends it', async () => {
    const { relay, viewers } = await setUp({ drainDeadlineMs: 2500 }, false);
    await relay.api.call('PATCH', '/api/nodes/a', { draining: true });
    const left = await waitFor(
      async () => {
        const node = (await relay.api.call('GET', '/api/nodes')).body.find((n: any) => n.id === 'a');
        return /no other node/.test(node.drain?.streams[0]?.reason ?? '') ? node : undefined;
      },
      2000,
      'the reason the stream stays',
    );
    assert.equal(left.drain.streams.length, 1);
    assert.equal(left.drain.streams[0].path, '/live/cam1.flv');
    assert.match(left.drain.streams[0].reason, /no other node holds it: b answered 404/);
    assert.ok(left.drain.deadlineAt > Date.now());
    const bytes = viewers[0].bytes;
    await waitFor(() => viewers[0].bytes > bytes, 2000, 'more bytes: still playing from the draining node');
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'a');
    await waitFor(() => viewers.every((v) => v.ended), 5000, 'the deadline to end the viewers');
    const log = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/cam1.flv');
    assert.equal(log.length, 3);
    for (const entry of log) {
      assert.equal(entry.errorCode, 'DRAINED');
      assert.equal(entry.nodeId, 'a');
    }
    await waitFor(() => relay.engine.flvStreams.size === 0, 1000, 'the stream to close');
  });
});
