/**
 * Admission webhooks (routes[].auth.webhook) through real sockets: a webhook service written
 * here allows, denies, hangs, answers 500 or is down, and each case gives the viewer the
 * documented answer in bounded time; identical questions share one call and answers are
 * cached; a full queue answers 503 at once; the end-of-session call reports the bytes the
 * viewer really received; a webhook's maxDurationMs ends the session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FlvTestViewer } from '../../../helpers/flv-viewer.js';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { request, sleep, waitFor } from '../../../helpers/http.js';
import { freePort } from '../../../helpers/media.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { WebhookService } from '../../../helpers/webhook-service.js';

const STREAM = '/live/cam1.flv';

describe('admission webhook on FLV routes', () => {
  let origin: LiveFlvOrigin;
  let hooks: WebhookService;
  let relay: StartedRelay;
  let downUrl: string;

  const route = (id: string, webhook: Record<string, unknown>) => ({ id, path: `/${id}/`, kind: 'flv', mode: 'proxy', stripPrefix: true, auth: { webhook } });

  before(async () => {
    origin = new LiveFlvOrigin();
    const originUrl = await origin.start();
    hooks = new WebhookService();
    const base = await hooks.start();
    downUrl = `http://127.0.0.1:${await freePort()}/down`;
    hooks.answers.set('/allow', (call) => ({ status: 200, body: { label: `viewer-${call.body.query.includes('user=b') ? 'b' : 'a'}` } }));
    hooks.answers.set('/deny403', { status: 403, body: { reason: 'not subscribed' } });
    hooks.answers.set('/deny401', { status: 401 });
    hooks.answers.set('/hang', 'hang');
    hooks.answers.set('/fail', { status: 500 });
    hooks.answers.set('/short', { status: 200, body: { label: 'short', maxDurationMs: 700 } });
    hooks.answers.set('/bad', { status: 200, body: { label: 'x'.repeat(500) } });
    relay = await startRelay({
      nodes: [{ id: 'n1', url: originUrl }],
      routes: [
        route('allow', { url: `${base}/allow`, headers: ['user-agent', 'x-session'], stopUrl: `${base}/stop`, token: 'relay-to-webhook-secret', cacheMs: 0 }),
        route('cached', { url: `${base}/allow`, cacheMs: 60_000 }),
        route('deny', { url: `${base}/deny403` }),
        route('deny401', { url: `${base}/deny401` }),
        route('hang', { url: `${base}/hang`, timeoutMs: 500 }),
        route('hangopen', { url: `${base}/hang`, timeoutMs: 500, onError: 'allow' }),
        route('fail', { url: `${base}/fail` }),
        route('down', { url: downUrl }),
        route('busy', { url: `${base}/hang`, timeoutMs: 3_000, maxConcurrent: 1, maxQueue: 1 }),
        route('short', { url: `${base}/short`, stopUrl: `${base}/stop` }),
        route('bad', { url: `${base}/bad` }),
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await hooks?.stop();
    await origin?.stop();
  });

  it('allows with the label it answers; the call carries the viewer facts, the forwarded headers and the bearer token', async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/allow${STREAM}?user=a&token=t1`, true, {
      'user-agent': 'TestPlayer/1.0',
      cookie: 'sid=1',
    }).open();
    try {
      assert.equal(viewer.status, 200);
      await waitFor(() => viewer.firstKeyframeAt > 0, 5_000, 'a keyframe');
      const [call] = hooks.callsTo('/allow');
      assert.equal(call.headers.authorization, 'Bearer relay-to-webhook-secret');
      assert.equal(call.body.action, 'play');
      assert.equal(call.body.routeId, 'allow');
      assert.equal(call.body.streamKey, 'live/cam1');
      assert.equal(call.body.path, `/allow${STREAM}`);
      assert.equal(call.body.query, '?user=a&token=t1', 'the credentials as the viewer sent them');
      assert.equal(call.body.clientAddress, '127.0.0.1');
      assert.equal(call.body.protocol, 'http/1.1');
      assert.equal(call.body.transport, 'http');
      assert.equal(call.body.kind, 'flv');
      assert.match(call.body.requestId, /^[0-9a-f-]{36}$/);
      assert.deepEqual(call.body.headers, { 'user-agent': 'TestPlayer/1.0' }, 'only the headers named, and only those sent');
      const { body: sessions } = await relay.api.call('GET', '/api/sessions');
      assert.equal(sessions.find((s: { routeId: string }) => s.routeId === 'allow')?.label, 'viewer-a');
      const { body: stats } = await relay.api.call('GET', '/api/stats');
      assert.equal(stats.routes.allow.tokens['viewer-a'], 1);
    } finally {
      viewer.close();
    }
  });

  it('a 403 or 401 refuses the viewer with that status and a JSON error; the node is never asked', async () => {
    const pulls = origin.requests.length;
    const denied = await request(`${relay.relayUrl}/deny${STREAM}`);
    assert.equal(denied.status, 403);
    const body = JSON.parse(denied.body.toString());
    assert.equal(body.error.code, 'WEBHOOK_FORBIDDEN');
    assert.match(body.error.message, /not subscribed/);
    const unauthorized = await request(`${relay.relayUrl}/deny401${STREAM}`);
    assert.equal(unauthorized.status, 401);
    assert.equal(JSON.parse(unauthorized.body.toString()).error.code, 'WEBHOOK_UNAUTHORIZED');
    assert.equal(origin.requests.length, pulls);
  });

  it('a webhook that hangs: 503 WEBHOOK_FAILED with Retry-After after timeoutMs, or the stream when onError is "allow"', async () => {
    const started = Date.now();
    const refused = await request(`${relay.relayUrl}/hang${STREAM}`);
    const waited = Date.now() - started;
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body.toString()).error.code, 'WEBHOOK_FAILED');
    assert.equal(refused.headers['retry-after'], '2');
    assert.ok(waited >= 450 && waited < 3_000, `answered after ${waited} ms (timeoutMs 500)`);
    const open = await new FlvTestViewer(`${relay.relayUrl}/hangopen${STREAM}`).open();
    assert.equal(open.status, 200);
    open.close();
  });

  it('a webhook answering 500, one that is down, and one whose 2xx answer is malformed: 503 WEBHOOK_FAILED', async () => {
    for (const id of ['fail', 'down', 'bad']) {
      const answer = await request(`${relay.relayUrl}/${id}${STREAM}`);
      assert.equal(answer.status, 503, id);
      assert.equal(JSON.parse(answer.body.toString()).error.code, 'WEBHOOK_FAILED', id);
    }
    const { body: requests } = await relay.api.call('GET', '/api/requests');
    assert.ok(requests.some((r: { routeId: string; errorCode?: string }) => r.routeId === 'down' && r.errorCode === 'WEBHOOK_FAILED'));
  });

  it('identical viewers arriving together share one call, and the answer is reused for cacheMs', async () => {
    const before = hooks.callsTo('/allow').length;
    const viewers = await Promise.all(Array.from({ length: 20 }, () => new FlvTestViewer(`${relay.relayUrl}/cached${STREAM}?user=b`).open()));
    assert.ok(viewers.every((v) => v.status === 200));
    viewers.forEach((v) => v.close());
    const later = await new FlvTestViewer(`${relay.relayUrl}/cached${STREAM}?user=b`).open();
    assert.equal(later.status, 200);
    later.close();
    assert.equal(hooks.callsTo('/allow').length - before, 1, 'one call for 21 viewers with the same question');
    const other = await new FlvTestViewer(`${relay.relayUrl}/cached${STREAM}?user=a`).open();
    other.close();
    assert.equal(hooks.callsTo('/allow').length - before, 2, 'another question is another call');
    const metrics = (await relay.api.call('GET', '/metrics')).body as string;
    const count = (outcome: string) =>
      Number(new RegExp(`relaydeck_webhook_questions_total\\{outcome="${outcome}",relay="[^"]+"\\} (\\d+)`).exec(metrics)?.[1]);
    assert.ok(count('coalesced') + count('cacheHits') >= 20, 'the 20 viewers that made no call are counted as shared or cached');
  });

  it('a full queue answers 503 WEBHOOK_BUSY at once, without a call', async () => {
    const before = hooks.callsTo('/hang').length;
    const first = request(`${relay.relayUrl}/busy${STREAM}?v=1`);
    await waitFor(() => hooks.callsTo('/hang').length > before, 2_000, 'the first call');
    const queued = request(`${relay.relayUrl}/busy${STREAM}?v=2`);
    await sleep(50);
    const started = Date.now();
    const busy = await request(`${relay.relayUrl}/busy${STREAM}?v=3`);
    assert.ok(Date.now() - started < 1_000);
    assert.equal(busy.status, 503);
    assert.equal(JSON.parse(busy.body.toString()).error.code, 'WEBHOOK_BUSY');
    assert.ok(busy.headers['retry-after']);
    assert.equal(hooks.callsTo('/hang').length - before, 1, 'the queued and the refused viewer made no call yet');
    assert.equal((await first).status, 503);
    assert.equal((await queued).status, 503, 'the queued viewer waited within its timeoutMs');
  });

  it('the end-of-session call reports the bytes the viewer received, its duration, label and close reason', async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/allow${STREAM}?user=b`).open();
    await waitFor(() => viewer.bytes > 40_000, 5_000, 'some stream');
    const startedAt = Date.now();
    viewer.close();
    const stop = await waitFor(() => hooks.callsTo('/stop').find((c) => c.body.label === 'viewer-b'), 5_000, 'the stop call');
    assert.equal(stop.body.action, 'stop');
    assert.equal(stop.body.routeId, 'allow');
    assert.equal(stop.body.streamKey, 'live/cam1');
    assert.equal(stop.body.closeReason, 'CLIENT_CLOSED');
    assert.equal(stop.headers.authorization, 'Bearer relay-to-webhook-secret');
    assert.ok(stop.body.durationMs >= 0 && stop.body.startedAt <= startedAt);
    // The relay counts what it wrote; the viewer may not have read the last write before it left.
    const chunk = origin.options.keyframeBytes + 4_096;
    assert.ok(Math.abs(stop.body.bytesOut - viewer.bytes) <= chunk, `reported ${stop.body.bytesOut}, received ${viewer.bytes}`);
  });

  it("a webhook's maxDurationMs ends the session as SESSION_TIME_LIMIT", async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/short${STREAM}`).open();
    assert.equal(viewer.status, 200);
    await waitFor(() => viewer.ended, 5_000, 'the end of the session');
    assert.ok(Date.now() - viewer.openedAt >= 650, 'not before its time');
    const stop = await waitFor(() => hooks.callsTo('/stop').find((c) => c.body.label === 'short'), 5_000, 'the stop call');
    assert.equal(stop.body.closeReason, 'SESSION_TIME_LIMIT');
    const { body: requests } = await relay.api.call('GET', '/api/requests');
    assert.ok(requests.some((r: { routeId: string; errorCode?: string }) => r.routeId === 'short' && r.errorCode === 'SESSION_TIME_LIMIT'));
  });
});
