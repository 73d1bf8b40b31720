/**
 * The Traffic page reads past records back from disk, in headless Chromium against
 * `relaydeck serve` (its logs go to `logs/` beside its config file): the "From disk" view shows
 * the session records, a search runs over the access log in the engine, and "Older from disk"
 * brings back the requests the page's bounded list (app.trafficLogEntries) had dropped.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { request, sleep, waitFor } from '../helpers/http.js';
import { goTo, holdViewer, openSignedIn, startServe, uiSkipReason, UI_TOKEN, UI_WAIT_MS, type Served } from './ui-support.js';

const skip = uiSkipReason(noChromium);
if (skip) console.log(`# skipping the UI traffic-from-disk suite: ${skip}`);

/** Refused requests sent: more than the page keeps (app.trafficLogEntries set to its least, 100). */
const REQUESTS = 150;
/** Requests sent at once. */
const BURST = 6;

async function logsStatus(served: Served): Promise<{ access: { written: number; queued: number }; sessions: { written: number } }> {
  const response = await fetch(`${served.adminUrl}/api/logs`, { headers: { authorization: `Bearer ${UI_TOKEN}` } });
  return (await response.json()) as never;
}

/** The paths of the rows drawn, top first. */
const paths = (page: Page) => page.locator('.traffic-row span.path').allTextContents();

describe('Traffic: past records from disk', { skip, timeout: 120_000 }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  before(async () => {
    served = await startServe({ relay: { port: 0, shutdownGraceMs: 500 }, admin: { port: 0, token: UI_TOKEN }, app: { trafficLogEntries: 100 } });
    const viewer = await holdViewer(`${served.relayUrl}/demo/live.flv`, 'disk-e2e-viewer');
    await waitFor(() => viewer.bytes() > 10_000, UI_WAIT_MS, 'the demo viewer to play');
    viewer.close();
    await waitFor(async () => (await logsStatus(served)).sessions.written >= 1, UI_WAIT_MS, 'the viewer session record');
    // In bursts, so that several requests end in one millisecond, the one where the live list's bound falls among them.
    for (let i = 0; i < REQUESTS; i += BURST) {
      const burst = Array.from({ length: Math.min(BURST, REQUESTS - i) }, (_, k) => request(`${served.relayUrl}/nowhere-${i + k}`));
      assert.deepEqual(
        (await Promise.all(burst)).map((r) => r.status),
        burst.map(() => 404),
      );
      await sleep(2);
    }
    await waitFor(async () => (await logsStatus(served)).access.written >= REQUESTS + 1, UI_WAIT_MS, 'every request in the access log');
    browser = await launchChromium();
    ({ page, problems } = await openSignedIn(browser, served.adminUrl));
    await goTo(page, 'traffic', 'Traffic');
  });

  after(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('shows the session records from disk', async () => {
    await page.getByRole('tab', { name: 'From disk' }).click();
    const counts = page.getByTestId('past-counts');
    await counts.getByText(/records from the session records · oldest reached/).waitFor({ timeout: UI_WAIT_MS });
    assert.ok((await paths(page)).includes('/demo/live.flv'), `rows: ${(await paths(page)).join(', ')}`);
  });

  it('searches the access log in the engine', async () => {
    await page.getByLabel('Log file').selectOption('access');
    await page.getByLabel('Search records on disk').fill('nowhere-7');
    await page.getByRole('button', { name: 'Load newest' }).click();
    const counts = page.getByTestId('past-counts');
    await counts.getByText(/^11 records from the access log · matching "nowhere-7" · oldest reached$/).waitFor({ timeout: UI_WAIT_MS });
    assert.deepEqual(await paths(page), [
      '/nowhere-79',
      '/nowhere-78',
      '/nowhere-77',
      '/nowhere-76',
      '/nowhere-75',
      '/nowhere-74',
      '/nowhere-73',
      '/nowhere-72',
      '/nowhere-71',
      '/nowhere-70',
      '/nowhere-7',
    ]);
  });

  it('brings back from disk the requests the live list dropped', async () => {
    await page.getByRole('tab', { name: 'Live' }).click();
    const live = page.getByTestId('traffic-counts');
    await live.getByText(/older dropped/).waitFor({ timeout: UI_WAIT_MS });
    await page.setViewportSize({ width: 1400, height: 4_200 }); // every row drawn: the lists draw only the rows in view
    await sleep(200);
    const kept = (await paths(page)).filter((p) => p.startsWith('/nowhere-'));
    assert.equal(kept.length, 100, 'the page keeps the newest 100 finished requests');
    await page.getByRole('button', { name: 'Older from disk' }).click();
    const counts = page.getByTestId('past-counts');
    await counts.getByText(/records from the access log that ended at or before .* · oldest reached/).waitFor({ timeout: UI_WAIT_MS });
    const older = (await paths(page)).filter((p) => p.startsWith('/nowhere-'));
    // Together, once each: every request sent, though some that ended in the live list's oldest millisecond were dropped from it.
    assert.deepEqual(
      [...kept, ...older].sort(),
      Array.from({ length: REQUESTS }, (_, i) => `/nowhere-${i}`).sort(),
      `live ${kept.slice(-8).join(' ')} | disk ${older.slice(0, 8).join(' ')}`,
    );
    assert.deepEqual(problems, [], 'no console errors (CSP included)');
  });
});
