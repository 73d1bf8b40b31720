/**
 * The fleet's shared part of the config (fleet/shared-part.ts): what is split off as shared,
 * what stays local, and how a shared part is put back beside a relay's local sections.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLEET_LOCAL_RELAY_KEYS, FLEET_LOCAL_SECTIONS, parseConfig } from '../../../shared/config.js';
import { localPartOf, mergeSharedPart, sameLocalPart, sameSharedPart, sharedPartOf } from '../../../electron/engine/fleet/shared-part.js';
import { decodeSharedDocument } from '../../../electron/engine/fleet/shared-config.js';

const NODES = [{ id: 'a', url: 'http://127.0.0.2:8000' }];
const ROUTES = [{ id: 'live', path: '/live/', kind: 'flv', mode: 'redirect', nodes: ['a'] }];

const relayOne = () =>
  parseConfig({
    relay: { host: '127.0.0.1', port: 8091, publicUrl: 'https://one.example', maxSessions: 777 },
    admin: { port: 9091, token: 'one-token-0123456789abcdef' },
    fleet: { redisUrl: 'redis://127.0.0.1:6379', relayId: 'one' },
    flv: { failoverGraceMs: 1234 },
    nodes: NODES,
    routes: ROUTES,
  });
const relayTwo = () =>
  parseConfig({
    relay: { host: '0.0.0.0', port: 8092, publicUrl: 'https://two.example', listenBacklog: 100 },
    admin: { port: 9092, token: 'two-token-0123456789abcdef' },
    fleet: { redisUrl: 'redis://127.0.0.1:6379', relayId: 'two' },
  });

describe('fleet shared part', () => {
  it('leaves out every local section and every local relay key', () => {
    const shared = sharedPartOf(relayOne()) as Record<string, any>;
    for (const section of FLEET_LOCAL_SECTIONS) assert.equal(section in shared, false, section);
    for (const key of FLEET_LOCAL_RELAY_KEYS) assert.equal(key in shared.relay, false, `relay.${key}`);
    assert.equal(shared.relay.maxSessions, 777);
    assert.equal(shared.flv.failoverGraceMs, 1234);
    assert.deepEqual(
      shared.routes.map((r: any) => r.id),
      ['live'],
    );
    assert.deepEqual(Object.keys(shared).sort(), ['flv', 'health', 'hls', 'locator', 'nodes', 'relay', 'routes', 'webhooks']);
  });

  it('the local part is exactly the rest: local sections and local relay keys', () => {
    const local = localPartOf(relayOne()) as Record<string, any>;
    assert.deepEqual(Object.keys(local.relay).sort(), [...FLEET_LOCAL_RELAY_KEYS].sort());
    assert.equal(local.admin.token, 'one-token-0123456789abcdef');
    assert.equal('routes' in local, false);
  });

  it("merging relay one's shared part into relay two keeps two's local settings and takes one's shared ones", () => {
    const merged = parseConfig(mergeSharedPart(relayTwo(), sharedPartOf(relayOne())));
    assert.equal(merged.relay.host, '0.0.0.0');
    assert.equal(merged.relay.port, 8092);
    assert.equal(merged.relay.publicUrl, 'https://two.example');
    assert.equal(merged.relay.listenBacklog, 100);
    assert.equal(merged.admin.token, 'two-token-0123456789abcdef');
    assert.equal(merged.fleet.relayId, 'two');
    assert.equal(merged.relay.maxSessions, 777);
    assert.equal(merged.flv.failoverGraceMs, 1234);
    assert.deepEqual(merged.routes, relayOne().routes);
    assert.ok(sameSharedPart(merged, relayOne()));
    assert.ok(sameLocalPart(merged, relayTwo()));
    assert.equal(sameSharedPart(relayOne(), relayTwo()), false);
  });

  it('local sections or local relay keys inside a shared document never reach the relay', () => {
    const shared = { ...sharedPartOf(relayOne()), admin: { token: 'stolen-token-0123456789' }, relay: { ...sharedPartOf(relayOne()).relay, port: 1 } };
    const merged = parseConfig(mergeSharedPart(relayTwo(), shared));
    assert.equal(merged.admin.token, 'two-token-0123456789abcdef');
    assert.equal(merged.relay.port, 8092);
  });

  it("a section the shared document lacks takes its defaults, not the relay's own value", () => {
    const shared = sharedPartOf(relayOne()) as Record<string, unknown>;
    delete shared.flv;
    const merged = parseConfig(mergeSharedPart(relayOne(), shared));
    assert.equal(merged.flv.failoverGraceMs, parseConfig({}).flv.failoverGraceMs);
  });

  it('a shared part that does not validate is refused by parseConfig, naming the field', () => {
    const shared = { ...sharedPartOf(relayOne()), routes: [{ id: 'bad', path: 'no-slash', kind: 'flv', mode: 'redirect', nodes: ['a'] }] };
    assert.throws(() => parseConfig(mergeSharedPart(relayTwo(), shared)), /routes/);
  });

  it('a stored document is checked for its shape: JSON object, integer version from 1, config object', () => {
    assert.equal(decodeSharedDocument('not json').ok, false);
    assert.deepEqual(decodeSharedDocument('[1]'), { ok: false, version: 0, error: 'expected a JSON object' });
    assert.equal(decodeSharedDocument({ version: 0, config: {} }).ok, false);
    assert.equal(decodeSharedDocument({ version: 1.5, config: {} }).ok, false);
    assert.deepEqual(decodeSharedDocument({ version: 3, config: 'x' }), { ok: false, version: 3, error: 'config: expected an object' });
    const good = decodeSharedDocument(JSON.stringify({ version: 4, config: { routes: [] }, by: 'one', at: 5 }));
    assert.deepEqual(good, { ok: true, document: { version: 4, config: { routes: [] }, by: 'one', at: 5 } });
  });
});
