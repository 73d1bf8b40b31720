/**
 * The Traffic page with more than 10,000 real requests and 200 live viewers, in headless
 * Chromium against `relaydeck serve`: it stays responsive and bounded. The assertions are on
 * what the operator sees (the rows kept, the one row a search finds and its content, the
 * whole list back when the search is cleared, the end of the list reachable by scrolling,
 * a few dozen rows in the DOM). Timings (search latency, scroll frame times, long tasks, JS
 * heap) are measured in the page and printed for the README, never asserted.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { waitFor } from '../helpers/http.js';
import { goTo, holdViewer, openSignedIn, startServe, uiSkipReason, UI_TOKEN, UI_WAIT_MS, type HeldViewer, type Served } from './ui-support.js';

const skip = uiSkipReason(noChromium);
if (skip) console.log(`# skipping the UI traffic suite: ${skip}`);

/** Requests sent: more than the page keeps (app.trafficLogEntries, 10,000 by default). */
const REQUESTS = 12_000;
/** Requests in flight at once while flooding. */
const CONCURRENCY = 32;
/** Live viewers held during the measurement (UI_BENCH_VIEWERS=1000 for the figure). */
const VIEWERS = Number(process.env.UI_BENCH_VIEWERS ?? 200);
const PAGE_LIMIT = 10_000;

