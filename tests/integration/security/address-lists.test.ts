/**
 * Issue 11 point 7: address lists (routes[].auth.allow/deny, relay.trustedProxies) are
 * checked by the same parser the relay matches with (shared/cidr.ts). Before, values such
 * as "::ffff:127.0.0.0/104", "1:2" or "::ffff:0:0/96" saved with 200 and then the route
 * (for trustedProxies: every request) answered 500. Now each value the admin API accepts
 * works for real requests through the relay, and each it refuses gets 400 naming the field
 * and leaves the config file as it was. Viewer addresses come from X-Forwarded-For, which
 * the relay believes because the test client (127.0.0.1) is a trusted proxy. Errors name the
 * field as sent ("body.auth.allow[1]") or, in a config file, as saved ("routes[0].auth.allow[1]").
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeConfigAtomic } from '../../../electron/engine/config/store.js';
import { request } from '../../helpers/http.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, testConfig, type StartedRelay } from '../../helpers/relay.js';

/** [value, viewer address, whether the value covers it]. */
const ACCEPTED: [string, string, boolean][] = [
  ['::ffff:127.0.0.0/104', '127.9.9.9', true], // the IPv4-mapped form of 127.0.0.0/8
  ['::ffff:127.0.0.0/104', '128.0.0.1', false],
  ['::ffff:0:0/96', '203.0.113.7', true], // every IPv4 address
  ['::ffff:0:0/96', '2001:db8::1', false],
  ['::ffff:10.1.2.3', '10.1.2.3', true],
  ['::FFFF:a01:203/128', '::ffff:10.1.2.3', true],
  ['10.0.0.0/8', '::ffff:10.200.0.1', true],
  ['10.0.0.1/8', '10.9.9.9', true], // host bits are ignored
  ['0.0.0.0/0', '198.51.100.1', true],
  ['2001:db8::/32', '2001:db8:ffff::1', true],
  ['2001:db8::/32', '2001:db9::1', false],
  ['::/0', '2001:db8::1', true],
  ['::/0', '198.51.100.1', false], // IPv6 ranges match IPv6 addresses only
  ['::1', '::1', true],
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0', true],
  ['::1.2.3.4', '::102:304', true],
  ['fe80::/10', 'fe80::1%eth0', true],
];

/** Values the relay could not use, with the words the error gives. */
const REFUSED: [string, RegExp][] = [
  ['1:2', /no IP address/],
  ['1::2::3', /no IP address/],
  ['1:2:3:4:5:6:7:8:9', /no IP address/],
  ['1:2:3:4:5:6:7:8::', /no IP address/],
  ['1.2.3', /no IP address/],
  ['1.2.3.256', /no IP address/],
  ['010.0.0.1', /no IP address/],
  ['::ffff:0:0/95', /IPv4-mapped range with a prefix under 96/],
  ['::ffff:127.0.0.0/129', /prefix .* must be 0 to 128/],
  ['10.0.0.0/33', /prefix .* must be 0 to 32/],
  ['10.0.0.0/', /expected a prefix length/],
];

