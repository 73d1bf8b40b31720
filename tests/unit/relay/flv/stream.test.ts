/**
 * The FLV stream's state machine without sockets: pulls are fakes the test answers, viewers
 * write into fake responses, time is node:test's mock clock. Each test pins what a player
 * (or the node) sees: the bytes, the status, when a pull opens and closes.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { RelayError } from '../../../../electron/engine/core/errors.js';
import { TAG_SCRIPT, type FlvTag } from '../../../../electron/engine/codec/flv/tag-reader.js';
import { aacSequenceHeader, avcInterframe, avcKeyframe, avcSequenceHeader, flvHeader, flvTag, metadataTag } from '../../../helpers/flv-builder.js';
import { harness, settle, TEST_FLV, type Harness, type TestViewer } from './fakes.js';

/** What a node sends before media: FLV header, onMetaData, AVC and AAC sequence headers. */
const opening = () => [flvHeader(), metadataTag({ width: 640, height: 360 }), avcSequenceHeader(), aacSequenceHeader()];
/** One GOP on the node's clock: a keyframe at `ts`, then `inter` inter frames 40 ms apart. */
const gop = (ts: number, inter = 2) => [avcKeyframe(ts), ...Array.from({ length: inter }, (_, i) => avcInterframe(ts + 40 * (i + 1)))];
/** An AVC end-of-sequence tag: the node's publisher stopped. */
const endOfSequence = (ts: number) => flvTag(9, ts, Buffer.from([0x17, 0x02, 0, 0, 0]));

const media = (tags: FlvTag[]) => tags.filter((t) => t.type !== TAG_SCRIPT && !t.video?.sequenceHeader && !t.audio?.sequenceHeader);
const mediaTimestamps = (v: TestViewer) => media(v.res.tags()).map((t) => t.timestamp);

/** The stream goes live on its current pull with `gops` (node timestamps). */
function goLive(h: Harness, ...frames: Buffer[]): void {
  assert.equal(h.pull.respond(200), true);
  h.pull.send(...opening(), ...frames);
}

