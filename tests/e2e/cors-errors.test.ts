/**
 * A web player on another origin reads the relay's error answers (issue 12 point 5): in real
 * Chromium, a page served from 127.0.0.2 fetches through the relay on 127.0.0.1 an offline FLV
 * stream (404 STREAM_OFFLINE) and a signed URL whose signature expired (410 AUTH_EXPIRED, with
 * an Authorization header, so the browser sends a preflight first); it reads the JSON error code
 * instead of "Failed to fetch". mpegts.js sees the real status (404) in its error event.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright';
import { makeSign } from '../../electron/engine/relay/auth/signing.js';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { TestOrigin } from '../helpers/origin.js';
import { startRelay, type StartedRelay } from '../helpers/relay.js';

const KEY = { id: 'k1', secret: 'e2e-cors-secret-0123456789' };
const PAGE_HOST = '127.0.0.2';

const PAGE_HTML = `<!doctype html><html><body><video id="v" muted></video><script src="/lib.js"></script>
<script>
  window.readError = async (url, headers) => {
    try {
      const response = await fetch(url, { headers });
      const body = await response.json();
      return { status: response.status, code: body.error.code };
    } catch (error) {
      return { failed: String(error) };
    }
  };
  window.playFlv = (url) => new Promise((resolve) => {
    const player = mpegts.createPlayer({ type: 'flv', isLive: true, url });
    player.on(mpegts.Events.ERROR, (type, detail, info) => resolve({ type, detail, code: info && info.code }));
    player.attachMediaElement(document.getElementById('v'));
    player.load();
  });
</script></body></html>`;

/** The page and mpegts.js, served from another origin than the relay's. */
async function servePage(): Promise<{ url: string; close: () => Promise<void> }> {
  const library = readFileSync(createRequire(import.meta.url).resolve('mpegts.js/dist/mpegts.js'));
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': req.url === '/lib.js' ? 'text/javascript' : 'text/html' });
    res.end(req.url === '/lib.js' ? library : PAGE_HTML);
  });
  await new Promise<void>((resolve) => server.listen(0, PAGE_HOST, resolve));
  return { url: `http://${PAGE_HOST}:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('a player on another origin reads relay errors', { skip: noChromium }, () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let browser: Browser;
  let site: { url: string; close: () => Promise<void> };
  let tab: Page;
  before(async () => {
    origin.handler = (_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no such stream');
    };
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'paid', path: '/paid/', kind: 'flv', mode: 'proxy', auth: { keys: [KEY] } },
      ],
    });
    site = await servePage();
    browser = await launchChromium();
    tab = await browser.newPage();
    await tab.goto(site.url);
  });
  after(async () => {
    await browser?.close();
    await site?.close();
    await relay?.stop();
    await origin.stop();
  });

  it('fetch of an offline stream reads 404 STREAM_OFFLINE', async () => {
    const result = await tab.evaluate(([url]) => (window as any).readError(url, {}), [`${relay.relayUrl}/live/gone.flv`]);
    assert.deepEqual(result, { status: 404, code: 'STREAM_OFFLINE' });
  });

  it('fetch of an expired signed URL, with a preflight for its Authorization header, reads 410 AUTH_EXPIRED', async () => {
    const sign = makeSign(KEY.secret, '/paid/cam1.flv', Math.floor(Date.now() / 1000) - 60);
    const result = await tab.evaluate(
      ([url]) => (window as any).readError(url, { authorization: 'Bearer player' }),
      [`${relay.relayUrl}/paid/cam1.flv?sign=${sign}`],
    );
    assert.deepEqual(result, { status: 410, code: 'AUTH_EXPIRED' });
    assert.equal(origin.requests.filter((r) => r.method === 'OPTIONS').length, 0, 'the preflight never reached the node');
  });

  it('mpegts.js reports the real HTTP status of an offline stream', async () => {
    const error = await tab.evaluate(([url]) => (window as any).playFlv(url), [`${relay.relayUrl}/live/gone.flv`]);
    assert.equal(error.type, 'NetworkError');
    assert.equal(error.detail, 'HttpStatusCodeInvalid');
    assert.equal(error.code, 404);
  });
});
