/**
 * Real peers: ffmpeg publishes the same live stream to two node-media-server origins; the
 * relay fans it out. ffprobe decodes it for a viewer who joins 5 s late, then origin A is
 * killed mid-stream and the viewers continue from origin B without reconnecting.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { FlvTestViewer, timestampViolation } from '../../../helpers/flv-viewer.js';
import { ffprobe, missingTool, publishTestStream, startNms, type NmsOrigin, streamIsUp } from '../../../helpers/media.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { sleep, waitFor } from '../../../helpers/http.js';

const skip = missingTool('ffmpeg', 'ffmpeg') || missingTool('ffprobe', 'ffmpeg');
if (skip) console.log(`# skipping node-media-server failover suite: ${skip}`);

describe('real origins: fan-out, late-join ffprobe and failover between two node-media-servers', { skip }, () => {
  let a: NmsOrigin;
  let b: NmsOrigin;
  const publishers: ChildProcess[] = [];
  let relay: StartedRelay;
  before(async () => {
    [a, b] = await Promise.all([startNms(), startNms()]);
    publishers.push(publishTestStream(`${a.rtmpUrl}/live/cam1`), publishTestStream(`${b.rtmpUrl}/live/cam1`));
    await waitFor(() => streamIsUp(`${a.httpUrl}/live/cam1.flv`), 20000, 'the stream on origin A');
    await waitFor(() => streamIsUp(`${b.httpUrl}/live/cam1.flv`), 20000, 'the stream on origin B');
    relay = await startRelay({
      flv: { failoverGraceMs: 8000, reconnectMinMs: 100 },
      nodes: [
        { id: 'a', url: a.httpUrl },
        { id: 'b', url: b.httpUrl },
      ],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
  });
  after(async () => {
    publishers.forEach((p) => p.kill('SIGKILL'));
    await relay?.stop();
    await a?.stop();
    await b?.stop();
  });

  it('ffprobe decodes H.264 + AAC for a viewer who joins 5 s late', async () => {
    const first = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await sleep(5000); // kept: joining 5 s into the stream is the input under test
    const probe = await ffprobe(`${relay.relayUrl}/live/cam1.flv`);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    assert.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
    const [stream] = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(stream.upstreamOpened, 1, 'the late joiner shared the first pull');
    assert.equal(stream.videoCodec, 'avc');
    assert.equal(stream.width, 320);
    assert.equal(timestampViolation(first), undefined);
    first.close();
  });

  it('keeps viewers playing when origin A is killed mid-stream', async () => {
    const viewers = await Promise.all([1, 2].map(() => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 5000, 'playback');
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'a');
    const keyframesBefore = viewers.map((v) => v.tags.filter((t) => t.video?.keyframe).length);
    a.child.kill('SIGKILL');
    await waitFor(async () => (await relay.api.call('GET', '/api/streams')).body[0]?.nodeId === 'b', 8000, 'the stream to move to origin B');
    await waitFor(() => viewers.every((v, i) => v.tags.filter((t) => t.video?.keyframe).length >= keyframesBefore[i] + 2), 8000, 'keyframes from origin B');
    const [stream] = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(stream.reconnects, 1);
    for (const viewer of viewers) {
      assert.equal(viewer.ended, false, 'still connected');
      assert.equal(viewer.parseError, undefined);
      assert.equal(timestampViolation(viewer), undefined, 'timestamps never went back');
    }
    const probe = await ffprobe(`${relay.relayUrl}/live/cam1.flv`);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    viewers.forEach((v) => v.close());
  });
});