describe('FlvStream', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }));
  afterEach(() => mock.timers.reset());

  it('connecting → live: one pull for all viewers; players get header, metadata, sequence headers, then media from the first keyframe', async () => {
    const h = harness();
    const first = await h.join();
    const second = await h.join();
    assert.equal(h.stream.state, 'connecting');
    assert.equal(h.pulls.length, 1, 'two viewers share one pull');
    assert.equal(h.pull.node, 'a');
    assert.ok(h.pull.started);

    assert.equal(h.pull.respond(200), true);
    h.pull.send(...opening(), avcInterframe(0)); // a frame before any keyframe: not playable, not sent
    assert.equal(h.stream.state, 'connecting', 'headers without media do not make the stream live');
    assert.equal(first.res.statusCode, 0, 'a viewer waits (no status) until media starts');

    h.pull.send(...gop(40));
    assert.equal(h.stream.state, 'live');
    assert.deepEqual(h.lives, ['a']);
    for (const v of [first, second]) {
      assert.equal(v.res.statusCode, 200);
      assert.ok(v.res.startsWithHeader);
      const tags = v.res.tags();
      assert.deepEqual(
        tags.slice(0, 3).map((t) => [t.type, Boolean(t.metadata), Boolean(t.video?.sequenceHeader), Boolean(t.audio?.sequenceHeader)]),
        [
          [18, true, false, false],
          [9, false, true, false],
          [8, false, false, true],
        ],
      );
      assert.equal(media(tags)[0].video?.keyframe, true, 'media starts at a keyframe');
      assert.deepEqual(mediaTimestamps(v), [40, 80, 120]);
    }
  });

  it('a node that answers 200 but sends no media within flv.firstMediaTimeoutMs is offline: the waiting viewer gets 404 STREAM_OFFLINE', async () => {
    const h = harness({ nodes: ['a'] });
    const v = await h.join();
    h.pull.respond(200);
    h.pull.send(...opening());
    mock.timers.tick(TEST_FLV.firstMediaTimeoutMs - 1);
    assert.equal(v.res.statusCode, 0);
    mock.timers.tick(1);
    assert.ok(h.pulls[0].aborted);
    assert.equal(v.res.statusCode, 404);
    assert.equal(JSON.parse(v.res.body).error.code, 'STREAM_OFFLINE');
    assert.deepEqual(v.record.closedWith, { status: 404, errorCode: 'STREAM_OFFLINE' });
    assert.deepEqual(h.faults, ['a:STREAM_OFFLINE']);
  });

  it('a late joiner starts at the cached GOP: the newest keyframe, not an older one', async () => {
    const h = harness();
    const first = await h.join();
    goLive(h, ...gop(0));
    h.pull.send(...gop(120, 1));
    const late = await h.join();
    assert.equal(late.res.statusCode, 200);
    assert.deepEqual(mediaTimestamps(late), [120, 160]);
    assert.equal(media(late.res.tags())[0].video?.keyframe, true);
    h.pull.send(avcInterframe(200));
    assert.deepEqual(mediaTimestamps(late), [120, 160, 200], 'then it follows the live stream');
    assert.deepEqual(mediaTimestamps(first), [0, 40, 80, 120, 160, 200]);
  });

  it('a GOP over flv.gopCacheMaxTags is not cached: a late joiner gets the headers at once and media from the next live keyframe', async () => {
    const h = harness({ flv: { gopCacheMaxTags: 2 } });
    await h.join();
    goLive(h, ...gop(0, 2)); // 3 tags: over the bound
    const late = await h.join();
    assert.equal(late.res.statusCode, 200);
    assert.ok(late.res.startsWithHeader);
    assert.deepEqual(mediaTimestamps(late), []);
    h.pull.send(avcInterframe(120));
    assert.deepEqual(mediaTimestamps(late), [], 'an inter frame alone cannot be decoded');
    h.pull.send(...gop(160, 1));
    assert.deepEqual(mediaTimestamps(late), [160, 200]);
  });

  it('a viewer over flv.viewerQueueMaxBytes skips to the next keyframe, and one still behind after flv.slowViewerTimeoutMs is cut; the others play on', async () => {
    const h = harness();
    const fast = await h.join();
    const slow = await h.join();
    goLive(h, ...gop(0));
    slow.res.socket.writableLength = TEST_FLV.viewerQueueMaxBytes; // its queue is full
    h.pull.send(avcInterframe(120));
    assert.deepEqual(mediaTimestamps(slow), [0, 40, 80]);
    assert.equal(slow.viewer.framesDropped, 1);

    slow.res.socket.writableLength = 0; // it caught up
    h.pull.send(avcInterframe(160));
    assert.deepEqual(mediaTimestamps(slow), [0, 40, 80], 'after a drop it waits for a keyframe');
    h.pull.send(...gop(200, 0));
    assert.deepEqual(mediaTimestamps(slow), [0, 40, 80, 200]);

    slow.res.socket.writableLength = TEST_FLV.viewerQueueMaxBytes;
    h.pull.send(avcInterframe(240));
    // Whether it is still behind is judged when a keyframe does not fit.
    mock.timers.tick(TEST_FLV.slowViewerTimeoutMs);
    h.pull.send(...gop(280, 0));
    assert.equal(slow.res.destroyed, false, 'behind for exactly the timeout: kept');
    mock.timers.tick(1);
    h.pull.send(...gop(320, 0));
    assert.equal(slow.res.destroyed, true);
    assert.deepEqual(slow.record.closedWith, { status: 200, errorCode: 'SLOW_VIEWER' });
    await settle();
    assert.equal(h.stream.viewers.size, 1);
    assert.deepEqual(mediaTimestamps(fast), [0, 40, 80, 120, 160, 200, 240, 280, 320]);
    assert.equal(fast.viewer.framesDropped, 0);
    assert.equal(h.stream.toDto().framesDropped, slow.viewer.framesDropped, 'the stream keeps the count of the viewer it cut');
  });

  it('the pull closes flv.idleCloseMs after the last viewer leaves; a viewer back within that time reuses it', async () => {
    const h = harness();
    const first = await h.join();
    goLive(h, ...gop(0));
    first.res.hangUp();
    await settle();
    assert.deepEqual(first.record.closedWith, { status: 499, errorCode: 'CLIENT_CLOSED' });
    mock.timers.tick(TEST_FLV.idleCloseMs - 1);
    assert.equal(h.pull.aborted, false);

    const back = await h.join();
    assert.equal(back.res.statusCode, 200, 'started at once from the cache');
    assert.deepEqual(mediaTimestamps(back), [0, 40, 80]);
    mock.timers.tick(TEST_FLV.idleCloseMs * 2);
    assert.equal(h.pulls.length, 1);
    assert.equal(h.pull.aborted, false);

    back.res.hangUp();
    await settle();
    mock.timers.tick(TEST_FLV.idleCloseMs - 1);
    assert.equal(h.pull.aborted, false);
    mock.timers.tick(1);
    assert.equal(h.pull.aborted, true);
    assert.equal(h.stream.state, 'closing');
    assert.equal(h.closed, 1);
  });

  it('when the node ends the stream, viewers stay connected, the next node takes over, and timestamps continue', async () => {
    const h = harness();
    const v = await h.join();
    goLive(h, ...gop(1_000));
    h.pull.end(new RelayError('UPSTREAM_RESET', 'node connection lost mid-stream'));
    assert.equal(h.stream.state, 'reconnecting');
    assert.deepEqual(h.faults, ['a:UPSTREAM_RESET']);
    await settle();
    assert.equal(v.res.destroyed || v.res.writableEnded, false, 'the viewer is kept');
    assert.equal(v.record.closedWith, undefined);

    mock.timers.tick(TEST_FLV.reconnectMinMs);
    await settle();
    assert.equal(h.pulls.length, 2);
    assert.equal(h.pull.node, 'b', 'the node that failed is skipped while another is offered');
    const before = v.res.tags().length;
    goLive(h, ...gop(50_000, 1)); // b's clock is elsewhere
    assert.equal(h.stream.state, 'live');
    assert.deepEqual(h.lives, ['a', 'b']);
    assert.equal(h.stream.toDto().nodeId, 'b');
    assert.equal(h.stream.toDto().reconnects, 1);

    const after = v.res.tags().slice(before);
    assert.ok(
      after.some((t) => t.video?.sequenceHeader),
      "b's sequence header is sent before its keyframe",
    );
    assert.equal(media(after)[0].video?.keyframe, true);
    assert.deepEqual(mediaTimestamps(v), [1_000, 1_040, 1_080, 1_120, 1_160], 'continued 40 ms after the last one sent');
  });

  it('an end-of-sequence tag (the publisher stopped) fails over at once and is not passed on', async () => {
    const h = harness();
    const v = await h.join();
    goLive(h, ...gop(0));
    h.pull.send(endOfSequence(120));
    assert.equal(h.stream.state, 'reconnecting');
    assert.ok(h.pulls[0].aborted);
    assert.equal(v.res.tags().filter((t) => t.timestamp === 120).length, 0);
  });

  it('no node takes over within flv.failoverGraceMs: viewers end with UPSTREAM_LOST and the stream closes', async () => {
    const h = harness({ nodes: ['a'] });
    const v = await h.join();
    goLive(h, ...gop(0));
    h.pull.end();
    mock.timers.tick(TEST_FLV.reconnectMinMs);
    await settle();
    assert.equal(h.pulls.length, 2, 'a reconnect was tried');
    mock.timers.tick(TEST_FLV.failoverGraceMs - TEST_FLV.reconnectMinMs - 1);
    assert.equal(v.record.closedWith, undefined, 'still within the grace time');
    mock.timers.tick(1);
    assert.deepEqual(v.record.closedWith, { status: 200, errorCode: 'UPSTREAM_LOST' });
    assert.equal(v.res.writableEnded, true, 'ended cleanly: the player keeps what it got');
    assert.equal(h.stream.state, 'closing');
    assert.ok(
      h.pulls.every((p) => p.aborted || p === h.pulls[0]),
      'the reconnect pull is cut',
    );
    assert.equal(h.closed, 1);
  });
});
