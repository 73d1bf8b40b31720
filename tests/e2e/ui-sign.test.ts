/**
 * The Routes page signs viewer URLs (issue: signing tools in the UI): the signed URL it
 * shows is accepted by the relay, and the same path without a signature is refused.
 * Issue 12, point 6: with the relay bound to every interface and relay.publicUrl unset, the
 * URL is on the host the page was loaded from (never 0.0.0.0); once relay.publicUrl is set
 * on the Settings page, the URL and its copy button use it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { TestOrigin } from '../helpers/origin.js';
import { goTo, openSignedIn, probe, startServe, uiSkipReason, UI_TOKEN, UI_WAIT_MS, type Served } from './ui-support.js';

const skip = uiSkipReason(noChromium);
if (skip) console.log(`# skipping the UI signing suite: ${skip}`);

describe('signing viewer URLs on the Routes page', { skip }, () => {
  const origin = new TestOrigin();
  let served: Served;
  let browser: Browser;
  before(async () => {
    const url = await origin.start();
    served = await startServe({
      relay: { host: '0.0.0.0', port: 0 },
      admin: { port: 0, token: UI_TOKEN },
      health: { intervalMs: 0 },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'vod', path: '/vod/', kind: 'file', mode: 'proxy', auth: { keys: [{ id: 'k1', secret: 'ui-signing-secret-0123' }] } }],
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await served?.stop();
    await origin.stop();
  });

  it('shows a signed URL on the host the page was loaded from, which the relay accepts', async () => {
    // The page at "localhost": the relay listens on 0.0.0.0, so the viewer URL is localhost and the relay port.
    const { page, problems } = await openSignedIn(browser, served.adminUrl.replace('127.0.0.1', 'localhost'));
    await goTo(page, 'routes', 'Routes');
    await page.getByLabel('Path to sign').fill('/vod/movie.mp4');
    await page.getByLabel('Valid for').fill('15m');
    await page.getByRole('button', { name: 'Sign', exact: true }).click();
    const answer = page.getByTestId('sign-answer');
    await answer.waitFor({ timeout: UI_WAIT_MS });
    const url = (await answer.locator('code').textContent()) ?? '';
    assert.match(url, new RegExp(`^http://localhost:${new URL(served.relayUrl).port}/vod/movie\\.mp4\\?sign=\\d+-[0-9a-f]{64}$`));
    assert.equal((await probe(url)).status, 200, 'the relay accepts the signed URL');
    assert.equal((await probe(`${served.relayUrl}/vod/movie.mp4`)).status, 401, 'and refuses the bare path');
    await page.getByLabel('Path to sign').fill('/elsewhere/x');
    await page.getByRole('button', { name: 'Sign', exact: true }).click();
    await page.getByText(/is not under route "vod"/).waitFor({ timeout: UI_WAIT_MS });
    assert.deepEqual(
      problems.filter((p) => !/status of 400/.test(p)),
      [],
      'no page errors besides the refused signing call',
    );
  });

  it('with relay.publicUrl set on the Settings page, the signed URL and its copy button use it', async () => {
    const { page } = await openSignedIn(browser, served.adminUrl);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: served.adminUrl });
    await goTo(page, 'settings', 'Settings');
    await page.getByLabel(/^Public relay URL for viewers/).fill('https://live.example.com/relay');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved: applies from the next request.').waitFor({ timeout: UI_WAIT_MS });
    await goTo(page, 'routes', 'Routes');
    await page.getByLabel('Path to sign').fill('/vod/movie.mp4');
    await page.getByRole('button', { name: 'Sign', exact: true }).click();
    const answer = page.getByTestId('sign-answer');
    await answer.waitFor({ timeout: UI_WAIT_MS });
    const url = (await answer.locator('code').textContent()) ?? '';
    assert.match(url, /^https:\/\/live\.example\.com\/relay\/vod\/movie\.mp4\?sign=\d+-[0-9a-f]{64}$/);
    await answer.getByRole('button', { name: /^Copy URL/ }).click();
    await answer
      .getByRole('button', { name: /^Copy URL/ })
      .getByText('Copied')
      .waitFor({ timeout: UI_WAIT_MS });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), url);
    const settings = (await (await fetch(`${served.adminUrl}/api/settings`, { headers: { authorization: `Bearer ${UI_TOKEN}` } })).json()) as {
      relay: { publicUrl: string };
    };
    assert.equal(settings.relay.publicUrl, 'https://live.example.com/relay');
  });
});
