/**
 * Switching a route from proxy to redirect over the API while a proxied stream flows:
 * the flowing stream continues, and the next request gets a 302.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TestOrigin, streamingHandler } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request, waitFor } from '../../helpers/http.js';

describe('live mode switch', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let originUrl: string;
  before(async () => {
    originUrl = await origin.start();
    origin.handler = streamingHandler(Buffer.alloc(2000, 9), 20);
    relay = await startRelay({ nodes: [{ id: 'a', url: originUrl }], routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', fanout: false }] });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('keeps the flowing stream and redirects the next request', async () => {
    let received = 0;
    let ended = false;
    const req = http.get(`${relay.relayUrl}/live/cam1.flv`, { agent: false }, (res) => {
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('close', () => (ended = true));
    });
    await waitFor(() => received > 0, 2000, 'the stream to start');

    const patched = await relay.api.call('PATCH', '/api/routes/live', { mode: 'redirect' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.mode, 'redirect');

    const next = await request(`${relay.relayUrl}/live/cam1.flv?k=1`);
    assert.equal(next.status, 302);
    assert.equal(next.headers.location, `${originUrl}/live/cam1.flv?k=1`);

    const atSwitch = received;
    await waitFor(() => received > atSwitch + 4000, 3000, 'the proxied stream to keep flowing after the switch');
    assert.equal(ended, false);
    assert.equal(relay.engine.sessions.size, 1);

    await relay.api.call('PATCH', '/api/routes/live', { mode: 'proxy' });
    const proxiedAgain = await new Promise<number>((resolve) => {
      const r = http.get(`${relay.relayUrl}/live/cam2.flv`, { agent: false }, (res) => {
        resolve(res.statusCode ?? 0);
        r.destroy();
      });
    });
    assert.equal(proxiedAgain, 200);
    req.destroy();
    await origin.waitAllClosed(1000);
  });
});
