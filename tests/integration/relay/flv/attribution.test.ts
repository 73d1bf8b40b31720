/**
 * Every record names the node that served the bytes (issue 12, point 2). On a route over
 * [a node without the stream, a node with it] the stream is served by the second after the
 * first's 404: the live sessions, the per-node session counts and the request log name the
 * second node, and the record says the session moved from the first.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../../helpers/flv-viewer.js';
import { startRelay } from '../../../helpers/relay.js';
import { waitFor } from '../../../helpers/http.js';

describe('FLV session attribution', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('sessions, per-node counts and the request log name the node that served, and say the session moved', async () => {
    const without = new LiveFlvOrigin();
    without.streams.clear();
    const holder = new LiveFlvOrigin();
    const [urlWithout, urlWith] = [await without.start(), await holder.start()];
    cleanups.push(
      () => without.stop(),
      () => holder.stop(),
    );
    const relay = await startRelay({
      flv: { idleCloseMs: 0 },
      nodes: [
        { id: 'empty', url: urlWithout },
        { id: 'nms1', url: urlWith },
      ],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    cleanups.push(() => relay.stop());
    const viewers = await Promise.all([1, 2].map(() => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 3000, 'playback');
    assert.equal(without.requests.length, 1, 'the first node was asked and answered 404');
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'nms1');

    const sessions = (await relay.api.call('GET', '/api/sessions')).body;
    assert.equal(sessions.length, 2);
    for (const session of sessions) {
      assert.equal(session.nodeId, 'nms1');
      assert.deepEqual(session.movedFrom, ['empty']);
    }
    const nodes = (await relay.api.call('GET', '/api/nodes')).body;
    assert.equal(nodes.find((n: any) => n.id === 'nms1').activeSessions, 2);
    assert.equal(nodes.find((n: any) => n.id === 'empty').activeSessions, 0);

    // A viewer joining the live stream is attributed to its node from the start.
    const late = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => late.firstKeyframeAt > 0, 3000, 'the late viewer to play');
    const lateSession = (await relay.api.call('GET', '/api/sessions')).body.find((s: any) => !s.movedFrom);
    assert.equal(lateSession?.nodeId, 'nms1');

    [...viewers, late].forEach((v) => v.close());
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the sessions to end');
    const log = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/cam1.flv');
    assert.equal(log.length, 3);
    for (const entry of log) assert.equal(entry.nodeId, 'nms1');
    assert.equal(log.filter((e: any) => e.movedFrom?.[0] === 'empty').length, 2);
    assert.equal(relay.engine.sessions.countByNode().size, 0, 'per-node counts back to zero');
  });
});
