/**
 * The Traffic page with more than 10,000 real requests and 200 live viewers, in headless
 * Chromium against `relaydeck serve`: it stays responsive and bounded. Figures are
 * measured in the page and printed (search latency, scroll frame times, long tasks, DOM
 * rows, JS heap); the only assertions are on bounds (rows kept, rows in the DOM), never
 * on time.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { waitFor } from '../helpers/http.js';
import { goTo, holdViewer, openSignedIn, startServe, uiSkipReason, UI_TOKEN, type HeldViewer, type Served } from './ui-support.js';

const skip = uiSkipReason(noChromium);
if (skip) console.log(`# skipping the UI traffic suite: ${skip}`);

/** Requests sent: more than the page keeps (app.trafficLogEntries, 10,000 by default). */
const REQUESTS = 12_000;
/** Requests in flight at once while flooding. */
const CONCURRENCY = 32;
/** Live FLV viewers of the demo stream during the measurement. */
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
async function scrollFrames(page: Page): Promise<{ mean: number; max: number; domRows: number }> {
  return page.evaluate(async () => {
    const list = document.querySelector<HTMLElement>('.vlist')!;
    const times: number[] = [];
    let last = performance.now();
    for (let i = 1; i <= 60; i += 1) {
      list.scrollTop = (list.scrollHeight * i) / 60;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return { mean: times.reduce((a, b) => a + b, 0) / times.length, max: Math.max(...times), domRows: document.querySelectorAll('.vrow').length };
  });
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
    await waitFor(async () => new RegExp(`${VIEWERS} in flight`).test(((await counts.textContent()) ?? '').replace(/,/g, '')), 30_000, `${VIEWERS} viewers in flight`);
    const text = (await counts.textContent()) ?? '';
    const shown = Number(/^([\d,]+) requests/.exec(text)?.[1].replace(/,/g, ''));
    assert.ok(shown >= PAGE_LIMIT && shown <= PAGE_LIMIT + VIEWERS, `rows kept: ${text}`);

    // Five seconds of live updates (200 live rows with growing bytes, 10,000 finished) before measuring.
    await page.waitForTimeout(5_000);
    const searchMs = await timeSearch(page, 'item-11999');
    const matching = await page.locator('.traffic-row').count();
    const clearMs = await timeSearch(page, '');
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
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (w.longTasks.length !== before + 1) throw new Error(`the long-task observer missed the calibration task (${w.longTasks.length - before} seen)`);
      w.longTasks.pop();
      const memory = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
      return { longTasks: w.longTasks.length, longTaskMax: Math.max(0, ...w.longTasks), longTaskTotal: w.longTasks.reduce((a, b) => a + b, 0), heapMb: memory ? memory.usedJSHeapSize / 1_048_576 : -1 };
    });
    console.log(`# traffic UI: ${REQUESTS} requests flooded in ${floodMs} ms with ${VIEWERS} live viewers; page shows "${text}"`);
    console.log(`# traffic UI: search over ${shown} rows: ${searchMs.toFixed(1)} ms to show ${matching} match(es); clearing: ${clearMs.toFixed(1)} ms`);
    console.log(`# traffic UI: scrolling top to bottom: mean frame ${scroll.mean.toFixed(1)} ms, worst ${scroll.max.toFixed(1)} ms, ${scroll.domRows} rows in the DOM`);
    console.log(`# traffic UI: long tasks (over 50 ms) while flooding, updating, searching and scrolling: ${stats.longTasks} (worst ${stats.longTaskMax.toFixed(0)} ms, total ${stats.longTaskTotal.toFixed(0)} ms); JS heap ${stats.heapMb.toFixed(1)} MB`);
    assert.ok(searchMs >= 0, 'the search answered');
    assert.equal(matching, 1, "one row matches item-11999");
    assert.ok(scroll.domRows < 200, `${scroll.domRows} rows in the DOM: the list is virtualized`);
  });
});
