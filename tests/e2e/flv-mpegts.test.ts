/**
 * A real player: mpegts.js in headless Chromium plays a live stream (ffmpeg → node-media-server)
 * through the relay's FLV fan-out, joining late: currentTime advances and frames are decoded;
 * over HTTP-FLV and over WebSocket-FLV (`ws://`, the same fan-out).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright';
import { launchChromium, noChromium, servePlayerPage } from '../helpers/browser.js';
import { missingTool, publishTestStream, startNms, type NmsOrigin } from '../helpers/media.js';
import { startRelay, type StartedRelay } from '../helpers/relay.js';
import { waitFor } from '../helpers/http.js';

const skip = noChromium || missingTool('ffmpeg', 'ffmpeg');
if (skip) console.log(`# skipping mpegts.js playback suite: ${skip}`);

const PLAYER_HTML = `<!doctype html><html><body>
<video id="v" muted autoplay playsinline width="320" height="180"></video>
<script src="/lib.js"></script>
<script>
  window.startPlayer = (url) => {
    const player = mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableStashBuffer: false });
    player.attachMediaElement(document.getElementById('v'));
    player.on(mpegts.Events.ERROR, (type, detail) => { window.playerError = type + ' ' + detail; });
    player.load();
    player.play().catch((e) => { window.playError = String(e); });
  };
  window.playback = () => {
    const v = document.getElementById('v');
    const q = v.getVideoPlaybackQuality();
    return { currentTime: v.currentTime, frames: q.totalVideoFrames, width: v.videoWidth, error: window.playerError || window.playError || null };
  };
</script></body></html>`;

describe('mpegts.js plays HTTP-FLV and WebSocket-FLV through the relay', { skip }, () => {
  let nms: NmsOrigin;
  let ffmpeg: ChildProcess;
  let relay: StartedRelay;
  let browser: Browser;
  let page: { url: string; close: () => Promise<void> };
  before(async () => {
    nms = await startNms();
    ffmpeg = publishTestStream(`${nms.rtmpUrl}/live/cam1`);
    relay = await startRelay({ nodes: [{ id: 'nms', url: nms.httpUrl }], routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }] });
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          http
            .get(`${nms.httpUrl}/live/cam1.flv`, (res) => {
              res.once('data', () => undefined);
              setTimeout(() => {
                res.destroy();
                resolve(res.statusCode === 200);
              }, 300);
            })
            .on('error', () => resolve(false));
        }),
      20000,
      'the published stream',
    );
    browser = await launchChromium();
    page = await servePlayerPage(PLAYER_HTML, 'mpegts.js/dist/mpegts.js');
  });
  after(async () => {
    await browser?.close();
    await page?.close();
    ffmpeg?.kill('SIGKILL');
    await relay?.stop();
    await nms?.stop();
  });

  it('a late joiner plays: currentTime advances and frames are decoded', async () => {
    // an early viewer keeps the stream warm so the player joins a running stream
    const early = http.get(`${relay.relayUrl}/live/cam1.flv`, (res) => res.resume());
    // running: the relay has seen two keyframes, so the player joins mid-stream from the GOP cache
    await waitFor(
      async () => (await relay.api.call('GET', '/api/streams')).body.some((s: any) => s.state === 'live' && s.gopMs > 0),
      15_000,
      'the stream to run',
    );
    const tab = await browser.newPage();
    await tab.goto(page.url);
    await tab.evaluate((url) => (window as any).startPlayer(url), `${relay.relayUrl}/live/cam1.flv`);
    const first = await waitFor(
      async () => {
        const p = await tab.evaluate(() => (window as any).playback());
        if (p.error) throw new Error(`player error: ${p.error}`);
        return p.currentTime > 0.5 && p.frames > 10 ? p : undefined;
      },
      15000,
      'playback to start',
    );
    const later = await waitFor(
      async () => {
        const p = await tab.evaluate(() => (window as any).playback());
        return p.currentTime > first.currentTime + 1 && p.frames > first.frames + 25 ? p : undefined;
      },
      10_000,
      'playback to advance by a second and 25 frames',
    );
    assert.equal(later.width, 320);
    const [stream] = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(stream.upstreamOpened, 1, 'the player shared the running pull');
    assert.equal(stream.viewers, 2);
    await tab.close();
    early.destroy();
  });

  it('plays WebSocket-FLV (ws://) from the same fan-out, shown as a ws session', async () => {
    // an HTTP viewer keeps the stream warm: the WebSocket player joins the running pull
    const early = http.get(`${relay.relayUrl}/live/cam1.flv`, (res) => res.resume());
    await waitFor(
      async () => (await relay.api.call('GET', '/api/streams')).body.some((s: any) => s.state === 'live' && s.gopMs > 0),
      15_000,
      'the stream to run',
    );
    const opened = (await relay.api.call('GET', '/api/streams')).body[0].upstreamOpened;
    const tab = await browser.newPage();
    await tab.goto(page.url);
    await tab.evaluate((url) => (window as any).startPlayer(url), `${relay.relayUrl.replace(/^http:/, 'ws:')}/live/cam1.flv`);
    const first = await waitFor(
      async () => {
        const p = await tab.evaluate(() => (window as any).playback());
        if (p.error) throw new Error(`player error: ${p.error}`);
        return p.currentTime > 0.5 && p.frames > 10 ? p : undefined;
      },
      15000,
      'WebSocket playback to start',
    );
    const later = await waitFor(
      async () => {
        const p = await tab.evaluate(() => (window as any).playback());
        return p.currentTime > first.currentTime + 1 && p.frames > first.frames + 25 ? p : undefined;
      },
      10_000,
      'WebSocket playback to advance by a second and 25 frames',
    );
    assert.equal(later.width, 320);
    const [stream] = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(stream.upstreamOpened, opened, 'the WebSocket player shared the running pull');
    assert.equal(stream.viewers, 2);
    const sessions = (await relay.api.call('GET', '/api/sessions')).body as any[];
    assert.deepEqual(sessions.map((s) => s.transport).sort(), ['http', 'ws']);
    await tab.close();
    early.destroy();
  });
});
