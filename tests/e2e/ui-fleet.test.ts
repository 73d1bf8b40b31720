/**
 * The Fleet page (issue 16 point 6) in headless Chromium against real relays on one real
 * Redis (Debian's redis-server): two engines in this process and one `relaydeck serve`
 * process, each with fleet.redisUrl and its own fleet.relayId, and a node-like live FLV
 * origin. The page of relay A lists the three relays up (A marked as this relay), the
 * streams across the fleet with their viewers per relay and node, and the totals; it asks
 * for the fleet once a second while shown and never while hidden or on another page; the
 * relay process killed with SIGKILL shows gone within fleet.expiryMs and a beat. A change
 * refused with 409 CONFIG_CONFLICT (another writer moved the shared config on) or 503
 * FLEET_UNAVAILABLE (Redis killed) is told in the operator's words. A relay without
 * fleet.redisUrl explains fleet mode. Screenshot: build/screenshots/fleet.png with
 * `npm run screenshots` (ui-support.ts).
 * Needs the renderer built (`npm run build:renderer`); skips with the reason when Chromium,
 * the built renderer or redis-server is missing.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Browser, Page } from 'playwright';
import { Engine } from '../../electron/engine/engine.js';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { LiveFlvOrigin } from '../helpers/flv-origin.js';
import { sleep, waitFor } from '../helpers/http.js';
import { missingRedis, RedisServer } from '../helpers/redis.js';
import { testConfig } from '../helpers/relay.js';
import { spawnServe, type ServeProcess } from '../helpers/serve-process.js';
import { goTo, holdViewer, openSignedIn, ROOT, screenshot, UI_TOKEN, UI_WAIT_MS, type HeldViewer } from './ui-support.js';

const UI_DIR = path.join(ROOT, 'dist', 'renderer');
const FLEET_NAME = 'e2e-ui';
/** Heartbeat and expiry of the relays here: short, so "gone" shows within a few seconds. */
const HEARTBEAT_MS = 500;
const EXPIRY_MS = 2_000;
/** The beat allowed on top of the expiry: the page's refresh (1 s) and a heartbeat. */
const BEAT_MS = 1_000 + HEARTBEAT_MS;
const STREAM_PATH = '/live/cam1.flv';

function skipReason(): string | false {
  if (noChromium) return noChromium;
  if (!existsSync(path.join(UI_DIR, 'index.html'))) return 'dist/renderer is not built: run `npm run build:renderer` first';
  return missingRedis();
}
const skip = skipReason();
if (skip) console.log(`# skipping the Fleet page suite: ${skip}`);

/** The config every relay of the fleet starts from: the same node and route (the shared part), its own id (local). */
function relayConfig(relayId: string, redisUrl: string, originUrl: string): Record<string, unknown> {
  return {
    health: { intervalMs: 0 },
    admin: { port: 0, token: UI_TOKEN },
    relay: { port: 0, shutdownGraceMs: 300 },
    flv: { idleCloseMs: 0 },
    nodes: [{ id: 'origin', url: originUrl }],
    routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    fleet: { redisUrl, name: FLEET_NAME, relayId, heartbeatMs: HEARTBEAT_MS, expiryMs: EXPIRY_MS },
  };
}

/** `relaydeck serve` from the sources (tsx), as its own process: SIGKILL takes it away without a word to the fleet. */
async function spawnRelay(config: Record<string, unknown>): Promise<{ run: ServeProcess; home: string; admin: string }> {
  const home = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-fleet-ui-'));
  const configPath = path.join(home, 'config.json');
  await fs.writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
  const cli = new URL('../../electron/engine/cli.ts', import.meta.url).href;
  const script = `const { main } = await import(${JSON.stringify(cli)}); process.exitCode = await main(['serve', '--config', ${JSON.stringify(configPath)}]);`;
  const run = spawnServe(['--import', 'tsx', '--input-type=module', '-e', script], { RELAYDECK_HOME: home, RELAYDECK_LOG_LEVEL: 'warn' }, ROOT);
  const { admin } = await run.addresses();
  return { run, home, admin };
}

/** A relay's row of the Relays table. */
const relayRow = (page: Page, id: string) => page.getByRole('table', { name: 'Relays' }).locator(`tr[data-relay="${id}"]`);

async function rowState(page: Page, id: string): Promise<string | null> {
  const row = relayRow(page, id);
  return (await row.count()) === 1 ? row.getAttribute('data-state') : null;
}

