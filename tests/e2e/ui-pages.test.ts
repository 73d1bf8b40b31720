/**
 * The operator UI in headless Chromium against `relaydeck serve`, as a new user meets it:
 * a config with no nodes and no routes, so the built-in demo node installs itself and a
 * live stream is there at once. Each page shows the engine's real data; switching a route
 * to redirect makes the next real request get a 302; pausing makes it get 503; kicking a
 * viewer closes its connection; the preview plays through the relay (currentTime
 * advances); forms refuse bad input naming the field; the demo goes in one click.
 * Issue 12: a route added with the form's default nodes never uses the demo node; the
 * form, the Routes page and the resolve check warn about a redirect with locate "first"
 * over several nodes; the Routes table fits 1280 px; viewers leaving are not errors on the
 * Routes and Traffic pages; the Traffic page shows the times it orders by. Every tls setting
 * (HTTP/2, ACME) is edited on the Settings page like the others.
 * Screenshots of every page: build/screenshots/ with `npm run screenshots` (the README
 * shows them), a temp folder otherwise (ui-support.ts).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { TestCa, writePem } from '../helpers/test-ca.js';
import { LiveFlvOrigin } from '../helpers/flv-origin.js';
import { sleep, waitFor } from '../helpers/http.js';
import {
  goTo,
  holdViewer,
  openSignedIn,
  previewPlaying,
  probe,
  screenshot,
  startServe,
  uiSkipReason,
  UI_TOKEN,
  UI_WAIT_MS,
  type HeldViewer,
  type Served,
} from './ui-support.js';

const skip = uiSkipReason(noChromium);
if (skip) console.log(`# skipping the UI pages suite: ${skip}`);

const FLV_PATH = '/demo/live.flv';
const HLS_PATH = '/demo-hls/live.m3u8';
/** Second points the dashboard screenshot waits for, so its charts show a trend. */
const DASHBOARD_POINTS = 40;

/** A plain HLS client: every second, the playlist and its newest segment, through the relay. */
function pollHls(relayUrl: string): () => void {
  const timer = setInterval(async () => {
    try {
      const playlist = await (await fetch(`${relayUrl}${HLS_PATH}`)).text();
      const last = playlist
        .trim()
        .split('\n')
        .filter((line) => line && !line.startsWith('#'))
        .at(-1);
      if (last) await (await fetch(new URL(last, `${relayUrl}${HLS_PATH}`))).arrayBuffer();
    } catch {
      /* the demo may be gone (last test) */
    }
  }, 1_000);
  return () => clearInterval(timer);
}

/**
 * True when clock times ("HH:MM:SS", as the Traffic page shows them) run newest first and span
 * less than 12 hours. A clock without the date shows a time before midnight below one after it
 * (23:59:58 below 00:00:05): such a rise of more than 12 hours is read as the day before.
 */
function newestFirstByClock(times: readonly string[]): boolean {
  const DAY = 24 * 3600;
  /** How many days back the times below the last midnight seen are, in seconds. */
  let back = 0;
  const seconds: number[] = [];
  for (const time of times) {
    let at = time.split(':').reduce((sum, part) => sum * 60 + Number(part), 0) - back;
    if (seconds.length > 0 && at - seconds[seconds.length - 1] > DAY / 2) {
      back += DAY;
      at -= DAY;
    }
    seconds.push(at);
  }
  return seconds.every((s, i) => i === 0 || s <= seconds[i - 1]) && (seconds[0] ?? 0) - (seconds.at(-1) ?? 0) < DAY / 2;
}

