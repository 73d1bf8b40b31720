/**
 * Issue 12 against real peers: two node-media-server nodes, each fed the same live stream by
 * its own ffmpeg. Drain moves 50 viewers to the other node without a disconnect (timestamps
 * monotonic for each), disable moves them at once; with one node holding the stream drain
 * keeps it there with the reason shown until the drain deadline ends it (DRAINED); sessions
 * name the node that served; a publisher that stops ends every viewer within the grace time
 * (UPSTREAM_LOST), not after the node's headers are taken for the stream's return.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { FlvTestViewer, timestampViolation } from '../../../helpers/flv-viewer.js';
import { missingTool, publishTestStream, startNms, type NmsOrigin, streamIsUp } from '../../../helpers/media.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { waitFor } from '../../../helpers/http.js';

const skip = missingTool('ffmpeg', 'ffmpeg');
if (skip) console.log(`# skipping node-media-server drain suite: ${skip}`);

const GRACE_MS = 3000;
const DEADLINE_MS = 4000;

const keyframes = (v: FlvTestViewer) => v.tags.filter((t) => t.video?.keyframe).length;

function assertPlayedThrough(viewers: FlvTestViewer[]): void {
  for (const viewer of viewers) {
    assert.equal(viewer.ended, false, 'still connected');
    assert.equal(viewer.parseError, undefined);
    assert.equal(viewer.items.filter((i) => i.kind === 'header').length, 1, 'one FLV header');
    assert.equal(timestampViolation(viewer), undefined, 'timestamps never went back');
  }
}

describe('real origins: drain, disable, attribution and end of stream between two node-media-servers', { skip }, () => {
  let a: NmsOrigin;
  let b: NmsOrigin;
  const publishers: Record<string, ChildProcess> = {};
  let relay: StartedRelay;
  const streamNode = async (path = '/live/cam1.flv') => (await relay.api.call('GET', '/api/streams')).body.find((s: any) => s.path === path)?.nodeId;

  before(async () => {
    [a, b] = await Promise.all([startNms(), startNms()]);
    publishers.a = publishTestStream(`${a.rtmpUrl}/live/cam1`);
    publishers.b = publishTestStream(`${b.rtmpUrl}/live/cam1`);
    await waitFor(() => streamIsUp(`${a.httpUrl}/live/cam1.flv`), 20000, 'the stream on node a');
    await waitFor(() => streamIsUp(`${b.httpUrl}/live/cam1.flv`), 20000, 'the stream on node b');
    relay = await startRelay({
      relay: { drainDeadlineMs: DEADLINE_MS },
      flv: { failoverGraceMs: GRACE_MS, reconnectMinMs: 100, idleCloseMs: 0 },
      nodes: [
        { id: 'a', url: a.httpUrl },
        { id: 'b', url: b.httpUrl },
      ],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'alt', path: '/alt/', kind: 'flv', mode: 'proxy', nodes: ['b', 'a'], stripPrefix: true },
      ],
    });
  });
  after(async () => {
    Object.values(publishers).forEach((p) => p.kill('SIGKILL'));
    await relay?.stop();
    await a?.stop();
    await b?.stop();
  });

  it('drain moves 50 viewers to the other node within a GOP, none disconnected; disable moves them at once', async () => {
    const viewers = await Promise.all(Array.from({ length: 50 }, () => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 8000, 'playback');
    assert.equal(await streamNode(), 'a');

    let before = viewers.map(keyframes);
    await relay.api.call('PATCH', '/api/nodes/a', { draining: true });
    // One GOP (1 s) plus the candidate's start, with slack for a loaded machine.
    await waitFor(async () => (await streamNode()) === 'b', 3000, 'the stream to move to node b');
    await waitFor(() => viewers.every((v, i) => keyframes(v) >= before[i] + 2), 6000, 'keyframes from node b');
    assertPlayedThrough(viewers);
    const nodeA = (await relay.api.call('GET', '/api/nodes')).body.find((n: any) => n.id === 'a');
    assert.deepEqual(nodeA.streams, [], 'the drained node shows 0 streams');
    assert.equal(nodeA.activeSessions, 0);
    assert.equal(nodeA.drain.streamsLeft, 0);
    const sessions = (await relay.api.call('GET', '/api/sessions')).body;
    assert.equal(sessions.length, 50);
    assert.ok(sessions.every((s: any) => s.nodeId === 'b' && s.movedFrom?.includes('a')));
    await relay.api.call('PATCH', '/api/nodes/a', { draining: false });

    before = viewers.map(keyframes);
    await relay.api.call('PATCH', '/api/nodes/b', { enabled: false });
    await waitFor(async () => (await streamNode()) === 'a', 3000, 'the stream to move to node a');
    await waitFor(() => viewers.every((v, i) => keyframes(v) >= before[i] + 2), 6000, 'keyframes from node a');
    assertPlayedThrough(viewers);
    await relay.api.call('PATCH', '/api/nodes/b', { enabled: true });
    viewers.forEach((v) => v.close());
    await waitFor(() => relay.engine.flvStreams.size === 0, 2000, 'the stream to close');
  });

  it('with one node holding the stream, drain keeps it there with the reason shown, and the deadline ends it', async () => {
    publishers.b.kill('SIGINT'); // a clean stop (SIGKILL leaves node-media-server v4 serving the dead publisher's cached GOP)
    await waitFor(async () => !(await streamIsUp(`${b.httpUrl}/live/cam1.flv`)), 10000, 'the stream to leave node b');
    const viewers = await Promise.all([1, 2].map(() => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 8000, 'playback');
    assert.equal(await streamNode(), 'a');
    await relay.api.call('PATCH', '/api/nodes/a', { draining: true });
    const left = await waitFor(
      async () => {
        const node = (await relay.api.call('GET', '/api/nodes')).body.find((n: any) => n.id === 'a');
        return /no other node holds it: .*b/.test(node.drain?.streams[0]?.reason ?? '') ? node : undefined;
      },
      DEADLINE_MS - 500,
      'the reason the stream stays',
    );
    assert.equal(left.drain.streamsLeft, 1);
    assert.equal(
      viewers.some((v) => v.ended),
      false,
      'still playing from the draining node',
    );
    await waitFor(() => viewers.every((v) => v.ended), DEADLINE_MS + 2000, 'the deadline to end the viewers');
    const log = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/cam1.flv' && e.errorCode === 'DRAINED');
    assert.equal(log.length, 2);
    await relay.api.call('PATCH', '/api/nodes/a', { draining: false });
  });

  it('attribution: over [node without, node with] the records name the node that served, and say the session moved', async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/alt/live/cam1.flv`).open();
    await waitFor(() => viewer.firstKeyframeAt > 0, 8000, 'playback');
    assert.equal(await streamNode('/alt/live/cam1.flv'), 'a');
    const [session] = (await relay.api.call('GET', '/api/sessions')).body;
    assert.equal(session.nodeId, 'a');
    assert.deepEqual(session.movedFrom, ['b']);
    const nodes = (await relay.api.call('GET', '/api/nodes')).body;
    assert.equal(nodes.find((n: any) => n.id === 'a').activeSessions, 1);
    assert.equal(nodes.find((n: any) => n.id === 'b').activeSessions, 0);
    viewer.close();
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the session to end');
    const entry = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/alt/live/cam1.flv').at(-1);
    assert.equal(entry.nodeId, 'a');
    assert.deepEqual(entry.movedFrom, ['b']);
  });

  it('a publisher that stops ends every viewer within failoverGraceMs + 2 s, with UPSTREAM_LOST in the record', async () => {
    const viewers = await Promise.all([1, 2, 3].map(() => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 8000, 'playback');
    publishers.a.kill('SIGINT');
    // node-media-server keeps the connection open, silent, after the publisher's end-of-sequence tag:
    // that tag is the loss (relay.idleStreamTimeoutMs, 20 s, is never waited for).
    await waitFor(() => viewers.every((v) => v.ended), GRACE_MS + 2000, 'every viewer to be closed');
    const log = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/cam1.flv').slice(-3);
    assert.deepEqual(
      log.map((e: any) => e.errorCode),
      ['UPSTREAM_LOST', 'UPSTREAM_LOST', 'UPSTREAM_LOST'],
    );
  });
});
