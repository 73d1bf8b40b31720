/**
 * Operator controls added for the desktop app, through the real engine: pausing the relay
 * answers new requests 503 OVERLOADED while a stream in flight keeps flowing; the settings
 * calls validate by field and report when a saved listen change waits for a restart.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ApiError } from '../../../shared/api.js';
import { createHttpClient } from '../../../shared/http-client.js';
import { parseConfig } from '../../../shared/config.js';
import { Engine } from '../../../electron/engine/engine.js';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { request, waitFor } from '../../helpers/http.js';
import { ADMIN_TOKEN, startEngine } from '../../helpers/engine-fixtures.js';

describe('pause and resume', () => {
  let origin: LiveFlvOrigin;
  let engine: Engine;
  before(async () => {
    origin = new LiveFlvOrigin();
    const url = await origin.start();
    engine = await Engine.start({
      config: parseConfig({
        relay: { port: 0, shutdownGraceMs: 0 },
        admin: { port: 0, token: ADMIN_TOKEN },
        nodes: [{ id: 'o', url }],
        routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
      }),
    });
  });
  after(async () => {
    await engine.stop();
    await origin.stop();
  });

  test('paused: new requests get 503 OVERLOADED, the stream in flight keeps flowing; resumed: 200', async () => {
    let bytes = 0;
    const viewer = http.get(`${engine.relayUrl}/live/cam1.flv`, (res) => res.on('data', (c: Buffer) => (bytes += c.length)));
    await waitFor(() => bytes > 20_000, 5_000, 'the viewer to receive media');
    const client = createHttpClient({ baseUrl: engine.adminUrl, token: ADMIN_TOKEN });
    assert.equal((await client.pauseRelay({})).paused, true);
    const refused = await request(`${engine.relayUrl}/live/cam1.flv`);
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body.toString()).error.code, 'OVERLOADED');
    const during = bytes;
    await waitFor(() => bytes > during, 3_000, 'the viewer in flight to keep receiving bytes');
    assert.equal((await client.getRelayState({})).paused, true);
    assert.equal((await client.resumeRelay({})).paused, false);
    const again = http.get(`${engine.relayUrl}/live/cam1.flv`);
    const status = await new Promise<number>((resolve) => again.on('response', (res) => resolve(res.statusCode ?? 0)));
    again.destroy();
    viewer.destroy();
    assert.equal(status, 200);
  });
});

describe('settings', () => {
  let engine: Engine;
  before(async () => {
    engine = await startEngine();
  });
  after(() => engine.stop());

  test('getSettings shows every section, the admin token and the real listen addresses', async () => {
    const settings = await engine.api.getSettings({});
    assert.equal(settings.admin.token, ADMIN_TOKEN);
    assert.equal(settings.listening.relayUrl, engine.relayUrl);
    assert.equal(settings.app.closeToTray, true);
    assert.equal(settings.app.trafficLogEntries, 10_000);
    assert.deepEqual(settings.hls, engine.config.hls);
    assert.equal(settings.restartNeeded, false);
  });

  test('a bad value is refused naming the field, and nothing changes', async () => {
    const client = createHttpClient({ baseUrl: engine.adminUrl, token: ADMIN_TOKEN });
    await assert.rejects(
      client.updateSettings({ body: { relay: { port: 70_000 } } }),
      (error: ApiError) => error.code === 'BAD_CONFIG' && /^body\.relay\.port: /.test(error.message),
    );
    await assert.rejects(client.updateSettings({ body: { flv: { nope: 1 } } as never }), (error: ApiError) =>
      /^body\.flv\.nope: unknown key/.test(error.message),
    );
    assert.equal(engine.config.relay.port, 0);
  });

  test('a fan-out default applies now; a port change is saved and waits for a restart', async () => {
    const changed = await engine.api.updateSettings({ body: { flv: { idleCloseMs: 2_500 }, app: { trafficLogEntries: 5_000 } } });
    assert.equal(changed.flv.idleCloseMs, 2_500);
    assert.equal(engine.config.flv.idleCloseMs, 2_500);
    assert.equal(changed.restartNeeded, false);
    const moved = await engine.api.updateSettings({ body: { relay: { port: 18_090 } } });
    assert.equal(moved.restartNeeded, true);
    assert.equal(moved.listening.relayUrl, engine.relayUrl, 'still listening where it started');
    assert.equal((await engine.api.getRelayState({})).restartNeeded, true);
  });
});
