/**
 * The admin surface: loopback unless the operator opts in, no cross-origin calls, failed
 * logins (a wrong bearer token; a missing one is a plain 401) rate-limited per address, and
 * every changing call written to the audit log (who, what, when, from where) with secrets
 * masked; the token lives in a 0600 file.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { startRelay, TEST_TOKEN, type StartedRelay } from '../../helpers/relay.js';
import { waitFor } from '../../helpers/http.js';

describe('admin surface', () => {
  let relay: StartedRelay;
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-admin-surface-'));
    relay = await startRelay(
      { admin: { maxFailedAuthPerMinute: 3 }, nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }], routes: [] },
      path.join(dir, 'config.json'),
    );
  });
  after(() => relay.stop());

  it('refuses to bind the admin API off loopback unless admin.allowRemote is set', () => {
    assert.throws(() => parseConfig({ admin: { host: '0.0.0.0' } }), /admin\.host: "0\.0\.0\.0" is not a loopback address: set admin\.allowRemote to true/);
    assert.equal(parseConfig({ admin: { host: '0.0.0.0', allowRemote: true } }).admin.host, '0.0.0.0');
    assert.equal(parseConfig({}).admin.host, '127.0.0.1');
  });

  it('refuses calls from another origin, with or without the token', async () => {
    const response = await fetch(`${relay.adminUrl}/api/routes`, { headers: { authorization: `Bearer ${TEST_TOKEN}`, origin: 'http://evil.example' } });
    assert.equal(response.status, 403);
    assert.equal((await response.json()).error.code, 'CORS_FORBIDDEN');
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    const own = await fetch(`${relay.adminUrl}/api/routes`, { headers: { authorization: `Bearer ${TEST_TOKEN}`, origin: relay.adminUrl } });
    assert.equal(own.status, 200, 'the UI on the admin origin itself is fine');
  });

  it('does not count requests without a credential as failed logins (a foreign page cannot lock the operator out)', async () => {
    for (let i = 0; i < 50; i += 1) {
      const answer = await relay.api.call('GET', i % 2 ? '/api/routes' : '/metrics', undefined, null);
      assert.equal(answer.status, 401, `request ${i} without a token`);
      assert.equal(answer.body.error.code, 'UNAUTHORIZED');
    }
    const basic = await fetch(`${relay.adminUrl}/api/routes`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    assert.equal(basic.status, 401, 'a credential of another scheme (sent by a browser on its own) is no bearer attempt either');
    assert.equal((await relay.api.call('GET', '/api/routes')).status, 200, "the operator's token still works");
  });

  it('rate-limits failed logins per address with 429 and Retry-After, while the right token still needs to wait', async () => {
    for (let i = 0; i < 3; i += 1) assert.equal((await relay.api.call('GET', '/api/routes', undefined, `wrong-${i}-wrong-wrong`)).status, 401);
    const limited = await relay.api.call('GET', '/api/routes', undefined, 'wrong-again-wrong-wrong');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await relay.api.call('GET', '/api/routes')).status, 429, 'no guessing through the limit, even with the right token');
  });

  it('writes changing calls to the audit log with who, what, when and where, secrets masked', async () => {
    const fresh = await startRelay({ nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }] }, path.join(dir, 'audit', 'config.json'));
    try {
      await fresh.api.call('POST', '/api/routes', {
        id: 'vip',
        path: '/vip/',
        kind: 'file',
        mode: 'proxy',
        auth: { tokens: [{ token: 'super-secret-token', label: 'vip' }] },
      });
      await fresh.api.call('PATCH', '/api/routes/vip', { mode: 'bogus' });
      await fresh.api.call('GET', '/api/routes');
      const file = path.join(dir, 'audit', 'audit.log');
      const lines = await waitFor(
        async () => {
          const text = await fs.readFile(file, 'utf8').catch(() => '');
          const parsed = text
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l));
          return parsed.length >= 2 ? parsed : undefined;
        },
        2000,
        'two audit lines',
      );
      assert.equal(lines.length, 2, 'reads are not audited');
      assert.equal(lines[0].who, 'admin-token');
      assert.equal(lines[0].from, '127.0.0.1');
      assert.equal(lines[0].call, 'createRoute');
      assert.equal(lines[0].outcome, 'ok');
      assert.ok(Date.parse(lines[0].at) > Date.now() - 60_000);
      assert.equal(lines[1].call, 'updateRoute');
      assert.equal(lines[1].id, 'vip');
      assert.equal(lines[1].outcome, 'BAD_CONFIG');
      const text = await fs.readFile(file, 'utf8');
      assert.doesNotMatch(text, /super-secret-token/);
      assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
    } finally {
      await fresh.stop();
    }
  });
});
