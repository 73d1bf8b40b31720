/**
 * The admission settings over the admin HTTP API (the one contract the IPC handlers and the
 * browser client share), through real sockets with a config file: the `webhooks` section and
 * the per-address connection limit (relay.maxConnectionsPerAddress, addressLimitIpv6Prefix)
 * are read with their defaults, a bad value is refused 400 naming the field with nothing
 * saved, a good change is saved to the file, and the address limit applies to the next
 * connection: past it a request gets 429 ADDRESS_LIMIT, counted under its limit in the stats.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiError } from '../../../shared/api.js';
import { webhookSettingsSchema } from '../../../shared/config.js';
import type { SettingsDto, StatsDto } from '../../../shared/dto.js';
import { createHttpClient } from '../../../shared/http-client.js';
import { readConfigFile, writeConfigAtomic } from '../../../electron/engine/config/store.js';
import { portOf, request, waitFor } from '../../helpers/http.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, testConfig, TEST_TOKEN, type StartedRelay } from '../../helpers/relay.js';

describe('admission settings over the admin HTTP API', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let configPath: string;
  const patch = (body: unknown) => relay.api.call<{ error: ApiError }>('PATCH', '/api/settings', body);

  before(async () => {
    const url = await origin.start();
    const partial = { nodes: [{ id: 'n', url }], routes: [{ id: 'files', path: '/files/', kind: 'file', mode: 'proxy' }] };
    configPath = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-settings-admission-')), 'config.json');
    await writeConfigAtomic(configPath, testConfig(partial));
    relay = await startRelay(partial, configPath);
  });
  after(async () => {
    await relay?.stop();
    await origin.stop();
    if (configPath) await fs.rm(path.dirname(configPath), { recursive: true, force: true });
  });

  it('GET /api/settings shows the webhooks section and the address limit with their defaults', async () => {
    const settings = (await relay.api.call<SettingsDto>('GET', '/api/settings')).body;
    assert.deepEqual(settings.webhooks, webhookSettingsSchema.parse({}, 'webhooks'));
    assert.deepEqual(settings.webhooks, relay.engine.config.webhooks);
    assert.equal(settings.relay.maxConnectionsPerAddress, 0);
    assert.equal(settings.relay.addressLimitIpv6Prefix, 64);
  });

  it('refuses bad values with 400 naming the field; the running config and the saved file stay as they were', async () => {
    const savedBefore = await fs.readFile(configPath, 'utf8');
    const runningBefore = structuredClone({ webhooks: relay.engine.config.webhooks, relay: relay.engine.config.relay });
    const cases: [unknown, RegExp][] = [
      [{ webhooks: { stopRetries: 21 } }, /^body\.webhooks\.stopRetries: expected an integer from 0 to 20, got 21/],
      [{ webhooks: { verifyTls: 'no' } }, /^body\.webhooks\.verifyTls: expected true or false/],
      [{ webhooks: { nope: 1 } }, /^body\.webhooks\.nope: unknown key/],
      [{ relay: { maxConnectionsPerAddress: -1 } }, /^body\.relay\.maxConnectionsPerAddress: /],
      [{ relay: { addressLimitIpv6Prefix: 129 } }, /^body\.relay\.addressLimitIpv6Prefix: expected an integer from 1 to 128/],
    ];
    for (const [body, message] of cases) {
      const answer = await patch(body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.error.code, 'BAD_CONFIG');
      assert.match(answer.body.error.message, message);
    }
    assert.equal(await fs.readFile(configPath, 'utf8'), savedBefore, 'the saved file is byte for byte the same');
    assert.deepEqual({ webhooks: relay.engine.config.webhooks, relay: relay.engine.config.relay }, runningBefore);
  });

  it('saves a good change through the browser client, keeping the fields it does not name', async () => {
    const client = createHttpClient({ baseUrl: relay.adminUrl, token: TEST_TOKEN });
    const changed = await client.updateSettings({ body: { webhooks: { stopRetries: 2, verifyTls: false }, relay: { addressLimitIpv6Prefix: 56 } } });
    assert.deepEqual(changed.webhooks, { ...webhookSettingsSchema.parse({}, 'webhooks'), stopRetries: 2, verifyTls: false });
    assert.equal(changed.relay.addressLimitIpv6Prefix, 56);
    assert.equal(changed.restartNeeded, false, 'applies live');
    const saved = await readConfigFile(configPath);
    assert.deepEqual(saved.webhooks, changed.webhooks);
    assert.equal(saved.relay.addressLimitIpv6Prefix, 56);
    assert.deepEqual((await client.getSettings({})).webhooks, changed.webhooks);
    assert.deepEqual(relay.engine.config.webhooks, changed.webhooks);
  });

  it('the address limit applies to the next connection: past it 429 ADDRESS_LIMIT, counted by limit', async () => {
    assert.equal((await patch({ relay: { maxConnectionsPerAddress: 1 } })).status, 200);
    const held = net.connect(portOf(relay.relayUrl), '127.0.0.1');
    await new Promise<void>((resolve, reject) => held.once('connect', resolve).once('error', reject));
    try {
      // The held connection is the one allowed; the request comes on a second one.
      const refused = await waitFor(
        async () => {
          const answer = await request(`${relay.relayUrl}/files/a.txt`);
          return answer.status === 429 ? answer : undefined;
        },
        5_000,
        'a second connection to be refused',
      );
      assert.equal(JSON.parse(refused.body.toString()).error.code, 'ADDRESS_LIMIT');
      assert.ok(refused.headers['retry-after'], 'Retry-After is sent');
    } finally {
      held.destroy();
    }
    const stats = (await relay.api.call<StatsDto>('GET', '/api/stats')).body;
    assert.ok((stats.totals.limits.maxConnectionsPerAddress ?? 0) >= 1, JSON.stringify(stats.totals.limits));
    assert.ok((stats.totals.errors.ADDRESS_LIMIT ?? 0) >= 1);
    // Back to no limit: the next connection passes.
    assert.equal((await patch({ relay: { maxConnectionsPerAddress: 0 } })).status, 200);
    assert.equal((await request(`${relay.relayUrl}/files/a.txt`)).status, 200);
  });
});
