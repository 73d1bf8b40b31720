/**
 * A browser on another machine of the LAN: relay and admin bound to every interface, the UI
 * opened at an address that is not 127.0.0.1 (127.0.0.2 stands in for a LAN address: it is
 * another host to Chromium and its CSP, and it exists on every Linux machine). The preview
 * must play from the relay at that host: the UI's CSP allows the relay as the page reaches
 * it, not only loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { goTo, holdViewer, openSignedIn, previewPlaying, startServe, uiSkipReason, UI_TOKEN, UI_WAIT_MS, type HeldViewer, type Served } from './ui-support.js';

const skip = uiSkipReason(noChromium);
if (skip) console.log(`# skipping the LAN preview suite: ${skip}`);

const FLV_PATH = '/demo/live.flv';
const LAN_HOST = '127.0.0.2';

describe('the UI opened from another host (admin and relay on 0.0.0.0)', { skip }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let adminUrl: string;
  let relayPort: string;
  let viewer: HeldViewer | undefined;

  before(async () => {
    served = await startServe({
      relay: { host: '0.0.0.0', port: 0, shutdownGraceMs: 500 },
      admin: { host: '0.0.0.0', allowRemote: true, port: 0, token: UI_TOKEN },
    });
    adminUrl = `http://${LAN_HOST}:${new URL(served.adminUrl).port}`;
    relayPort = new URL(served.relayUrl).port;
    // A viewer keeps the demo stream live, so the Streams page lists it.
    viewer = await holdViewer(`http://127.0.0.1:${relayPort}${FLV_PATH}`, 'lan-preview-viewer');
    browser = await launchChromium();
    ({ page, problems } = await openSignedIn(browser, adminUrl));
  });

  after(async () => {
    viewer?.close();
    await browser?.close();
    const code = await served?.stop();
    assert.equal(code, 0, `relaydeck serve exited ${code}: ${served?.stderr()}`);
  });

  it("the page's CSP lets the preview reach the relay at the page's host, and nothing from a hostile Host header", async () => {
    const page = await fetch(`${adminUrl}/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.ok(csp.includes(`connect-src 'self' http://127.0.0.1:* http://localhost:* http://${LAN_HOST}:${relayPort}`), csp);
    // fetch() cannot set Host; a raw request can.
    const { request } = await import('node:http');
    const hostile = await new Promise<string>((resolve, reject) => {
      const req = request(`${adminUrl}/`, { headers: { host: "evil.example; script-src 'unsafe-inline'" } }, (res) => {
        res.resume();
        resolve(String(res.headers['content-security-policy']));
      });
      req.on('error', reject);
      req.end();
    });
    assert.doesNotMatch(hostile, /evil|unsafe-inline'? *;? *$|script-src 'unsafe-inline'/, hostile);
    assert.match(hostile, /script-src 'self';/);
  });

  it('the preview plays from the relay at that host (currentTime advances)', async () => {
    await goTo(page, 'streams', 'Streams');
    const row = page.locator('tr', { hasText: FLV_PATH }).first();
    await row.getByText('live', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    await row.getByRole('button', { name: 'Preview' }).click();
    const { currentTime } = await previewPlaying(page, `the preview to play (page problems: ${problems.join(' | ')})`);
    assert.ok(currentTime > 0.5);
    assert.match(
      (await page.getByText(/^Playing /).textContent()) ?? '',
      new RegExp(`http://${LAN_HOST.replace(/\./g, '\\.')}:${relayPort}${FLV_PATH}`),
      'played from the relay at the page host',
    );
    assert.deepEqual(
      problems.filter((p) => /Content Security Policy|Refused to connect/i.test(p)),
      [],
      'no CSP violation',
    );
  });
});
