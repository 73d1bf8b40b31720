/**
 * The built operator page (dist/renderer) in headless Chromium, against a real engine:
 *  - browser mode: served on the admin port, asks for the token once (sessionStorage, never
 *    the URL), shows the routes, and a route's switch changes its mode;
 *  - desktop mode: the page as the app://relaydeck/ protocol handler answers it (relayed over
 *    a local HTTP server, since plain Chromium has no app: scheme), with a stand-in for the
 *    preload's `window.relaydeck`: one function per call (a Playwright binding calling the
 *    real engine API) and `onEvent`, fed with the engine's real events. This checks the
 *    handler's files and CSP header work for the page and that the page uses the bridge,
 *    calls and events; it is not Electron.
 * Needs `npm run build` and Debian's /usr/bin/chromium; skipped, saying so, without Chromium.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright';
import { API_CALL_NAMES, type RelayDeckApi } from '../../../shared/api.js';
import { Engine } from '../../../electron/engine/engine.js';
import { parseConfig } from '../../../shared/config.js';
import { APP_ORIGIN, createAppProtocolHandler } from '../../../electron/desktop/app-protocol.js';
import { ADMIN_TOKEN, ROOT } from '../../helpers/engine-fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const UI_DIR = path.join(ROOT, 'dist', 'renderer');
/** Longest wait for one thing to appear on the page, in ms. */
const UI_WAIT_MS = 10_000;
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

let engine: Engine;
let browser: Browser;
/** http://127.0.0.1:PORT relaying every request to the app:// protocol handler. */
let appRelay: http.Server;
let appRelayUrl: string;

async function startAppRelay(): Promise<void> {
  const handler = createAppProtocolHandler(UI_DIR);
  appRelay = http.createServer((req, res) => {
    handler(new Request(`${APP_ORIGIN}${req.url ?? '/'}`, { method: req.method }))
      .then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => appRelay.listen(0, '127.0.0.1', resolve));
  appRelayUrl = `http://127.0.0.1:${(appRelay.address() as AddressInfo).port}`;
}

before(async () => {
  if (skip) return;
  assert.ok(existsSync(path.join(UI_DIR, 'index.html')), 'dist/renderer is missing: run `npm run build` first');
  const config = parseConfig({
    relay: { port: 0, shutdownGraceMs: 0 },
    admin: { port: 0, token: ADMIN_TOKEN },
    nodes: [{ id: 'origin1', url: 'http://127.0.0.1:9' }],
    routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'redirect' }],
  });
  engine = await Engine.start({ config, uiDir: UI_DIR });
  await startAppRelay();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  appRelay?.close();
  await engine?.stop();
});

/** Collect console errors and CSP violations; a page that breaks its own CSP fails the test. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  return problems;
}

const modeSwitch = (page: Page) => page.getByRole('switch', { name: 'Proxy mode for route live' });

async function openRoutes(page: Page): Promise<void> {
  await page.getByRole('link', { name: 'Routes' }).click();
  await page.locator('tr[data-route="live"]').waitFor({ timeout: UI_WAIT_MS });
}

test('browser mode: token once, then the routes; the switch changes the mode', { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${engine.adminUrl}/`);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN, { timeout: UI_WAIT_MS });
  await page.getByRole('button', { name: 'Connect' }).click();
  await openRoutes(page);
  assert.equal(await modeSwitch(page).getAttribute('aria-checked'), 'false', 'redirect');
  assert.equal(page.url(), `${engine.adminUrl}/#/routes`, 'the token is not in the URL');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('relaydeck.adminToken')), ADMIN_TOKEN);

  await modeSwitch(page).click();
  await page.locator('[role="switch"][aria-checked="true"]').waitFor({ timeout: UI_WAIT_MS });
  assert.equal(engine.config.routes[0].mode, 'proxy');

  await page.reload();
  await page.locator('tr[data-route="live"]').waitFor({ timeout: UI_WAIT_MS });
  assert.equal(await page.getByLabel('Admin token').count(), 0, 'not asked again in the same tab');
  assert.deepEqual(problems, []);
  await context.close();
});

test('browser mode: a refused token asks again', { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${engine.adminUrl}/`);
  await page.getByLabel('Admin token').fill('w'.repeat(20), { timeout: UI_WAIT_MS });
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByText('The server refused that token').waitFor({ timeout: UI_WAIT_MS });
  assert.equal(await page.evaluate(() => sessionStorage.getItem('relaydeck.adminToken')), null);
  await context.close();
});

test('desktop mode: as served by the app:// handler, the page uses window.relaydeck (calls and events) within its CSP', { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);
  const calls: string[] = [];
  // Stand-in for the preload: one function per call, backed by the real engine API. Like the
  // contextBridge, a rejection reaches the page as an Error carrying the message only.
  await page.exposeFunction('__relaydeckCall', (name: keyof RelayDeckApi, input: unknown) => {
    calls.push(name);
    return (engine.api[name] as (input: unknown) => Promise<unknown>)(input);
  });
  await page.addInitScript((names: string[]) => {
    const w = window as unknown as { __relaydeckCall: (name: string, input: unknown) => Promise<unknown>; __relaydeckEmit: (event: unknown) => void };
    const listeners = new Set<(event: unknown) => void>();
    w.__relaydeckEmit = (event) => listeners.forEach((l) => l(event));
    const api: Record<string, unknown> = Object.fromEntries(names.map((name) => [name, (input: unknown) => w.__relaydeckCall(name, input)]));
    api.onEvent = (listener: (event: unknown) => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    };
    Object.defineProperty(window, 'relaydeck', { value: Object.freeze(api) });
  }, API_CALL_NAMES);
  // Main's side: every engine event is sent to the page, as electron/desktop/event-forwarder.ts does.
  const unsubscribe = engine.ticker.subscribe(
    (event) => void page.evaluate((e) => (window as unknown as { __relaydeckEmit: (e: unknown) => void }).__relaydeckEmit(e), event).catch(() => undefined),
  );
  try {
    const response = await page.goto(`${appRelayUrl}/index.html`);
    assert.ok(response?.headers()['content-security-policy'], 'the handler sent its CSP header');
    await openRoutes(page);
    assert.equal(await page.getByLabel('Admin token').count(), 0, 'no token in desktop mode');
    const before = await modeSwitch(page).getAttribute('aria-checked');
    await modeSwitch(page).click();
    await page.locator(`[role="switch"][aria-checked="${before === 'true' ? 'false' : 'true'}"]`).waitFor({ timeout: UI_WAIT_MS });
    assert.equal(engine.config.routes[0].mode, before === 'true' ? 'redirect' : 'proxy');
    assert.ok(calls.includes('updateRoute') && calls.includes('listRoutes'));

    // A request to the relay reaches the Traffic page through the pushed traffic event only.
    await page.getByRole('link', { name: 'Traffic' }).click();
    await fetch(`${engine.relayUrl}/live/desktop-event-probe.flv`, { redirect: 'manual' }).then((r) => r.arrayBuffer());
    await page.locator('.traffic-row', { hasText: '/live/desktop-event-probe.flv' }).waitFor({ timeout: UI_WAIT_MS });
    const relevant = problems.filter((p) => !/Failed to load resource/.test(p));
    assert.deepEqual(relevant, []);
  } finally {
    unsubscribe();
    await context.close();
  }
});
