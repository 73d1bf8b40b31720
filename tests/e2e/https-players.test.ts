/**
 * The acceptance a production site needs: a web page served over HTTPS from another origin
 * plays relay streams over HTTPS in Chromium, which trusts the test certificates by their
 * public keys (no "ignore certificate errors"): HTTP-FLV with mpegts.js (ffmpeg →
 * node-media-server → the fan-out) and HLS with hls.js (ffmpeg → a static node → the HLS
 * proxy). Frames are decoded and currentTime advances.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright';
import { launchChromium, noChromium, servePlayerPage } from '../helpers/browser.js';
import { HlsOrigin, startLiveHls, tempDir, type LiveHls } from '../helpers/hls-origin.js';
import { waitFor } from '../helpers/http.js';
import { missingTool, publishTestStream, startNms, type NmsOrigin, streamIsUp } from '../helpers/media.js';
import { startRelay, type StartedRelay } from '../helpers/relay.js';
import { TestCa, writePem, type Pem } from '../helpers/test-ca.js';

const skip = noChromium || missingTool('ffmpeg', 'ffmpeg');
if (skip) console.log(`# skipping HTTPS players suite: ${skip}`);

const PLAYBACK = `
  window.playback = () => {
    const v = document.getElementById('v');
    const q = v.getVideoPlaybackQuality();
    return { currentTime: v.currentTime, frames: q.totalVideoFrames, width: v.videoWidth, error: window.playerError || window.playError || null, origin: location.origin };
  };`;

const MPEGTS_PAGE = `<!doctype html><html><body>
<video id="v" muted autoplay playsinline width="320" height="180"></video>
<script src="/lib.js"></script>
<script>
  window.startPlayer = (url) => {
    const player = mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableStashBuffer: false });
    player.attachMediaElement(document.getElementById('v'));
    player.on(mpegts.Events.ERROR, (type, detail) => { window.playerError = type + ' ' + detail; });
    player.load();
    player.play().catch((e) => { window.playError = String(e); });
  };${PLAYBACK}
</script></body></html>`;

const HLSJS_PAGE = `<!doctype html><html><body>
<video id="v" muted autoplay playsinline width="320" height="180"></video>
<script src="/lib.js"></script>
<script>
  window.startPlayer = (url) => {
    const hls = new Hls({ liveSyncDurationCount: 3 });
    hls.on(Hls.Events.ERROR, (event, data) => { if (data.fatal) window.playerError = data.type + ' ' + data.details; });
    hls.loadSource(url);
    hls.attachMedia(document.getElementById('v'));
    document.getElementById('v').play().catch((e) => { window.playError = String(e); });
  };${PLAYBACK}
</script></body></html>`;

interface Playback {
  currentTime: number;
  frames: number;
  width: number;
  error: string | null;
  origin: string;
}

/** Open the page, start the player on `streamUrl`, and wait for two seconds of decoded playback. */
async function plays(browser: Browser, pageUrl: string, streamUrl: string): Promise<{ tab: Page; first: Playback; later: Playback }> {
  const tab = await browser.newPage();
  await tab.goto(pageUrl);
  await tab.evaluate((url) => (window as any).startPlayer(url), streamUrl);
  const read = async () => {
    const p: Playback = await tab.evaluate(() => (window as any).playback());
    if (p.error) throw new Error(`player error: ${p.error}`);
    return p;
  };
  const first = await waitFor(
    async () => {
      const p = await read();
      return p.currentTime > 0.5 && p.frames > 10 ? p : undefined;
    },
    30_000,
    'playback to start',
  );
  const later = await waitFor(
    async () => {
      const p = await read();
      return p.currentTime > first.currentTime + 2 && p.frames > first.frames + 40 ? p : undefined;
    },
    20_000,
    'playback to advance by 2 s and 40 frames',
  );
  return { tab, first, later };
}

describe('a page on HTTPS plays relay streams over HTTPS', { skip }, () => {
  let nms: NmsOrigin;
  let ffmpeg: ChildProcess;
  let live: LiveHls;
  let hlsNode: HlsOrigin;
  let relay: StartedRelay;
  let browser: Browser;
  let relayCert: Pem;
  let pageCert: Pem;
  const pages: { url: string; close: () => Promise<void> }[] = [];
  let tlsUrl: string;

  before(async () => {
    const ca = await TestCa.create();
    relayCert = await ca.issue(['relay.test']);
    pageCert = await ca.issue(['player.test']);
    const dir = await tempDir('relaydeck-https-players-');
    const files = await writePem(dir, 'relay', relayCert);
    nms = await startNms();
    ffmpeg = publishTestStream(`${nms.rtmpUrl}/live/cam1`);
    live = await startLiveHls(await tempDir('relaydeck-https-hls-'));
    hlsNode = new HlsOrigin(live.dir, '/');
    const hlsUrl = await hlsNode.start();
    relay = await startRelay({
      tls: { enabled: true, port: 0, certificates: [files] },
      nodes: [
        { id: 'nms', url: nms.httpUrl },
        { id: 'hls', url: hlsUrl },
      ],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['nms'] },
        { id: 'tv', path: '/tv/', kind: 'hls', mode: 'proxy', nodes: ['hls'], stripPrefix: true },
      ],
    });
    tlsUrl = (await relay.api.call('GET', '/api/tls')).body.url;
    await waitFor(() => streamIsUp(`${nms.httpUrl}/live/cam1.flv`), 20_000, 'the published FLV stream');
    await waitFor(async () => (await fetch(`${hlsUrl}/index.m3u8`)).ok, 20_000, 'the HLS playlist');
    browser = await launchChromium([relayCert.cert, pageCert.cert]);
    pages.push(await servePlayerPage(MPEGTS_PAGE, 'mpegts.js/dist/mpegts.js', pageCert));
    pages.push(await servePlayerPage(HLSJS_PAGE, 'hls.js/dist/hls.min.js', pageCert));
  });
  after(async () => {
    await browser?.close();
    await Promise.all(pages.map((p) => p.close()));
    ffmpeg?.kill('SIGKILL');
    await relay?.stop();
    await nms?.stop();
    await hlsNode?.stop();
    await live?.stop();
  });

  it('mpegts.js plays HTTP-FLV over HTTPS from a page on another HTTPS origin', async () => {
    const { tab, later } = await plays(browser, pages[0].url, `${tlsUrl}/live/cam1.flv`);
    assert.match(later.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(later.origin, tlsUrl, 'the page is on another origin than the relay');
    assert.equal(later.width, 320);
    await tab.close();
  });

  it('hls.js plays HLS over HTTPS from a page on another HTTPS origin', async () => {
    const { tab, later } = await plays(browser, pages[1].url, `${tlsUrl}/tv/index.m3u8`);
    assert.equal(later.width, 320);
    const [stream] = (await relay.api.call('GET', '/api/hls/streams')).body;
    assert.ok(stream.segmentRequests >= 2, `segments came through the relay (${stream.segmentRequests})`);
    await tab.close();
  });
});
