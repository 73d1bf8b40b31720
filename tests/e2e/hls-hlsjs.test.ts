/**
 * A real player: hls.js in headless Chromium plays a live HLS stream (ffmpeg → a static
 * HTTP node) through the relay, in proxy mode (MPEG-TS, and fMP4 behind a master playlist)
 * and in redirect mode (playlists from the relay, segments from the node). currentTime
 * advances across many playlist refreshes, frames are decoded, and in proxy mode the node
 * sees about one request per segment although two players watch.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright';
import { launchChromium, noChromium, servePlayerPage } from '../helpers/browser.js';
import { missingTool } from '../helpers/media.js';
import { waitFor } from '../helpers/http.js';
import { startRelay, type StartedRelay } from '../helpers/relay.js';
import { HlsOrigin, startLiveHls, tempDir, type LiveHls } from '../helpers/hls-origin.js';

const skip = noChromium || missingTool('ffmpeg', 'ffmpeg');
if (skip) console.log(`# skipping hls.js playback suite: ${skip}`);

const PLAYER_HTML = `<!doctype html><html><body>
<video id="v" muted autoplay playsinline width="320" height="180"></video>
<script src="/lib.js"></script>
<script>
  window.requested = [];
  window.startPlayer = (url) => {
    const hls = new Hls({ lowLatencyMode: false, liveSyncDurationCount: 3 });
    hls.on(Hls.Events.ERROR, (event, data) => { if (data.fatal) window.playerError = data.type + ' ' + data.details; });
    hls.on(Hls.Events.FRAG_LOADING, (event, data) => { window.requested.push(data.frag.url); });
    hls.loadSource(url);
    hls.attachMedia(document.getElementById('v'));
    document.getElementById('v').play().catch((e) => { window.playError = String(e); });
  };
  window.playback = () => {
    const v = document.getElementById('v');
    const q = v.getVideoPlaybackQuality();
    return { currentTime: v.currentTime, frames: q.totalVideoFrames, width: v.videoWidth, error: window.playerError || null, fragments: window.requested.slice(-3) };
  };
</script></body></html>`;

interface Playback {
  currentTime: number;
  frames: number;
  width: number;
  error: string | null;
  fragments: string[];
}

async function play(browser: Browser, pageUrl: string, streamUrl: string): Promise<{ tab: Page; first: Playback; later: Playback }> {
  const tab = await browser.newPage();
  await tab.goto(pageUrl);
  await tab.evaluate((url) => (window as any).startPlayer(url), streamUrl);
  const first = (await waitFor<Playback | undefined>(
    async () => {
      const p: Playback = await tab.evaluate(() => (window as any).playback());
      if (p.error) throw new Error(`player error: ${p.error}`);
      return p.currentTime > 0.5 && p.frames > 10 ? p : undefined;
    },
    20_000,
    'playback to start',
  )) as Playback;
  // Three seconds of playback more (three target durations: several playlist refreshes).
  const later = (await waitFor(
    async () => {
      const p: Playback = await tab.evaluate(() => (window as any).playback());
      if (p.error) throw new Error(`player error: ${p.error}`);
      return p.currentTime > first.currentTime + 3 && p.frames > first.frames + 75 ? p : undefined;
    },
    20_000,
    'playback to advance by 3 s and 75 frames',
  )) as Playback;
  assert.equal(later.width, 320);
  return { tab, first, later };
}

describe('hls.js plays HLS through the relay', { skip }, () => {
  let ts: LiveHls;
  let fmp4: LiveHls;
  const origins: HlsOrigin[] = [];
  let relay: StartedRelay;
  let browser: Browser;
  let page: { url: string; close: () => Promise<void> };
  before(async () => {
    [ts, fmp4] = await Promise.all([startLiveHls(await tempDir('relaydeck-e2e-hls-')), startLiveHls(await tempDir('relaydeck-e2e-fmp4-'), { fmp4: true })]);
    await writeFile(
      path.join(fmp4.dir, 'master.m3u8'),
      '#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=700000,RESOLUTION=320x180,CODECS="avc1.42c00d,mp4a.40.2"\nindex.m3u8\n',
    );
    origins.push(new HlsOrigin(ts.dir), new HlsOrigin(fmp4.dir, '/vod-ish/'));
    const [tsUrl, fmp4Url] = [await origins[0].start(), await origins[1].start()];
    relay = await startRelay({
      nodes: [
        { id: 'ts', url: tsUrl },
        { id: 'fmp4', url: fmp4Url },
      ],
      routes: [
        { id: 'proxied', path: '/live/', kind: 'hls', mode: 'proxy', nodes: ['ts'] },
        { id: 'redirected', path: '/jump/', kind: 'hls', mode: 'redirect', stripPrefix: true, nodes: ['ts'] },
        { id: 'fmp4', path: '/vod-ish/', kind: 'hls', mode: 'proxy', nodes: ['fmp4'] },
      ],
    });
    browser = await launchChromium();
    page = await servePlayerPage(PLAYER_HTML, 'hls.js/dist/hls.js');
  });
  after(async () => {
    await browser?.close();
    await page?.close();
    await relay?.stop();
    for (const origin of origins) await origin.stop();
    await ts?.stop();
    await fmp4?.stop();
  });

  it('proxy mode: two players play, every fragment comes from the relay, the node serves each segment about once', async () => {
    const [one, two] = await Promise.all([
      play(browser, page.url, `${relay.relayUrl}/live/index.m3u8`),
      play(browser, page.url, `${relay.relayUrl}/live/index.m3u8`),
    ]);
    for (const { later } of [one, two]) for (const url of later.fragments) assert.ok(url.startsWith(`${relay.relayUrl}/live/seg_`), url);
    const segmentRequests = origins[0].count(/\/live\/seg_\d+\.ts$/);
    const distinct = [...origins[0].counts.keys()].filter((p) => /\/live\/seg_\d+\.ts$/.test(p)).length;
    assert.ok(segmentRequests <= distinct + 1, `node segment requests ${segmentRequests} for ${distinct} distinct segments and two players`);
    const { body: streams } = await relay.api.call('GET', '/api/hls/streams');
    const stream = streams.find((s: { routeId: string }) => s.routeId === 'proxied');
    assert.ok(stream.upstreamRequestsSaved > 0 && stream.viewers >= 1, JSON.stringify(stream));
    await Promise.all([one.tab.close(), two.tab.close()]);
  });

  it('redirect mode: playlists from the relay (refreshed many times), fragments straight from the node', async () => {
    const before = origins[0].count(/index\.m3u8$/);
    const { tab, later } = await play(browser, page.url, `${relay.relayUrl}/jump/live/index.m3u8`);
    for (const url of later.fragments) assert.ok(url.startsWith(`${origins[0].url}/live/seg_`), url);
    const { body: stats } = await relay.api.call('GET', '/api/stats');
    assert.equal(stats.routes.redirected.redirects, 0, 'no 302: the relay served every playlist itself');
    assert.ok(stats.routes.redirected.requests >= 4, `playlist refreshes through the relay: ${stats.routes.redirected.requests}`);
    assert.ok(origins[0].count(/index\.m3u8$/) > before);
    await tab.close();
  });

  it('proxy mode, fMP4 behind a master playlist (EXT-X-MAP, .m4s)', async () => {
    const { tab, later } = await play(browser, page.url, `${relay.relayUrl}/vod-ish/master.m3u8`);
    for (const url of later.fragments) assert.ok(url.startsWith(`${relay.relayUrl}/vod-ish/`), url);
    await tab.close();
  });
});