describe('the operator UI against relaydeck serve (first run, demo node)', { skip }, () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  const viewers: HeldViewer[] = [];
  let stopHls = () => undefined as void;
  /** The operator's own nodes, added before the route form test. */
  const ownOrigins = [new LiveFlvOrigin(), new LiveFlvOrigin()];
  const api = async <T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${served.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${UI_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  before(async () => {
    served = await startServe({ relay: { port: 0, shutdownGraceMs: 500 }, tls: { enabled: true, port: 0 }, admin: { port: 0, token: UI_TOKEN } });
    // A few real viewers of the demo stream, so every page has something live to show.
    for (let i = 0; i < 3; i += 1) viewers.push(await holdViewer(`${served.relayUrl}${FLV_PATH}`, `e2e-viewer-${i} (Chromium-like)`));
    stopHls = pollHls(served.relayUrl);
    browser = await launchChromium();
    ({ page, problems } = await openSignedIn(browser, served.adminUrl));
  });

  after(async () => {
    stopHls();
    viewers.forEach((v) => v.close());
    await Promise.all(ownOrigins.map((o) => o.stop()));
    await browser?.close();
    const code = await served?.stop();
    assert.equal(code, 0, `relaydeck serve exited ${code}: ${served?.stderr()}`);
  });

  it('the first run starts the demo node: the dashboard shows its stream and live numbers', async () => {
    await page.getByText('Demo node running.').waitFor({ timeout: UI_WAIT_MS });
    const streams = page.getByRole('region', { name: 'Streams', exact: true });
    await waitFor(async () => Number(await streams.locator('.stat-value').textContent()) >= 1, UI_WAIT_MS, 'the demo stream on the dashboard');
    await waitFor(
      async () => Number(await page.getByRole('region', { name: 'Viewers', exact: true }).locator('.stat-value').textContent()) >= 3,
      UI_WAIT_MS,
      'three viewers',
    );
    assert.match((await page.getByRole('region', { name: 'To viewers', exact: true }).locator('.stat-value').textContent()) ?? '', /bit\/s$/);
    assert.equal(page.url().includes(UI_TOKEN), false, 'the token is not in the URL');
  });

  it('Streams: the demo stream with codec, resolution and GOP; its viewers with TTFB and TTFK', async () => {
    await goTo(page, 'streams', 'Streams');
    const row = page.locator('tr', { hasText: FLV_PATH }).first();
    await row.getByText('live', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    await row.getByText('25 frames · 1.00 s').waitFor({ timeout: UI_WAIT_MS });
    assert.match((await row.textContent()) ?? '', /avc \+ aac 320×180 @ 25 fps/);
    await row.getByRole('button', { name: `Viewers of ${FLV_PATH}` }).click();
    const table = page.getByRole('table', { name: `Viewers of ${FLV_PATH}` });
    await table.getByText('e2e-viewer-0 (Chromium-like)').waitFor({ timeout: UI_WAIT_MS });
    assert.match((await table.locator('tbody tr').first().textContent()) ?? '', /\d+ ms/, 'TTFB / TTFK are shown');
    await screenshot(page, 'streams');
  });

  it('Streams: kicking a viewer closes its connection', async () => {
    const victim = await holdViewer(`${served.relayUrl}${FLV_PATH}`, 'e2e-kick-me');
    await waitFor(() => victim.bytes() > 10_000, UI_WAIT_MS, 'the victim to receive media');
    const row = page.getByRole('table', { name: `Viewers of ${FLV_PATH}` }).locator('tbody tr', { hasText: 'e2e-kick-me' });
    await row.waitFor({ timeout: UI_WAIT_MS });
    const started = Date.now();
    await row.getByRole('button', { name: /^Kick viewer/ }).click();
    await Promise.race([victim.closed, sleep(5_000).then(() => assert.fail('the kicked viewer is still connected after 5 s'))]);
    console.log(`# kick: connection closed ${Date.now() - started} ms after the click`);
    await page.getByText(/kicked\./).waitFor({ timeout: UI_WAIT_MS });
  });

  it('Streams: the preview plays through the relay (currentTime advances)', async () => {
    const row = page.locator('tr', { hasText: FLV_PATH }).first();
    await row.getByRole('button', { name: 'Preview' }).click();
    const { video, currentTime: first } = await previewPlaying(page);
    const later = await waitFor(
      async () => {
        const now = await video.evaluate((v: HTMLVideoElement) => ({
          t: v.currentTime,
          w: v.videoWidth,
          frames: v.getVideoPlaybackQuality().totalVideoFrames,
        }));
        return now.t > first + 1 ? now : undefined;
      },
      UI_WAIT_MS,
      `currentTime to advance a second past ${first}`,
    );
    assert.equal(later.w, 320);
    assert.match(
      (await page.getByText(/^Playing /).textContent()) ?? '',
      new RegExp(`${served.relayUrl.replace(/[.:/]/g, '\\$&')}${FLV_PATH}`),
      'played from the relay URL',
    );
    console.log(`# preview: currentTime ${first.toFixed(2)} → ${later.t.toFixed(2)} s, ${later.frames} frames decoded`);
    await screenshot(page, 'preview');
    await row.getByRole('button', { name: 'Preview' }).click();
  });

  it('Routes: turning the switch makes the next real request get a 302, and back a 200', async () => {
    await goTo(page, 'routes', 'Routes');
    const toggle = page.getByRole('switch', { name: 'Proxy mode for route demo-flv' });
    assert.equal(await toggle.getAttribute('aria-checked'), 'true');
    assert.equal((await probe(`${served.relayUrl}${FLV_PATH}`)).status, 200);
    await toggle.click();
    await waitFor(async () => (await toggle.getAttribute('aria-checked')) === 'false', UI_WAIT_MS, 'the switch to show redirect');
    const redirected = await probe(`${served.relayUrl}${FLV_PATH}`);
    assert.equal(redirected.status, 302);
    assert.match(redirected.location ?? '', /^http:\/\/127\.0\.0\.1:\d+\/demo\/live\.flv$/);
    await toggle.click();
    await waitFor(async () => (await toggle.getAttribute('aria-checked')) === 'true', UI_WAIT_MS, 'the switch to show proxy');
    assert.equal((await probe(`${served.relayUrl}${FLV_PATH}`)).status, 200);
  });

  it('Routes: "where would this URL go?" answers as the relay would', async () => {
    await page.getByLabel('Path or URL to check').fill(`${served.relayUrl}/nowhere/x.flv`);
    await page.getByRole('button', { name: 'Check' }).click();
    await page.getByTestId('resolve-answer').getByText('NO_ROUTE').waitFor({ timeout: UI_WAIT_MS });
    await page.getByLabel('Path or URL to check').fill(`${FLV_PATH}?token=abc`);
    await page.getByRole('button', { name: 'Check' }).click();
    const answer = page.getByTestId('resolve-answer');
    await answer.getByText('proxied').waitFor({ timeout: UI_WAIT_MS });
    assert.match((await answer.textContent()) ?? '', /demo-flv/);
    assert.match((await answer.textContent()) ?? '', /\/demo\/live\.flv\?token=abc/);
    await screenshot(page, 'routes');
  });

  it('Routes: the table fits 1280 px (Remove in view, no scrolling)', async () => {
    const before = page.viewportSize()!;
    await page.setViewportSize({ width: 1280, height: 800 });
    try {
      const wrap = page.locator('.table-wrap').first();
      const wrapBox = (await wrap.boundingBox())!;
      for (const id of ['demo-flv', 'demo-hls']) {
        const box = (await page.locator(`tr[data-route="${id}"]`).getByRole('button', { name: 'Remove' }).boundingBox())!;
        assert.ok(box.x >= 0 && box.x + box.width <= 1280, `Remove of ${id} inside the viewport: ${JSON.stringify(box)}`);
        assert.ok(
          box.x + box.width <= wrapBox.x + wrapBox.width,
          `Remove of ${id} not clipped by the table: ${JSON.stringify(box)} in ${JSON.stringify(wrapBox)}`,
        );
      }
      const { scrollWidth, clientWidth } = await wrap.evaluate((el) => ({ scrollWidth: el.scrollWidth, clientWidth: el.clientWidth }));
      assert.ok(scrollWidth <= clientWidth, `the table does not scroll sideways (${scrollWidth} > ${clientWidth})`);
      await screenshot(page, 'routes-1280');
    } finally {
      await page.setViewportSize(before);
    }
  });

  it('Routes and Traffic: a viewer leaving (CLIENT_CLOSED) is not counted as an error', async () => {
    const leaver = await holdViewer(`${served.relayUrl}${FLV_PATH}`, 'e2e-leaves');
    await waitFor(() => leaver.bytes() > 10_000, UI_WAIT_MS, 'the leaver to receive media');
    leaver.close();
    type Stats = { routes: Record<string, { errors: Record<string, number> }> };
    await waitFor(
      async () => ((await api<Stats>('GET', '/api/stats')).body.routes['demo-flv']?.errors.CLIENT_CLOSED ?? 0) >= 1,
      UI_WAIT_MS,
      'the engine to count CLIENT_CLOSED',
    );
    const errors = page.locator('tr[data-route="demo-flv"] td.errors');
    await waitFor(
      async () => /^[1-9]\d* viewer\(s\) left/.test((await errors.getAttribute('title')) ?? ''),
      UI_WAIT_MS,
      'the Routes page to learn of the viewer leaving',
    );
    assert.doesNotMatch((await errors.textContent()) ?? '', /CLIENT_CLOSED|KICKED/, 'not among the errors');
    await goTo(page, 'traffic', 'Traffic');
    await page.getByLabel('Search requests').fill('e2e-leaves');
    const row = page.locator('.traffic-row', { hasText: 'CLIENT_CLOSED' });
    await row.first().waitFor({ timeout: UI_WAIT_MS });
    await page.getByLabel('Status').selectOption('errors');
    await waitFor(async () => (await page.locator('.traffic-row').count()) === 0, UI_WAIT_MS, 'the errors filter to leave the viewer out');
    await page.getByLabel('Status').selectOption('all');
    await page.getByLabel('Search requests').fill('');
    await goTo(page, 'routes', 'Routes');
  });

  it('Routes: the form refuses a bad route naming the field, then adds a good one (own nodes by default; redirect over two warns)', async () => {
    for (const [i, origin] of ownOrigins.entries()) {
      const created = await api('POST', '/api/nodes', { id: `own${i + 1}`, url: await origin.start() });
      assert.equal(created.status, 201, JSON.stringify(created.body));
    }
    await page.getByRole('button', { name: 'Add route' }).click();
    const form = page.getByRole('form', { name: 'Add route' });
    assert.equal(await form.getByLabel('All your nodes (in config order; not the demo node)').isChecked(), true, 'the default: your own nodes');
    await form.getByLabel('Id').fill('cams');
    await form.getByLabel('Path prefix').fill('no-slash');
    await form.getByRole('button', { name: 'Add route' }).click();
    await form.getByText('expected a path prefix that starts and ends with "/"').waitFor({ timeout: UI_WAIT_MS });
    await form.getByLabel('Path prefix').fill('/demo/');
    await form.getByRole('button', { name: 'Add route' }).click();
    await form.getByText('route "demo-flv" has this path already').waitFor({ timeout: UI_WAIT_MS });
    await form.getByLabel('Path prefix').fill('/cams/');
    const warning = form.getByTestId('route-form-warnings');
    assert.equal(await warning.count(), 0, 'proxy mode: no warning');
    await form.getByLabel('Mode').selectOption('redirect');
    await warning.getByText('redirects with locate "first" over 2 nodes (own1, own2)', { exact: false }).waitFor({ timeout: UI_WAIT_MS });
    await form.getByLabel('Find the node by').selectOption('hash');
    await warning.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    await form.getByLabel('Find the node by').selectOption('first');
    await warning.waitFor({ timeout: UI_WAIT_MS });
    await form.getByRole('button', { name: 'Add route' }).click();
    await page.locator('tr[data-route="cams"]').waitFor({ timeout: UI_WAIT_MS });
    await page.getByTestId('route-warnings').getByText('route "cams" redirects with locate "first"', { exact: false }).waitFor({ timeout: UI_WAIT_MS });
    const routes = (await api<{ id: string; mode: string; nodes?: string[] }[]>('GET', '/api/routes')).body;
    const cams = routes.find((r) => r.id === 'cams');
    assert.equal(cams?.mode, 'redirect');
    assert.equal(cams?.nodes, undefined, 'all nodes');
    // "All nodes" is the operator's own: the demo node (first in the config) is not among them.
    await page.getByLabel('Path or URL to check').fill('/cams/cam1.flv');
    await page.getByRole('button', { name: 'Check' }).click();
    const answer = page.getByTestId('resolve-answer');
    await answer.getByText('own1', { exact: false }).first().waitFor({ timeout: UI_WAIT_MS });
    assert.doesNotMatch((await answer.locator('dd').nth(2).textContent()) ?? '', /demo/, 'the node and its fallbacks');
    await answer.getByTestId('resolve-warnings').waitFor({ timeout: UI_WAIT_MS });
    assert.match(
      (await probe(`${served.relayUrl}/cams/cam1.flv`)).location ?? '',
      new RegExp(`^http://127\\.0\\.0\\.1:${ownOrigins[0].port}/cams/cam1\\.flv$`),
    );
  });

  it('the relay switch: paused, the next request gets 503; resumed, 200', async () => {
    await page.getByRole('button', { name: 'Pause relay' }).click();
    await page
      .getByTestId('relay-state')
      .getByText(/paused/)
      .waitFor({ timeout: UI_WAIT_MS });
    assert.equal((await probe(`${served.relayUrl}${FLV_PATH}`)).status, 503);
    assert.ok(
      viewers.every((v) => v.bytes() > 0),
      'viewers in flight are untouched',
    );
    await page.getByRole('button', { name: 'Resume relay' }).click();
    await page.getByTestId('relay-state').getByText('relaying').waitFor({ timeout: UI_WAIT_MS });
    assert.equal((await probe(`${served.relayUrl}${FLV_PATH}`)).status, 200);
  });

  it('Nodes: the demo node is up with its stream; a bad URL is refused by field; drain applies', async () => {
    await goTo(page, 'nodes', 'Nodes');
    const row = page.locator('tr[data-node="demo"]');
    await row.getByText('up', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('button', { name: 'Add node' }).click();
    const form = page.getByRole('form', { name: 'Add node' });
    await form.getByLabel('Id').fill('edge2');
    await form.getByLabel('URL').fill('http://10.0.0.9:8080/?x=1');
    await form.getByRole('button', { name: 'Add node' }).click();
    await form.getByText('must not have a query or fragment').waitFor({ timeout: UI_WAIT_MS });
    await form.getByLabel('URL').fill('http://127.0.0.1:9');
    await form.getByRole('button', { name: 'Add node' }).click();
    await page.locator('tr[data-node="edge2"]').waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('switch', { name: 'Drain node edge2' }).click();
    await page.locator('tr[data-node="edge2"]').getByText('draining', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('switch', { name: 'Node edge2 enabled' }).click();
    await page.locator('tr[data-node="edge2"]').getByText('disabled', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    await screenshot(page, 'nodes');
  });

  it('Nodes and Routes: Edit saves through the form, Remove asks first ("Keep it" keeps), then removes; the API agrees', async () => {
    const call = async (path: string) =>
      (await (await fetch(`${served.adminUrl}${path}`, { headers: { authorization: `Bearer ${UI_TOKEN}` } })).json()) as {
        id: string;
        weight?: number;
        path?: string;
      }[];
    // The node added above (edge2): edit its weight, then remove it.
    const nodeRow = page.locator('tr[data-node="edge2"]');
    await nodeRow.getByRole('button', { name: 'Edit' }).click();
    const nodeForm = page.getByRole('form', { name: 'Edit node edge2' });
    await nodeForm.getByLabel('Weight').fill('7');
    await nodeForm.getByRole('button', { name: 'Save node' }).click();
    await page.getByText('Node edge2 saved.').waitFor({ timeout: UI_WAIT_MS });
    assert.equal((await call('/api/nodes')).find((n) => n.id === 'edge2')?.weight, 7);
    await nodeRow.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('dialog', { name: 'Remove node edge2?' }).getByRole('button', { name: 'Keep it' }).click();
    assert.ok(
      (await call('/api/nodes')).some((n) => n.id === 'edge2'),
      '"Keep it" kept the node',
    );
    await nodeRow.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('dialog', { name: 'Remove node edge2?' }).getByRole('button', { name: 'Remove node' }).click();
    await nodeRow.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    assert.equal(
      (await call('/api/nodes')).some((n) => n.id === 'edge2'),
      false,
    );
    // A route added through the API (the UI learns it from the engine's events): change its path, then remove it.
    const created = await fetch(`${served.adminUrl}/api/routes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${UI_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'scratch', path: '/scratch/', kind: 'file', mode: 'redirect' }),
    });
    assert.equal(created.status, 201, await created.text());
    await goTo(page, 'routes', 'Routes');
    const routeRow = page.locator('tr[data-route="scratch"]');
    await routeRow.getByRole('button', { name: 'Edit' }).click();
    const routeForm = page.getByRole('form', { name: 'Edit route scratch' });
    await routeForm.getByLabel('Path prefix').fill('/scratch2/');
    await routeForm.getByRole('button', { name: 'Save route' }).click();
    await page.getByText('Route scratch saved.').waitFor({ timeout: UI_WAIT_MS });
    assert.equal((await call('/api/routes')).find((r) => r.id === 'scratch')?.path, '/scratch2/');
    await routeRow.getByRole('button', { name: 'Remove' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove route scratch?' });
    await confirm.getByText('/scratch2/').waitFor({ timeout: UI_WAIT_MS });
    await confirm.getByRole('button', { name: 'Remove route' }).click();
    await routeRow.waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    assert.equal(
      (await call('/api/routes')).some((r) => r.id === 'scratch'),
      false,
    );
  });

  it('Traffic: live viewers on top with growing bytes; finished requests below; filters', async () => {
    await goTo(page, 'traffic', 'Traffic');
    const firstLive = page.locator('.traffic-row.is-live').first();
    await firstLive.waitFor({ timeout: UI_WAIT_MS });
    const bytesOf = async () => (await firstLive.locator('span.bytes').textContent()) ?? '';
    const before = await bytesOf();
    await waitFor(async () => (await bytesOf()) !== before, 5_000, 'the bytes of a live row to grow');
    console.log(`# traffic: a live row's bytes grew from ${before} to ${await bytesOf()}`);
    await page.getByLabel('Status').selectOption('3xx');
    await page.locator('.traffic-row', { hasText: '302' }).first().waitFor({ timeout: UI_WAIT_MS });
    assert.equal(await page.locator('.traffic-row.is-live').count(), 0, 'the 3xx filter hides live rows');
    await page.getByLabel('Status').selectOption('all');
    await page.getByLabel('Search requests').fill('no-such-request');
    await waitFor(async () => (await page.locator('.traffic-row').count()) === 0, UI_WAIT_MS, 'no request matches "no-such-request"');
    await page.getByLabel('Search requests').fill('');
    await page.locator('.traffic-row').first().waitFor({ timeout: UI_WAIT_MS });
    // Pause freezes the view (collection goes on); export writes the rows shown as JSON Lines.
    await page.getByRole('toolbar', { name: 'Traffic filters' }).getByRole('button', { name: 'Pause', exact: true }).click();
    const frozen = await firstLive.locator('span.bytes').textContent();
    // Two updates arrive while paused (the count says so); the row shown has not moved.
    await page
      .getByTestId('traffic-counts')
      .getByText(/paused, ([2-9]|\d{2,}) updates waiting/)
      .waitFor({ timeout: UI_WAIT_MS });
    assert.equal(await firstLive.locator('span.bytes').textContent(), frozen, 'paused: the view does not change');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON Lines' }).click()]);
    const lines = (await fs.readFile((await download.path())!, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.ok(lines.length >= 4 && lines.every((entry) => typeof entry.path === 'string' && typeof entry.status === 'number'), `${lines.length} JSON lines`);
    assert.match(download.suggestedFilename(), /^relaydeck-traffic-.*\.jsonl$/);
    await page.getByRole('toolbar', { name: 'Traffic filters' }).getByRole('button', { name: 'Resume', exact: true }).click();
    await screenshot(page, 'traffic');
  });

  it('Traffic: the times it orders by are shown: in flight by start, finished by end, newest first', async () => {
    const head = page.locator('.traffic-head');
    assert.match((await head.textContent()) ?? '', /Started.*Ended/);
    // Finished requests only (the status filter hides those in flight), then those in flight only.
    const status = page.getByLabel('Status');
    await status.selectOption('2xx');
    await waitFor(
      async () => (await page.locator('.traffic-row').count()) >= 2 && (await page.locator('.traffic-row.is-live').count()) === 0,
      UI_WAIT_MS,
      'finished rows',
    );
    const ended = await page.locator('.traffic-row span.ended').allTextContents();
    assert.ok(
      ended.every((t) => /^\d{2}:\d{2}:\d{2}$/.test(t)),
      `end times shown: ${ended.slice(0, 5).join(' ')}`,
    );
    assert.ok(newestFirstByClock(ended), `finished requests newest first by end time: ${ended.join(' ')}`);
    await status.selectOption('live');
    await page.locator('.traffic-row.is-live').first().waitFor({ timeout: UI_WAIT_MS });
    const started = await page.locator('.traffic-row span.started').allTextContents();
    assert.ok(newestFirstByClock(started), `requests in flight newest first by start time: ${started.join(' ')}`);
    assert.ok(
      (await page.locator('.traffic-row span.ended').allTextContents()).every((t) => t === '—'),
      'in flight: no end yet',
    );
    await status.selectOption('all');
  });

  it('Settings: ports, bind address with a LAN warning, token shown on demand; a save applies', async () => {
    await goTo(page, 'settings', 'Settings');
    const token = page.getByLabel('Admin token (the browser UI and the API ask for it)');
    assert.equal(await token.getAttribute('type'), 'password');
    await page.getByRole('button', { name: 'Show' }).click();
    assert.equal(await token.inputValue(), UI_TOKEN);
    await page.getByRole('button', { name: 'Hide' }).click();
    await page.getByRole('radiogroup', { name: 'Admin bind address' }).getByLabel('LAN: all interfaces (0.0.0.0)').check();
    await page.getByText('Reachable from other machines on your network.').waitFor({ timeout: UI_WAIT_MS });
    await screenshot(page, 'settings');
    await page.getByRole('radiogroup', { name: 'Admin bind address' }).getByLabel('This computer only (127.0.0.1)').check();
    await page.getByLabel('Pull closes after the last viewer, ms').fill('-5');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('expected an integer from 0 to 3600000, got -5').waitFor({ timeout: UI_WAIT_MS });
    await page.getByLabel('Pull closes after the last viewer, ms').fill('2500');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved: applies from the next request.').waitFor({ timeout: UI_WAIT_MS });
    const saved = (await (await fetch(`${served.adminUrl}/api/settings`, { headers: { authorization: `Bearer ${UI_TOKEN}` } })).json()) as {
      flv: { idleCloseMs: number };
    };
    assert.equal(saved.flv.idleCloseMs, 2500);
  });

  it('Settings: the HLS section refuses bad values naming the field, changing nothing, and saves good ones', async () => {
    type Hls = { hls: { segmentCacheMaxBytes: number; carryParams: string[] } };
    const readHls = async () =>
      ((await (await fetch(`${served.adminUrl}/api/settings`, { headers: { authorization: `Bearer ${UI_TOKEN}` } })).json()) as Hls).hls;
    const before = await readHls();
    const cacheBytes = page.getByLabel('Segment cache, all streams (0 = off), bytes');
    const carry = page.getByLabel('Query parameters carried into playlist URIs, comma-separated');
    assert.equal(await carry.inputValue(), 'sign, sp, token, jwt');
    await cacheBytes.fill('-1');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('expected an integer from 0 to 68719476736, got -1').waitFor({ timeout: UI_WAIT_MS });
    // Valid field by field, refused by the engine's whole-config check: the error lands under the field and nothing is saved.
    await cacheBytes.fill('67108864');
    await carry.fill('sign, _rdh');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('hls.carryParams[1]: "_rdh" is reserved').waitFor({ timeout: UI_WAIT_MS });
    assert.deepEqual(await readHls(), before);
    await carry.fill('sign, sp, token, auth');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await waitFor(async () => (await readHls()).carryParams.includes('auth'), UI_WAIT_MS, 'the HLS settings to be saved');
    const saved = await readHls();
    assert.equal(saved.segmentCacheMaxBytes, 67_108_864);
    assert.deepEqual(saved.carryParams, ['sign', 'sp', 'token', 'auth']);
    const file = JSON.parse(await fs.readFile(served.configPath, 'utf8')) as Hls;
    assert.deepEqual(file.hls.carryParams, saved.carryParams);
  });

  it('Settings: the HTTPS certificates show the fingerprint to compare; a certificate added by its files is served, a missing file is refused naming it', async () => {
    type Tls = { url: string; certificates: { fingerprint256: string; names: string[]; selfSigned: boolean }[] };
    const tls = (await api<Tls>('GET', '/api/tls')).body;
    assert.match(tls.url, /^https:/);
    const [selfSigned] = tls.certificates;
    assert.equal(selfSigned.selfSigned, true);
    await goTo(page, 'settings', 'Settings');
    const panel = page.getByRole('region', { name: 'Certificates' });
    await panel.getByText(selfSigned.fingerprint256).waitFor({ timeout: UI_WAIT_MS });
    await panel.getByText('self-signed (RelayDeck)').waitFor({ timeout: UI_WAIT_MS });

    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-ui-tls-'));
    const ca = await TestCa.create();
    const issued = await ca.issue(['live.example.test']);
    const files = await writePem(dir, 'live', issued);
    await panel.getByLabel('Certificate file (PEM, chain included)').fill(path.join(dir, 'missing.pem'));
    await panel.getByLabel('Key file (PEM)').fill(files.keyFile);
    await panel.getByRole('button', { name: 'Add certificate' }).click();
    await panel.getByText(/tls\.certificates\[0\]: certFile .*missing\.pem: no such file/).waitFor({ timeout: UI_WAIT_MS });
    await panel.getByLabel('Certificate file (PEM, chain included)').fill(files.certFile);
    await panel.getByRole('button', { name: 'Add certificate' }).click();
    await panel.getByText(issued.fingerprint256).waitFor({ timeout: UI_WAIT_MS });
    await panel.getByText('live.example.test, 127.0.0.1').waitFor({ timeout: UI_WAIT_MS });
    await screenshot(page, 'settings-https');
    const now = (await api<Tls>('GET', '/api/tls')).body;
    assert.deepEqual(
      now.certificates.map((c) => c.fingerprint256),
      [issued.fingerprint256],
    );
    await panel.getByRole('button', { name: 'Remove' }).click();
    await panel.getByText('self-signed (RelayDeck)').waitFor({ timeout: UI_WAIT_MS });
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('Settings: the ACME and HTTP/2 fields show their values, refuse bad ones naming the field (nothing saved), and save good ones', async () => {
    type Tls = {
      tls: {
        http2: boolean;
        http2MaxConcurrentStreams: number;
        http2IdleTimeoutMs: number;
        acme: { enabled: boolean; termsOfServiceAgreed: boolean; domains: string[]; email: string; directoryUrl: string; renewBeforeDays: number };
      };
      restartNeeded: boolean;
    };
    const readTls = async () => (await api<Tls>('GET', '/api/settings')).body.tls;
    // Values set over the API are what the page shows (ACME stays off: no authority is ever asked).
    const set = await api('PATCH', '/api/settings', {
      tls: { acme: { ...(await readTls()).acme, email: 'ops@example.com', domains: ['live.example.com'] }, http2IdleTimeoutMs: 45_000 },
    });
    assert.equal(set.status, 200);
    await goTo(page, 'dashboard', 'Dashboard');
    await goTo(page, 'settings', 'Settings');
    const acmeOn = page.getByLabel('Certificate from an ACME authority (automatic, renewed)');
    const domains = page.getByLabel('Domains of the certificate (the first is its subject), comma-separated');
    const streams = page.getByLabel('Most requests open at once on one HTTP/2 connection', { exact: true });
    const idle = page.getByLabel('HTTP/2 connection with no request closed after, ms');
    const hintOf = (input: typeof streams) => page.locator('.field', { has: input }).locator('.hint');
    assert.equal(await acmeOn.isChecked(), false);
    assert.equal(await domains.inputValue(), 'live.example.com');
    assert.equal(await page.getByLabel('Contact email of the ACME account (empty = none)').inputValue(), 'ops@example.com');
    assert.equal(await page.getByLabel('ACME directory URL').inputValue(), 'https://acme-v02.api.letsencrypt.org/directory');
    assert.equal(await page.getByLabel('How the authority checks each domain').inputValue(), 'http-01');
    assert.equal(await page.getByLabel('Renew before the certificate ends, days').inputValue(), '30');
    assert.equal(await page.getByLabel('HTTP/2 on the HTTPS port').isChecked(), true);
    assert.equal(await streams.inputValue(), '100');
    assert.equal(await idle.inputValue(), '45000');
    // The hint is the schema's doc; only what the listener reads when it starts is marked.
    assert.match((await hintOf(streams).textContent()) ?? '', /Most requests open at once .* default: 100 · applies after a restart$/);
    assert.doesNotMatch((await hintOf(idle).textContent()) ?? '', /after a restart/);
    const before = await readTls();

    // Field by field: a domain that is not a host name, and 0 streams.
    await domains.fill('live.example.com, not a host!');
    await streams.fill('0');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText(/^tls\.acme\.domains\[1\]: expected a DNS name such as live\.example\.com/).waitFor({ timeout: UI_WAIT_MS });
    await page.getByText('expected an integer from 1 to 10000, got 0').waitFor({ timeout: UI_WAIT_MS });
    assert.deepEqual(await readTls(), before);
    // Valid field by field, refused by the engine's whole-config check: the error lands under the field it names.
    await domains.fill('live.example.com, cdn.example.com');
    await streams.fill('250');
    await acmeOn.check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page
      .locator('.field', { has: page.getByLabel("I agree to the authority's terms of service") })
      .getByText(/must be true when ACME is enabled/)
      .waitFor({ timeout: UI_WAIT_MS });
    assert.deepEqual(await readTls(), before);

    await acmeOn.uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved listen settings differ from the running ones').waitFor({ timeout: UI_WAIT_MS });
    const saved = await readTls();
    assert.equal(saved.http2MaxConcurrentStreams, 250);
    assert.deepEqual(saved.acme, { ...before.acme, domains: ['live.example.com', 'cdn.example.com'] });
    assert.equal((await api<Tls>('GET', '/api/settings')).body.restartNeeded, true, 'HTTP/2 stream limits apply after a restart');
    // Back as the suite found it.
    await api('PATCH', '/api/settings', { tls: { acme: {}, http2MaxConcurrentStreams: 100, http2IdleTimeoutMs: 30_000 } });
    assert.equal((await api<Tls>('GET', '/api/settings')).body.restartNeeded, false);
  });

  it('Dashboard: throughput, audience, requests and redirect savings from the engine history', async () => {
    await goTo(page, 'dashboard', 'Dashboard');
    await page.getByRole('figure', { name: 'Throughput, last 10 minutes (1 s points)' }).locator('path.line').first().waitFor({ timeout: UI_WAIT_MS });
    // Redirected requests of the flv kind: the savings estimate counts each as a proxied flv viewer's mean bytes.
    for (let i = 0; i < 20; i += 1) assert.equal((await probe(`${served.relayUrl}/cams/cam${i}.flv`)).status, 302);
    type History = { seconds: { t: number[]; bytesOut: number[]; savedBytes: number[] } };
    const history = await waitFor(
      async () => {
        const h = (await (await fetch(`${served.adminUrl}/api/history`, { headers: { authorization: `Bearer ${UI_TOKEN}` } })).json()) as History;
        return h.seconds.t.length >= DASHBOARD_POINTS ? h : undefined;
      },
      DASHBOARD_POINTS * 1_000 + UI_WAIT_MS,
      `${DASHBOARD_POINTS} second points`,
    );
    assert.ok(
      history.seconds.bytesOut.some((b) => b > 0),
      'bytes out recorded',
    );
    assert.ok(
      history.seconds.savedBytes.some((b) => b > 0),
      'redirect savings estimated',
    );
    const saved = page.getByRole('region', { name: 'Saved by redirects (est.)', exact: true }).locator('.stat-value');
    await waitFor(async () => (await saved.textContent()) !== '0 B', UI_WAIT_MS, 'the savings figure');
    for (const chart of ['Viewers against upstream pulls, last 10 minutes', 'Requests and errors, last 10 minutes'])
      await page.getByRole('figure', { name: chart }).locator('path.line').first().waitFor({ timeout: UI_WAIT_MS });
    await screenshot(page, 'dashboard');
  });

  it('the demo goes in one click: its routes, its node and its stream', async () => {
    await page.getByRole('button', { name: 'Remove demo' }).click();
    await page.getByText('Demo node running.').waitFor({ state: 'detached', timeout: UI_WAIT_MS });
    const routes = (await (await fetch(`${served.adminUrl}/api/routes`, { headers: { authorization: `Bearer ${UI_TOKEN}` } })).json()) as { id: string }[];
    assert.deepEqual(
      routes.map((r) => r.id),
      ['cams'],
    );
    assert.equal((await probe(`${served.relayUrl}${FLV_PATH}`)).status, 404);
    await Promise.race([Promise.all(viewers.map((v) => v.closed)), sleep(15_000).then(() => assert.fail('demo viewers still connected'))]);
    const relevant = problems.filter((p) => !/Failed to load resource/.test(p));
    assert.deepEqual(relevant, [], 'no console errors or CSP violations');
  });
});