describe('address lists: what validates works, the rest is 400 naming the field', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let configPath: string;

  before(async () => {
    const url = await origin.start();
    const partial = {
      relay: { trustedProxies: ['127.0.0.1'] },
      nodes: [{ id: 'n', url }],
      routes: [{ id: 'ip', path: '/ip/', kind: 'file', mode: 'proxy' }],
    };
    configPath = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-cidr-')), 'config.json');
    await writeConfigAtomic(configPath, testConfig(partial));
    relay = await startRelay(partial, configPath);
  });
  after(async () => {
    await relay?.stop();
    await origin.stop();
  });

  const getAs = (viewer: string) => request(`${relay.relayUrl}/ip/x`, { headers: { 'x-forwarded-for': viewer } });
  const patchRoute = (body: unknown) => relay.api.call('PATCH', '/api/routes/ip', body);

  for (const [value, viewer, covered] of ACCEPTED) {
    it(`allow ["${value}"] is saved and lets ${viewer} ${covered ? 'in' : 'not in'}; deny does the opposite`, async () => {
      assert.equal((await patchRoute({ auth: { allow: [value] } })).status, 200);
      const allowed = await getAs(viewer);
      assert.equal(allowed.status, covered ? 200 : 403, allowed.body.toString());
      assert.equal((await patchRoute({ auth: { deny: [value] } })).status, 200);
      const denied = await getAs(viewer);
      assert.equal(denied.status, covered ? 403 : 200, denied.body.toString());
      if (denied.status === 403) assert.equal(JSON.parse(denied.body.toString()).error.code, 'IP_DENIED');
    });
  }

  for (const [value] of ACCEPTED.filter(([, , covered]) => covered)) {
    it(`relay.trustedProxies ["${value}"] is saved and every request still works`, async () => {
      await patchRoute({ auth: {} });
      const saved = await relay.api.call('PATCH', '/api/settings', { relay: { trustedProxies: [value] } });
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
      const answer = await getAs('198.51.100.9');
      assert.equal(answer.status, 200, answer.body.toString());
    });
  }

  it('a trusted proxy range that covers the client makes the relay believe X-Forwarded-For', async () => {
    assert.equal((await relay.api.call('PATCH', '/api/settings', { relay: { trustedProxies: ['::ffff:127.0.0.0/104'] } })).status, 200);
    assert.equal((await patchRoute({ auth: { allow: ['198.51.100.0/24'] } })).status, 200);
    assert.equal((await getAs('198.51.100.9')).status, 200);
    assert.equal((await getAs('192.0.2.1')).status, 403);
    const seen = origin.requests.at(-1)!;
    assert.equal(seen.headers['x-forwarded-for'], '198.51.100.9', 'the node is told the viewer from X-Forwarded-For');
  });

  for (const [value, reason] of REFUSED) {
    it(`refuses "${value}" in allow, deny and trustedProxies with 400 naming the field; the file is unchanged`, async () => {
      const savedBefore = await fs.readFile(configPath, 'utf8');
      const calls: [Promise<{ status: number; body: any }>, string][] = [
        [patchRoute({ auth: { allow: ['10.0.0.0/8', value] } }), 'body.auth.allow[1]'],
        [patchRoute({ auth: { deny: [value] } }), 'body.auth.deny[0]'],
        [relay.api.call('POST', '/api/routes', { id: 'more', path: '/more/', kind: 'file', mode: 'proxy', auth: { deny: [value] } }), 'body.auth.deny[0]'],
        [relay.api.call('PATCH', '/api/settings', { relay: { trustedProxies: ['127.0.0.1', value] } }), 'body.relay.trustedProxies[1]'],
      ];
      for (const [call, field] of calls) {
        const answer = await call;
        assert.equal(answer.status, 400, `${field}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'BAD_CONFIG');
        assert.ok(answer.body.error.message.includes(`${field}: `), answer.body.error.message);
        assert.match(answer.body.error.message, reason);
      }
      assert.equal(await fs.readFile(configPath, 'utf8'), savedBefore, 'the saved file is byte for byte the same');
      assert.equal((await getAs('198.51.100.9')).status < 500, true, 'the relay still answers');
      const inFile = { relay: { trustedProxies: [value] }, routes: [{ id: 'r', path: '/r/', kind: 'file', mode: 'proxy', auth: { allow: ['::1', value] } }] };
      assert.throws(
        () => testConfig(inFile),
        (error: Error) => error.message.startsWith('relay.trustedProxies[0]: ') && reason.test(error.message),
      );
      inFile.relay.trustedProxies = [];
      assert.throws(
        () => testConfig(inFile),
        (error: Error) => error.message.startsWith('routes[0].auth.allow[1]: ') && reason.test(error.message),
      );
    });
  }
});
