/**
 * A real node-media-server fed by ffmpeg, proxied by RelayDeck as HTTP-FLV and read back
 * with ffprobe: the stream decodes (H.264 + AAC) after passing through the relay.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ffprobe, missingTool, publishTestStream, startNms, type NmsOrigin } from '../../helpers/media.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { waitFor } from '../../helpers/http.js';

const skip = missingTool('ffmpeg', 'ffmpeg') || missingTool('ffprobe', 'ffmpeg');
if (skip) console.log(`# skipping real-media suite: ${skip}`);

describe('real origin: node-media-server + ffmpeg + ffprobe', { skip }, () => {
  let nms: NmsOrigin;
  let ffmpeg: ChildProcess;
  let relay: StartedRelay;
  before(async () => {
    nms = await startNms();
    ffmpeg = publishTestStream(`${nms.rtmpUrl}/live/cam1`);
    relay = await startRelay({
      nodes: [{ id: 'nms', url: nms.httpUrl }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'edge', path: '/edge/', kind: 'flv', mode: 'proxy', stripPrefix: true },
      ],
    });
    // wait until the origin really serves the stream
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          http
            .get(`${nms.httpUrl}/live/cam1.flv`, (res) => {
              res.destroy();
              resolve(res.statusCode === 200);
            })
            .on('error', () => resolve(false));
        }),
      20000,
      'the published stream to appear on node-media-server',
    );
  });
  after(async () => {
    ffmpeg?.kill('SIGKILL');
    await relay?.stop();
    await nms?.stop();
  });

  it('ffprobe decodes H.264 and AAC through the relay', async () => {
    const probe = await ffprobe(`${relay.relayUrl}/live/cam1.flv`);
    const video = probe.streams.find((s) => s.codec_type === 'video');
    const audio = probe.streams.find((s) => s.codec_type === 'audio');
    assert.equal(video?.codec_name, 'h264');
    assert.equal(video?.width, 320);
    assert.equal(audio?.codec_name, 'aac');
  });

  it('works with stripPrefix, and the origin connection closes when ffprobe leaves', async () => {
    const probe = await ffprobe(`${relay.relayUrl}/edge/live/cam1.flv`);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'no session left');
    const stats = relay.engine.stats.snapshot();
    assert.ok(stats.routes.edge.bytesIn > 10_000, 'media bytes flowed');
  });
});