describe('the Fleet page against three relays on one Redis', { skip }, () => {
  const redis = new RedisServer();
  const origin = new LiveFlvOrigin();
  const viewers: HeldViewer[] = [];
  let engineA: Engine;
  let engineB: Engine;
  let alone: Engine;
  let relayC: { run: ServeProcess; home: string; admin: string };
  let browser: Browser;
  let page: Page;
  let problems: string[];

  before(async () => {
    origin.streams.add(STREAM_PATH);
    const originUrl = await origin.start();
    await redis.start();
    const start = (relayId: string) => Engine.start({ config: testConfig(relayConfig(relayId, redis.url, originUrl)), uiDir: UI_DIR });
    engineA = await start('relay-a');
    engineB = await start('relay-b');
    relayC = await spawnRelay(relayConfig('relay-c', redis.url, originUrl));
    alone = await Engine.start({ config: testConfig({ admin: { port: 0, token: UI_TOKEN } }), uiDir: UI_DIR });
    browser = await launchChromium();
    ({ page, problems } = await openSignedIn(browser, engineA.adminUrl));
  });

  after(async () => {
    viewers.forEach((v) => v.close());
    await browser?.close();
    if (relayC && relayC.run.child.exitCode === null && relayC.run.child.signalCode === null) relayC.run.child.kill('SIGKILL');
    await Promise.all([engineA?.stop(), engineB?.stop(), alone?.stop()]);
    await redis.stop();
    await origin.stop();
    if (relayC) await fs.rm(relayC.home, { recursive: true, force: true });
  });

  it('lists every relay up, this one marked, with the Redis link, the fleet name and the config version', async () => {
    await goTo(page, 'fleet', 'Fleet');
    await waitFor(
      async () => (await rowState(page, 'relay-a')) === 'up' && (await rowState(page, 'relay-b')) === 'up' && (await rowState(page, 'relay-c')) === 'up',
      UI_WAIT_MS,
      'relays a, b and c up on the Fleet page',
    );
    await relayRow(page, 'relay-a').getByText('this relay').waitFor({ timeout: UI_WAIT_MS });
    assert.equal(await relayRow(page, 'relay-b').getByText('this relay').count(), 0);
    assert.equal(await page.getByTestId('fleet-name').textContent(), FLEET_NAME);
    assert.equal(await page.getByTestId('fleet-relay-id').textContent(), 'relay-a');
    assert.match((await page.getByTestId('fleet-redis').textContent()) ?? '', /^up/);
    assert.match((await page.getByTestId('fleet-config').textContent()) ?? '', /^version \d+, from the fleet's shared config in Redis$/);
    const rowC = (await relayRow(page, 'relay-c').textContent()) ?? '';
    assert.match(rowC, /now|\d s ago/, 'last seen');
    assert.match(rowC, /v\d+/, 'config version');
    assert.equal(await relayRow(page, 'relay-c').getByRole('link', { name: relayC.admin }).count(), 1, 'its advertised admin URL, as a link');
    await page.getByRole('region', { name: 'Relays up' }).getByText('3', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
  });

  it('streams across the fleet: viewers per relay and node, summed in the totals', async () => {
    for (const url of [engineA.relayUrl, engineA.relayUrl, engineB.relayUrl]) viewers.push(await holdViewer(`${url}${STREAM_PATH}`, 'e2e-fleet-viewer'));
    await waitFor(() => viewers.every((v) => v.bytes() > 10_000), UI_WAIT_MS, 'the viewers to receive media');
    const streams = page.getByRole('table', { name: 'Streams across the fleet' });
    const row = streams.locator('tbody tr', { hasText: 'cam1' });
    await waitFor(
      async () => (await row.count()) === 1 && /relay-a 2 via origin.*relay-b 1 via origin/s.test((await row.textContent()) ?? ''),
      HEARTBEAT_MS * 4 + UI_WAIT_MS,
      'cam1 with 2 viewers on relay-a and 1 on relay-b',
    );
    assert.equal(await row.getAttribute('data-route'), 'live');
    assert.equal(await row.locator('td').nth(2).textContent(), '3', 'viewers summed over the relays');
    await page.getByRole('region', { name: 'Fleet viewers' }).getByText('3', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    // Columns: relay, state, last seen, viewers, streams, ...
    await waitFor(async () => (await relayRow(page, 'relay-a').locator('td').nth(3).textContent()) === '2', UI_WAIT_MS, "relay-a's 2 viewers");
    assert.equal(await relayRow(page, 'relay-a').locator('td').nth(4).textContent(), '1', "relay-a's stream");
  });

  it('asks for the fleet once a second while shown, never while the page is hidden or another page is shown', async () => {
    let calls = 0;
    const count = (request: { url(): string }) => {
      if (new URL(request.url()).pathname === '/api/fleet') calls += 1;
    };
    page.on('request', count);
    try {
      await sleep(4_000);
      const shown = calls;
      assert.ok(shown >= 2 && shown <= 5, `${shown} getFleet calls in 4 s while shown`);
      // As a minimized window or a background tab: document.visibilityState "hidden" and the event.
      await page.evaluate(
        "Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'hidden' }); document.dispatchEvent(new Event('visibilitychange'))",
      );
      calls = 0;
      await sleep(3_000);
      assert.equal(calls, 0, 'no getFleet while the page is hidden');
      await page.evaluate("delete document.visibilityState; document.dispatchEvent(new Event('visibilitychange'))");
      await waitFor(() => calls >= 1, 2_000, 'a getFleet as soon as the page is visible again');
      await goTo(page, 'dashboard', 'Dashboard');
      await sleep(300);
      calls = 0;
      await sleep(3_000);
      assert.equal(calls, 0, 'no getFleet on another page');
      console.log(`# getFleet: ${shown} calls in 4 s shown, 0 hidden, 0 on the dashboard`);
    } finally {
      page.off('request', count);
    }
    await goTo(page, 'fleet', 'Fleet');
  });

  it('a relay killed with SIGKILL shows gone within fleet.expiryMs and a beat', async () => {
    await waitFor(async () => (await rowState(page, 'relay-c')) === 'up', UI_WAIT_MS, 'relay-c up');
    const killed = Date.now();
    relayC.run.child.kill('SIGKILL');
    await relayC.run.exited;
    await waitFor(async () => (await rowState(page, 'relay-c')) === 'gone', EXPIRY_MS + BEAT_MS + UI_WAIT_MS, 'relay-c gone on the Fleet page');
    const elapsed = Date.now() - killed;
    console.log(`# relay-c killed with SIGKILL: shown gone after ${elapsed} ms (fleet.expiryMs ${EXPIRY_MS}, heartbeat ${HEARTBEAT_MS})`);
    assert.ok(elapsed <= EXPIRY_MS + BEAT_MS, `gone after ${elapsed} ms, more than fleet.expiryMs ${EXPIRY_MS} + ${BEAT_MS}`);
    assert.equal(await rowState(page, 'relay-a'), 'up');
    assert.equal(await rowState(page, 'relay-b'), 'up');
    await page.getByRole('region', { name: 'Relays up' }).getByText('2', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    await page.getByRole('region', { name: 'Relays up' }).getByText('1 gone').waitFor({ timeout: UI_WAIT_MS });
    await screenshot(page, 'fleet');
  });

  it('a change refused with 409 CONFIG_CONFLICT says it changed on another relay, and the list is reloaded', async () => {
    // Another writer moves the shared config on without telling anyone (as a relay whose
    // notice was lost would): relay A's version is stale and its next change is refused.
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    try {
      const key = `relaydeck:{${FLEET_NAME}}:config`;
      const stored = JSON.parse((await client.get(key)) ?? 'null') as { version: number } | null;
      assert.ok(stored && typeof stored.version === 'number', `the shared config document at ${key}`);
      await client.set(key, JSON.stringify({ ...stored, version: stored.version + 1, by: 'e2e-other-writer', at: Date.now() }));
    } finally {
      client.disconnect();
    }
    let reloads = 0;
    const count = (request: { url(): string }) => {
      if (new URL(request.url()).pathname === '/api/routes') reloads += 1;
    };
    page.on('request', count);
    try {
      await goTo(page, 'routes', 'Routes');
      await page.getByRole('switch', { name: 'Proxy mode for route live' }).click();
      const notice = page.locator('.notice.error[data-code="CONFIG_CONFLICT"]');
      await notice.getByText('Changed on another relay meanwhile: the list is reloaded, try again.').waitFor({ timeout: UI_WAIT_MS });
      await waitFor(() => reloads >= 1, UI_WAIT_MS, 'the routes reloaded after the conflict');
    } finally {
      page.off('request', count);
    }
  });

  it('with Redis away, the Fleet page says so and a change is refused: changes wait until Redis returns', async () => {
    await redis.kill();
    await goTo(page, 'fleet', 'Fleet');
    await waitFor(async () => /^down/.test((await page.getByTestId('fleet-redis').textContent()) ?? ''), UI_WAIT_MS, 'Redis down on the Fleet page');
    await page
      .getByTestId('fleet-warning')
      .getByText(/refused until Redis returns/)
      .waitFor({ timeout: UI_WAIT_MS });
    await goTo(page, 'routes', 'Routes');
    await page.getByRole('switch', { name: 'Proxy mode for route live' }).click();
    await page
      .locator('.notice.error[data-code="FLEET_UNAVAILABLE"]')
      .getByText("The fleet's Redis is away: changes are refused until it returns (viewers are still served).")
      .waitFor({ timeout: UI_WAIT_MS });
    assert.ok(
      viewers.every((v) => v.bytes() > 0),
      'viewers still served',
    );
  });

  it('a relay without fleet.redisUrl explains fleet mode and the setting', async () => {
    const { page: lonePage, problems: loneProblems } = await openSignedIn(browser, alone.adminUrl);
    await goTo(lonePage, 'fleet', 'Fleet');
    const panel = lonePage.getByTestId('fleet-alone');
    await panel.getByText('This relay runs alone').waitFor({ timeout: UI_WAIT_MS });
    assert.match((await panel.textContent()) ?? '', /fleet\.redisUrl/);
    assert.equal(await lonePage.getByRole('table', { name: 'Relays' }).count(), 0);
    await lonePage.context().close();
    const relevant = [...problems, ...loneProblems].filter((p) => !/Failed to load resource/.test(p));
    assert.deepEqual(relevant, [], 'no console errors or CSP violations');
  });
});
