/**
 * Viewer admission in the operator UI (issue 15), in headless Chromium against `relaydeck
 * serve` with an own live FLV node and an operator's webhook service: the route form's
 * admission fields (webhook and limits; JWT on a second route) refuse a bad value under its
 * field, then save through the real UI and read back the same over the API; real viewers are
 * then admitted with the webhook's label (shown on the Streams page), refused by the
 * per-stream cap and by the webhook, and the Streams and Dashboard pages count those
 * refusals by limit, code and reason, with the webhook's counters; the Settings page edits
 * the per-address connection limit and the webhooks section like any other setting.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright';
import { launchChromium, noChromium } from '../helpers/browser.js';
import { LiveFlvOrigin } from '../helpers/flv-origin.js';
import { waitFor } from '../helpers/http.js';
import { WebhookService, type WebhookCall } from '../helpers/webhook-service.js';
import {
  goTo,
  holdViewer,
  openSignedIn,
  probe,
  SCREENSHOT_DIR,
  startServe,
  uiSkipReason,
  UI_TOKEN,
  UI_WAIT_MS,
  type HeldViewer,
  type Served,
} from './ui-support.js';

const skip = uiSkipReason(noChromium);
if (skip) console.log(`# skipping the UI admission suite: ${skip}`);

const STREAM = '/live/cam1.flv';
const HOOK_TOKEN = 'relay-e2e-token-0123456789';

/** Save a picture of one part of a page (it may sit below the fold) as NAME.png in SCREENSHOT_DIR. */
async function partScreenshot(part: Locator, name: string): Promise<void> {
  await fs.mkdir(SCREENSHOT_DIR, { recursive: true });
  await part.page().mouse.move(0, 0);
  await part.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/** The operator's decision: alice is let in with her label, mallory is refused, anyone else let in. */
function decide(call: WebhookCall): { status: number; body?: unknown } {
  const query = String(call.body?.query ?? '');
  if (query.includes('user=mallory')) return { status: 403, body: { reason: 'banned' } };
  if (query.includes('user=alice')) return { status: 200, body: { label: 'alice' } };
  return { status: 200 };
}

describe('viewer admission in the operator UI', { skip }, () => {
  const node = new LiveFlvOrigin();
  const hook = new WebhookService();
  let served: Served;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  const viewers: HeldViewer[] = [];
  const api = async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${served.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${UI_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await response.json()) as T;
  };

  before(async () => {
    hook.answers.set('/play', decide);
    await hook.start();
    const nodeUrl = await node.start();
    // An own node and route: no first-run demo.
    served = await startServe({
      relay: { port: 0, shutdownGraceMs: 500 },
      admin: { port: 0, token: UI_TOKEN },
      nodes: [{ id: 'own', url: nodeUrl }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    browser = await launchChromium();
    ({ page, problems } = await openSignedIn(browser, served.adminUrl));
  });

  after(async () => {
    viewers.forEach((v) => v.close());
    await browser?.close();
    const code = await served?.stop();
    await node.stop();
    await hook.stop();
    assert.equal(code, 0, `relaydeck serve exited ${code}: ${served?.stderr()}`);
  });

  it('Routes: the admission fields refuse a bad value under the field, then save; the API reads back what was typed', async () => {
    await goTo(page, 'routes', 'Routes');
    await page.locator('tr[data-route="live"]').getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit route live' });
    const webhook = form.getByRole('group', { name: 'Admission webhook' });
    const limits = form.getByRole('group', { name: 'Viewer limits' });
    assert.equal(await webhook.getByLabel('Webhook timeout, ms').count(), 0, 'no URL: the other webhook fields are hidden');
    await webhook.getByLabel('Webhook URL', { exact: true }).fill(`${hook.url}/play`);
    const timeout = webhook.getByLabel('Webhook timeout, ms');
    // `has` takes a locator relative to the field: the label alone, not the form's chain.
    const timeoutField = webhook.locator('.field', { has: page.getByLabel('Webhook timeout, ms') });
    assert.match((await timeoutField.locator('.hint').textContent()) ?? '', /^Time allowed for the whole webhook call.* default: 2000 ms$/);
    await webhook.getByLabel('When the webhook fails').selectOption('allow');
    await timeout.fill('50');
    await webhook.getByLabel('Answers cached for, ms').fill('0');
    await webhook.getByLabel('Forwarded request headers').fill('User-Agent');
    await webhook.getByLabel('Bearer token sent to the webhook').fill(HOOK_TOKEN);
    await webhook.getByLabel('Webhook calls in flight at most').fill('4');
    await webhook.getByLabel('Webhook calls waiting at most').fill('20');
    await webhook.getByLabel('End-of-session URL (stopUrl)').fill(`${hook.url}/stop`);
    await limits.getByLabel('Most viewers of the route').fill('5');
    await limits.getByLabel('Most viewers of one stream').fill('-1');
    await form.getByRole('button', { name: 'Save route' }).click();
    await timeoutField.getByText('expected an integer from 100 to 60000, got 50').waitFor({ timeout: UI_WAIT_MS });
    await limits.getByText('expected an integer from 0 to 10000000, got -1').waitFor({ timeout: UI_WAIT_MS });
    assert.equal((await api<{ id: string; auth?: unknown }[]>('GET', '/api/routes')).find((r) => r.id === 'live')?.auth, undefined, 'nothing saved');

    await timeout.fill('1500');
    await limits.getByLabel('Most viewers of one stream').fill('1');
    await form.getByRole('button', { name: 'Save route' }).click();
    await page.getByText('Route live saved.').waitFor({ timeout: UI_WAIT_MS });
    type Route = { id: string; auth?: { webhook?: unknown }; limits: unknown };
    const saved = (await api<Route[]>('GET', '/api/routes')).find((r) => r.id === 'live');
    assert.deepEqual(saved?.auth?.webhook, {
      url: `${hook.url}/play`,
      onError: 'allow',
      timeoutMs: 1500,
      cacheMs: 0,
      headers: ['user-agent'],
      token: HOOK_TOKEN,
      maxConcurrent: 4,
      maxQueue: 20,
      stopUrl: `${hook.url}/stop`,
    });
    assert.deepEqual(saved?.limits, { maxViewers: 5, maxViewersPerStream: 1, viewerBytesPerSecond: 0 });

    // The form shows the saved values when opened again.
    await page.locator('tr[data-route="live"]').getByRole('button', { name: 'Edit' }).click();
    const again = page.getByRole('form', { name: 'Edit route live' });
    assert.equal(await again.getByLabel('Forwarded request headers').inputValue(), 'user-agent');
    assert.equal(await again.getByLabel('Most viewers of one stream').inputValue(), '1');
    await partScreenshot(again.getByRole('group', { name: 'Admission webhook' }), 'route-form-admission');
    await again.getByRole('button', { name: 'Cancel' }).click();
  });

  it('Routes: a new route with JWT viewer tokens: a short secret is named by its line, then the route is saved with the defaults', async () => {
    const secret = 'e2e-jwt-secret-0123456789abcdef-XYZ';
    await page.getByRole('button', { name: 'Add route' }).click();
    const form = page.getByRole('form', { name: 'Add route' });
    const jwt = form.getByRole('group', { name: 'JWT viewer tokens' });
    await form.getByLabel('Id', { exact: true }).fill('tokens');
    await form.getByLabel('Path prefix').fill('/tokens/');
    await form.getByLabel('Kind').selectOption('hls');
    assert.equal(await jwt.getByLabel('Label claim').count(), 0, 'no secret, no JWKS URL: the other JWT fields are hidden');
    await jwt.getByLabel('HMAC secrets, one a line').fill(`kid=k1 ${secret}\nshort`);
    assert.equal(await jwt.getByLabel('Label claim').inputValue(), 'sub', 'the default shown');
    await jwt.getByLabel('Audience (aud)').fill('viewers');
    await jwt.getByLabel('Clock skew allowed, s').fill('10');
    await form.getByRole('button', { name: 'Add route' }).click();
    await jwt.getByText('line 2 (secret): must be at least 32 characters').waitFor({ timeout: UI_WAIT_MS });
    await jwt.getByLabel('HMAC secrets, one a line').fill(`kid=k1 ${secret}`);
    await form.getByRole('button', { name: 'Add route' }).click();
    await page.getByText('Route tokens added.').waitFor({ timeout: UI_WAIT_MS });
    type Route = { id: string; auth?: { jwt?: Record<string, unknown> } };
    const saved = (await api<Route[]>('GET', '/api/routes')).find((r) => r.id === 'tokens');
    assert.deepEqual(saved?.auth?.jwt?.secrets, [{ kid: 'k1', secret }]);
    assert.equal(saved?.auth?.jwt?.audience, 'viewers');
    assert.equal(saved?.auth?.jwt?.clockSkewSeconds, 10);
    assert.equal(saved?.auth?.jwt?.labelClaim, 'sub');
    assert.deepEqual(saved?.auth?.jwt?.algorithms, []);
  });

  it('Streams: the admitted viewer shows its label; refusals by the stream cap and by the webhook are counted per route', async () => {
    const alice = await holdViewer(`${served.relayUrl}${STREAM}?user=alice`, 'e2e-alice');
    viewers.push(alice);
    await waitFor(() => alice.bytes() > 10_000, UI_WAIT_MS, 'alice to receive media');
    const play = hook.callsTo('/play')[0];
    assert.equal(play.headers.authorization, `Bearer ${HOOK_TOKEN}`);
    assert.equal(play.body.headers['user-agent'], 'e2e-alice');
    const capped = await probe(`${served.relayUrl}${STREAM}?user=bob`);
    assert.equal(capped.status, 503, 'one viewer per stream');
    assert.equal((await probe(`${served.relayUrl}/live/cam2.flv?user=mallory`)).status, 403, 'the webhook refuses mallory');

    await goTo(page, 'streams', 'Streams');
    await page
      .locator('tr', { hasText: STREAM })
      .first()
      .getByRole('button', { name: `Viewers of ${STREAM}` })
      .click();
    const table = page.getByRole('table', { name: `Viewers of ${STREAM}` });
    await table.locator('tbody tr', { hasText: 'e2e-alice' }).locator('.badge', { hasText: 'alice' }).waitFor({ timeout: UI_WAIT_MS });
    const row = page.getByRole('table', { name: 'Admission by route' }).locator('tr[data-route="live"]');
    for (const count of ['maxViewersPerStream 1', 'VIEWER_LIMIT 1', 'WEBHOOK_FORBIDDEN 1', 'alice 1'])
      await row.getByText(count, { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    assert.equal(await row.locator('td').nth(1).textContent(), '2', 'two refused');
    await partScreenshot(page.getByRole('region', { name: 'Admission by route' }), 'streams-admission');
  });

  it('Dashboard: refusals per reason and the webhook counters; a stop record after the viewer leaves', async () => {
    viewers.pop()!.close();
    await waitFor(() => hook.callsTo('/stop').length === 1, UI_WAIT_MS, 'the end-of-session record');
    await goTo(page, 'dashboard', 'Dashboard');
    const reasons = page.getByRole('table', { name: 'Refusals by reason' });
    await reasons.locator('tr[data-reason="limits"]').getByText('VIEWER_LIMIT 1', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    await reasons.locator('tr[data-reason="webhook"]').getByText('WEBHOOK_FORBIDDEN 1', { exact: true }).waitFor({ timeout: UI_WAIT_MS });
    assert.equal(await reasons.locator('tr[data-reason="limits"] meter').getAttribute('value'), '1');
    assert.match((await page.getByTestId('refusals-total').textContent()) ?? '', /^2 refused since start/);
    const figure = (id: string) => page.getByTestId('webhook-counters').locator(`dd[data-figure="${id}"]`);
    await waitFor(async () => (await figure('stops').textContent()) === '1 / 0', UI_WAIT_MS, 'the stop delivered on the dashboard');
    assert.equal(await figure('calls').textContent(), '2', 'alice and mallory: bob was refused by the cap before any call');
    assert.equal(await figure('failures').textContent(), '0');
    assert.equal(await figure('queue-full').textContent(), '0');
    assert.equal(await figure('stops-dropped').textContent(), '0');
    await partScreenshot(page.locator('.panel-row'), 'dashboard-admission');
  });

  it('Settings: the per-address connection limit and the webhooks section refuse a bad value naming the field, and save', async () => {
    await goTo(page, 'settings', 'Settings');
    const retries = page.getByLabel('Retries of a failed end-of-session call');
    const perAddress = page.getByLabel('Most connections from one client address (0 = no limit)');
    assert.equal(await retries.inputValue(), '5');
    assert.equal(await page.getByLabel('IPv6 clients counted per network of prefix length, bits').inputValue(), '64');
    await retries.fill('30');
    await perAddress.fill('50');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.locator('.field', { has: retries }).getByText('expected an integer from 0 to 20, got 30').waitFor({ timeout: UI_WAIT_MS });
    type Settings = { relay: { maxConnectionsPerAddress: number }; webhooks: { stopRetries: number; verifyTls: boolean } };
    assert.equal((await api<Settings>('GET', '/api/settings')).relay.maxConnectionsPerAddress, 0, 'nothing saved');
    await retries.fill('3');
    await page.getByLabel('Verify the certificate of https:// webhook URLs').uncheck();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Saved: applies from the next request.').waitFor({ timeout: UI_WAIT_MS });
    const saved = await api<Settings>('GET', '/api/settings');
    assert.equal(saved.relay.maxConnectionsPerAddress, 50);
    assert.equal(saved.webhooks.stopRetries, 3);
    assert.equal(saved.webhooks.verifyTls, false);
    const relevant = problems.filter((p) => !/Failed to load resource/.test(p));
    assert.deepEqual(relevant, [], 'no console errors or CSP violations');
  });
});
