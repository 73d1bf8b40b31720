/**
 * HLS proxy mode against a real live stream: ffmpeg writes HLS (MPEG-TS, then fMP4) into a
 * folder a real HTTP server serves. Through the relay every playlist URI points at the
 * relay, refreshes keep working as the window slides, the segments are byte-identical to
 * the node's, ffprobe reads the stream, and the per-stream stats reach the API and /metrics.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ffprobe, missingTool } from '../../../helpers/media.js';
import { request, waitFor } from '../../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { HlsOrigin, startLiveHls, tempDir, type LiveHls } from '../../../helpers/hls-origin.js';

const skip = missingTool('ffmpeg', 'ffmpeg') || missingTool('ffprobe', 'ffmpeg');
if (skip) console.log(`# skipping HLS live proxy suite: ${skip}`);

const uriLines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

for (const fmp4 of [false, true]) {
  describe(`HLS proxy mode, live ${fmp4 ? 'fMP4 (EXT-X-MAP, .m4s)' : 'MPEG-TS'} stream from ffmpeg`, { skip }, () => {
    let live: LiveHls;
    let origin: HlsOrigin;
    let relay: StartedRelay;
    before(async () => {
      live = await startLiveHls(await tempDir('relaydeck-hls-'), { fmp4 });
      origin = new HlsOrigin(live.dir);
      const url = await origin.start();
      relay = await startRelay({ nodes: [{ id: 'n1', url }], routes: [{ id: 'hls', path: '/live/', kind: 'hls', mode: 'proxy' }] });
    });
    after(async () => {
      await relay?.stop();
      await origin?.stop();
      await live?.stop();
    });

    it('no URI of the served playlist points at the node, and the playlist type is an HLS one', async () => {
      const answer = await request(`${relay.relayUrl}/live/index.m3u8`);
      assert.equal(answer.status, 200);
      assert.match(String(answer.headers['content-type']), /mpegurl/i);
      const text = answer.body.toString();
      assert.ok(!text.includes(origin.url) && !text.includes(`:${new URL(origin.url).port}`), text);
      for (const uri of uriLines(text)) assert.match(uri, /^\/live\/seg_\d{5}\.(ts|m4s)\?_rdh=[\w-]+\.n1$/);
      if (fmp4) assert.match(text, /#EXT-X-MAP:URI="\/live\/init\.mp4\?_rdh=[\w-]+\.n1"/);
      assert.equal(Number(answer.headers['content-length']), answer.body.length);
    });

    it('segments (and the init section) come through byte-identical to the node', async () => {
      const text = (await request(`${relay.relayUrl}/live/index.m3u8`)).body.toString();
      const uris = uriLines(text).slice(-2);
      if (fmp4) uris.push(/URI="([^"]+)"/.exec(text)![1]);
      for (const uri of uris) {
        const answer = await request(relay.relayUrl + uri);
        assert.equal(answer.status, 200, uri);
        const file = await readFile(path.join(live.dir, uri.split('?')[0].slice('/live/'.length)));
        assert.ok(answer.body.equals(file), `${uri}: ${answer.body.length} bytes vs ${file.length} on disk`);
      }
    });

    it('live refreshes through the relay follow the sliding window', async () => {
      const first = uriLines((await request(`${relay.relayUrl}/live/index.m3u8`)).body.toString());
      const later = await waitFor(
        async () => {
          const uris = uriLines((await request(`${relay.relayUrl}/live/index.m3u8`)).body.toString());
          return uris.at(-1) !== first.at(-1) ? uris : undefined;
        },
        10_000,
        'a refresh through the relay to show a new segment',
      );
      const answer = await request(relay.relayUrl + later.at(-1));
      assert.equal(answer.status, 200);
    });

    it('ffprobe reads H.264 and AAC through the relay', async () => {
      const probe = await ffprobe(`${relay.relayUrl}/live/index.m3u8`, 20);
      const codecs = probe.streams.map((s) => s.codec_name).sort();
      assert.deepEqual(codecs, ['aac', 'h264']);
      assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.width, 320);
    });

    it('the stream shows in listHlsStreams and /metrics with viewers, hits and bytes', async () => {
      const { body: streams } = await relay.api.call('GET', '/api/hls/streams');
      const stream = streams.find((s: { routeId: string }) => s.routeId === 'hls');
      assert.ok(stream, JSON.stringify(streams));
      assert.equal(stream.streamKey, 'live/index');
      assert.equal(stream.nodeId, 'n1');
      assert.ok(stream.viewers >= 1);
      assert.ok(stream.playlistRequests >= 3 && stream.segmentRequests >= 2);
      assert.ok(stream.bytesOut > stream.bytesIn, 'cache hits: more bytes out than in');
      assert.ok(stream.upstreamRequestsSaved > 0 && stream.hitRatio > 0);
      const { body: cache } = await relay.api.call('GET', '/api/hls/cache');
      assert.ok(cache.segmentEntries > 0 && cache.segmentBytes <= cache.segmentMaxBytes);
      const metrics = (await relay.api.call('GET', '/metrics')).body as string;
      assert.match(metrics, /relaydeck_hls_viewers\{route="hls",stream="live\/index",relay="[^"]+"\} [1-9]/);
      assert.match(metrics, /relaydeck_hls_cache_hit_ratio\{route="hls",stream="live\/index",relay="[^"]+"\} 0\.\d+/);
      assert.match(metrics, /relaydeck_hls_upstream_requests_saved\{route="hls",stream="live\/index",relay="[^"]+"\} [1-9]/);
      assert.match(metrics, /relaydeck_hls_cache_segment_bytes\{relay="[^"]+"\} \d+/);
    });
  });
}
