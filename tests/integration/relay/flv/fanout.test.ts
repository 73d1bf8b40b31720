/**
 * FLV fan-out through real sockets: one upstream pull shared by every viewer, late joiners
 * start from the GOP cache in the right order, timestamps stay monotonic, the GOP cache
 * can be turned off or bounded, and the stream's stats are reported.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer, timestampViolation } from '../../../helpers/flv-viewer.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { sleep, waitFor } from '../../../helpers/http.js';

describe('FLV fan-out', () => {
  const origin = new LiveFlvOrigin({ fps: 25, gopFrames: 25 });
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      flv: { idleCloseMs: 0, gopCacheMaxBytes: 1_000_000 },
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'nocache', path: '/nocache/', kind: 'flv', mode: 'proxy', gopCache: false, stripPrefix: true },
      ],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('shares one upstream connection among 30 viewers, each getting the full stream', async () => {
    const opened = origin.connectionsOpened;
    const viewers = await Promise.all(Array.from({ length: 30 }, () => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    const enough = origin.bytesPerSecond * 0.8;
    await waitFor(() => viewers.every((v) => v.bytes > enough), 5000, `every viewer to get ${enough} bytes`);
    assert.equal(origin.connectionsOpened - opened, 1, 'one upstream connection');
    assert.equal(origin.openSockets.size, 1);
    const streams = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(streams.length, 1);
    assert.equal(streams[0].viewers, 30);
    assert.equal(streams[0].upstreamOpened, 1);
    for (const viewer of viewers) {
      assert.equal(viewer.status, 200);
      assert.equal(viewer.headers['content-type'], 'video/x-flv');
      assert.equal(viewer.parseError, undefined);
      assert.equal(timestampViolation(viewer), undefined);
    }
    viewers.forEach((v) => v.close());
    await origin.waitAllClosed(1000);
    await waitFor(() => relay.engine.flvStreams.size === 0 && relay.engine.sessions.size === 0, 1000, 'stream and sessions to go');
  });

  it('starts a late joiner at once: header, metadata, sequence headers, then the cached GOP from its keyframe', async () => {
    const first = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    // Mid-GOP: the second GOP has started and an inter frame followed its keyframe.
    await waitFor(
      () => {
        const media = first.tags.filter((t) => t.video && !t.video.sequenceHeader);
        return media.filter((t) => t.video?.keyframe).length >= 2 && !media[media.length - 1].video?.keyframe;
      },
      5000,
      'the first viewer to be mid-way into its second GOP',
    );
    const cachedKeyframe = first.tags.filter((t) => t.video?.keyframe && !t.video.sequenceHeader).at(-1)!.timestamp;
    const late = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => late.firstKeyframeAt > 0, 2000, 'the late joiner keyframe');
    await waitFor(() => late.items.length >= 6, 2000, 'the late joiner to get its first six items');
    const kinds = late.items
      .slice(0, 6)
      .map((i) =>
        i.kind === 'header'
          ? 'header'
          : i.tag.metadata
            ? 'meta'
            : i.tag.video?.sequenceHeader
              ? 'avc-seq'
              : i.tag.audio?.sequenceHeader
                ? 'aac-seq'
                : i.tag.video?.keyframe
                  ? 'key'
                  : 'frame',
      );
    assert.deepEqual(kinds.slice(0, 5), ['header', 'meta', 'avc-seq', 'aac-seq', 'key']);
    const firstMedia = late.tags.find((t) => t.video && !t.video.sequenceHeader);
    assert.ok(firstMedia?.video?.keyframe, 'the first picture is a keyframe');
    assert.equal(firstMedia!.timestamp, cachedKeyframe, 'it is the cached GOP (the keyframe the first viewer already had), not the next live one');
    assert.equal(timestampViolation(late), undefined);
    assert.equal(origin.openSockets.size, 1, 'still one upstream');
    const sessions = (await relay.api.call('GET', '/api/sessions')).body;
    const lateSession = sessions.sort((a: any, b: any) => b.startedAt - a.startedAt)[0];
    assert.equal(typeof lateSession.firstByteMs, 'number', 'time to first byte is reported');
    assert.equal(typeof lateSession.firstKeyframeMs, 'number', 'time to first keyframe is reported');
    assert.ok(lateSession.firstKeyframeMs >= lateSession.firstByteMs, 'the keyframe comes with or after the first byte');
    assert.equal(lateSession.framesDropped, 0);
    first.close();
    late.close();
    await origin.waitAllClosed(1000);
  });

  it('with the GOP cache off, a late joiner starts at the next keyframe', async () => {
    const first = await new FlvTestViewer(`${relay.relayUrl}/nocache/live/cam1.flv`).open();
    // Join past the keyframe, so the late joiner has to wait for the next one.
    await waitFor(() => first.tags.some((t) => t.video && !t.video.sequenceHeader && !t.video.keyframe), 3000, 'an inter frame after the first keyframe');
    const seenBeforeJoin = first.tags.filter((t) => t.video?.keyframe && !t.video.sequenceHeader).at(-1)!.timestamp;
    const late = await new FlvTestViewer(`${relay.relayUrl}/nocache/live/cam1.flv`).open();
    await waitFor(() => late.firstKeyframeAt > 0, 3000, 'the next keyframe');
    const media = late.tags.filter((t) => t.video && !t.video.sequenceHeader);
    assert.ok(media[0].video?.keyframe);
    assert.ok(
      media[0].timestamp > seenBeforeJoin,
      `it waited for the next live keyframe (${media[0].timestamp}), not the one before it joined (${seenBeforeJoin})`,
    );
    const kinds = late.tags.slice(0, 3).map((t) => (t.metadata ? 'meta' : t.video?.sequenceHeader ? 'avc-seq' : t.audio?.sequenceHeader ? 'aac-seq' : 'x'));
    assert.deepEqual(kinds, ['meta', 'avc-seq', 'aac-seq']);
    first.close();
    late.close();
    await origin.waitAllClosed(1000);
  });

  it('reports codec, resolution, frame rate, GOP and bitrate per stream, and per-stream metrics', async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    // GOP size and frame rate are known once a second keyframe has passed through the relay.
    const stream = await waitFor(
      async () => {
        const [s] = (await relay.api.call('GET', '/api/streams')).body;
        return s?.gopFrames > 0 && s.fps > 0 && s.bitrateKbps > 0 ? s : undefined;
      },
      6000,
      'the stream stats to cover a whole GOP',
    );
    assert.equal(stream.videoCodec, 'avc');
    assert.equal(stream.audioCodec, 'aac');
    assert.equal(stream.width, 640);
    assert.equal(stream.height, 360);
    assert.equal(stream.fps, 25);
    assert.equal(stream.gopFrames, 25);
    assert.ok(Math.abs(stream.gopMs - 1000) <= 40, `gop ${stream.gopMs} ms`);
    assert.ok(stream.bitrateKbps > (origin.bytesPerSecond * 8) / 1000 / 2, `bitrate ${stream.bitrateKbps}`);
    assert.equal(stream.upstreamOpen, 1);
    assert.ok(stream.gopCacheBytes > 0 && stream.gopCacheBytes <= 1_000_000);
    const metrics = (await relay.api.call('GET', '/metrics')).body as string;
    assert.match(metrics, /relaydeck_flv_viewers\{route="live",stream="[^"]+",relay="[^"]+"\} 1/);
    assert.match(metrics, /relaydeck_flv_upstream_open\{route="live",stream="[^"]+",relay="[^"]+"\} 1/);
    viewer.close();
    await origin.waitAllClosed(1000);
  });
});

describe('FLV fan-out GOP cache bound', () => {
  const origin = new LiveFlvOrigin({ keyframeBytes: 20_000 });
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      flv: { gopCacheMaxBytes: 30_000, idleCloseMs: 0 },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('never holds more than gopCacheMaxBytes; a GOP that outgrows it is dropped until the next keyframe', async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    let maxSeen = 0;
    for (let i = 0; i < 30; i += 1) {
      const [stream] = (await relay.api.call('GET', '/api/streams')).body;
      maxSeen = Math.max(maxSeen, stream?.gopCacheBytes ?? 0);
      await sleep(50); // sampling the cache size as the stream runs: the pause is the sampling interval
    }
    assert.ok(maxSeen > 0 && maxSeen <= 30_000, `max cache ${maxSeen}`);
    const late = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => late.firstKeyframeAt > 0, 3000, 'keyframe');
    assert.ok(late.tags.find((t) => t.video && !t.video.sequenceHeader)?.video?.keyframe);
    viewer.close();
    late.close();
    await origin.waitAllClosed(1000);
  });
});