async function flood(baseUrl: string, count: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await new Promise<void>((resolve, reject) => {
        http
          .get(`${baseUrl}/bulk/item-${i}.flv`, { agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return Date.now() - started;
}

/** In the page: set the search box and time until the filtered count is on screen. */
async function timeSearch(page: Page, text: string): Promise<number> {
  return page.evaluate(async (query) => {
    const input = document.querySelector<HTMLInputElement>('input[type=search]')!;
    const counts = document.querySelector('[data-testid=traffic-counts]')!;
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    const started = performance.now();
    setValue.call(input, query);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    const filtering = query !== '';
    while (/ of /.test(counts.textContent ?? '') !== filtering) {
      if (performance.now() - started > 10_000) return -1;
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    return performance.now() - started;
  }, text);
}

/** In the page: scroll the list top to bottom in 60 frames; frame times in ms. */
async function scrollFrames(page: Page): Promise<{ mean: number; max: number; domRows: number; lastRowIndex: number; rowCount: number }> {
  return page.evaluate(async () => {
    const list = document.querySelector<HTMLElement>('.vlist')!;
    const table = list.closest('[role=table]')!;
    const times: number[] = [];
    let last = performance.now();
    for (let i = 1; i <= 60; i += 1) {
      list.scrollTop = (list.scrollHeight * i) / 60;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    // The list draws the rows for the new position on the frame after the scroll event: wait for the last one.
    // (No named function in here: tsx would wrap it in a helper the page does not have.)
    let lastRowIndex = 0;
    for (let frame = 0; frame < 120; frame += 1) {
      lastRowIndex = Math.max(...Array.from(list.querySelectorAll('.vrow'), (row) => Number(row.getAttribute('aria-rowindex'))));
      if (lastRowIndex === Number(table.getAttribute('aria-rowcount'))) break;
      await new Promise((resolve) => requestAnimationFrame(resolve));
    }
    return {
      mean: times.reduce((a, b) => a + b, 0) / times.length,
      max: Math.max(...times),
      domRows: document.querySelectorAll('.vrow').length,
      lastRowIndex,
      rowCount: Number(table.getAttribute('aria-rowcount')),
    };
  });
}

/** Wait until the page has drawn `count` pushed updates: the duration and bytes of the top live row move with each. */
async function liveUpdates(page: Page, count: number): Promise<void> {
  const live = page.locator('.traffic-row.is-live').first();
  const seen = new Set<string>();
  await waitFor(
    async () => {
      seen.add((await live.locator('span.num').allTextContents()).join(' '));
      return seen.size > count;
    },
    30_000,
    `${count} live updates drawn`,
  );
}

describe('Traffic with 10,000+ entries stays responsive and bounded', { skip }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  const viewers: HeldViewer[] = [];

  before(async () => {
    served = await startServe({ relay: { port: 0, shutdownGraceMs: 500, requestLogEntries: 20_000 }, admin: { port: 0, token: UI_TOKEN } });
    const response = await fetch(`${served.adminUrl}/api/routes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${UI_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'bulk', path: '/bulk/', kind: 'flv', mode: 'redirect', nodes: ['demo'] }),
    });
    assert.equal(response.status, 201);
    browser = await launchChromium();
    ({ page } = await openSignedIn(browser, served.adminUrl));
    await page.evaluate(() => {
      const w = window as unknown as { longTasks: number[] };
      w.longTasks = [];
      new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({ type: 'longtask', buffered: true });
    });
    await goTo(page, 'traffic', 'Traffic');
  });

  after(async () => {
    viewers.forEach((v) => v.close());
    await browser?.close();
    await served?.stop();
  });

  it(`keeps the last ${PAGE_LIMIT} of ${REQUESTS} requests, renders a few dozen rows, answers search and scroll at once`, async () => {
    for (let i = 0; i < VIEWERS; i += 1) viewers.push(await holdViewer(`${served.relayUrl}/demo/live.flv`, `load-viewer-${i}`));
    const floodMs = await flood(served.relayUrl, REQUESTS);
    const counts = page.getByTestId('traffic-counts');
    const droppedText = `(${(REQUESTS - PAGE_LIMIT).toLocaleString('en-US')} older dropped)`;
    await waitFor(async () => ((await counts.textContent()) ?? '').includes(droppedText), 30_000, 'every request to reach the page, the oldest dropped');
    await waitFor(
      async () => new RegExp(`${VIEWERS} in flight`).test(((await counts.textContent()) ?? '').replace(/,/g, '')),
      30_000,
      `${VIEWERS} viewers in flight`,
    );
    const text = (await counts.textContent()) ?? '';
    const shown = Number(/^([\d,]+) requests/.exec(text)?.[1].replace(/,/g, ''));
    assert.ok(shown >= PAGE_LIMIT && shown <= PAGE_LIMIT + VIEWERS, `rows kept: ${text}`);

    // Five live updates (200 live rows with growing bytes, 10,000 finished) drawn before measuring.
    await liveUpdates(page, 5);
    const searchMs = await timeSearch(page, 'item-11999');
    await counts.getByText(/^1 of [\d,]+ requests/).waitFor({ timeout: UI_WAIT_MS });
    const found = page.locator('.traffic-row');
    assert.equal(await found.count(), 1, 'one row matches item-11999');
    assert.equal(await found.locator('span.path').textContent(), '/bulk/item-11999.flv');
    assert.equal(await found.locator('span.status').textContent(), '302', 'redirected by the bulk route');
    assert.equal(await found.locator('span.route').textContent(), 'bulk', 'the route column');
    const clearMs = await timeSearch(page, '');
    await waitFor(async () => !/ of /.test((await counts.textContent()) ?? ''), UI_WAIT_MS, 'the count without a search');
    assert.ok((await page.locator('.traffic-row').count()) > 1, 'clearing the search shows the whole list again');
    const scroll = await scrollFrames(page);
    const stats = await page.evaluate(async () => {
      const w = window as unknown as { longTasks: number[] };
      // Calibration: one deliberate 80 ms task must be seen, so "0 long tasks" means none happened.
      const before = w.longTasks.length;
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          const start = performance.now();
          while (performance.now() - start < 80);
          resolve();
        }),
      );
      // The observer reports the task a little later: wait for it (up to 2 s), then check it came alone.
      const deadline = performance.now() + 2_000;
      while (w.longTasks.length === before && performance.now() < deadline) await new Promise((resolve) => requestAnimationFrame(resolve));
      if (w.longTasks.length !== before + 1) throw new Error(`the long-task observer missed the calibration task (${w.longTasks.length - before} seen)`);
      w.longTasks.pop();
      const memory = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
      return {
        longTasks: w.longTasks.length,
        longTaskMax: Math.max(0, ...w.longTasks),
        longTaskTotal: w.longTasks.reduce((a, b) => a + b, 0),
        heapMb: memory ? memory.usedJSHeapSize / 1_048_576 : -1,
      };
    });
    console.log(`# traffic UI: ${REQUESTS} requests flooded in ${floodMs} ms with ${VIEWERS} live viewers; page shows "${text}"`);
    console.log(`# traffic UI: search over ${shown} rows: ${searchMs.toFixed(1)} ms to show its one match; clearing: ${clearMs.toFixed(1)} ms`);
    console.log(
      `# traffic UI: scrolling top to bottom: mean frame ${scroll.mean.toFixed(1)} ms, worst ${scroll.max.toFixed(1)} ms, ${scroll.domRows} rows in the DOM`,
    );
    console.log(
      `# traffic UI: long tasks (over 50 ms) while flooding, updating, searching and scrolling: ${stats.longTasks} (worst ${stats.longTaskMax.toFixed(0)} ms, total ${stats.longTaskTotal.toFixed(0)} ms); JS heap ${stats.heapMb.toFixed(1)} MB`,
    );
    assert.equal(scroll.lastRowIndex, scroll.rowCount, 'scrolling to the bottom shows the last row (the oldest kept)');
    assert.ok(scroll.domRows < 200, `${scroll.domRows} rows in the DOM: the list is virtualized`);
  });
});
