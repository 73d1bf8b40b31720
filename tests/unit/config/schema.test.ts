/** Config validation: strict keys, field-path errors, defaults, cross-field rules. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_HEADER_TIMEOUT_MS } from '../../../shared/config.js';

const minimal = {
  relay: { host: '127.0.0.1', port: 8090 },
  admin: { host: '127.0.0.1', port: 8091, token: 'abcdefghijklmnopqrstuvwx' },
  nodes: [{ id: 'a', url: 'http://127.0.0.1:8000' }],
  routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['a'] }],
};

function errorOf(value: unknown): string {
  try {
    parseConfig(value);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a validation error');
}

describe('config schema', () => {
  it('accepts the documented minimal shape and fills defaults', () => {
    const config = parseConfig(minimal);
    assert.equal(config.relay.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS);
    assert.equal(config.relay.headerTimeoutMs, DEFAULT_HEADER_TIMEOUT_MS);
    assert.equal(config.routes[0].stripPrefix, false);
    assert.equal(config.routes[0].status, 302);
    assert.equal(config.nodes[0].enabled, true);
  });

  it('names the field path of a bad enum value', () => {
    const bad = structuredClone(minimal) as any;
    bad.routes.push({ id: 'b', path: '/b/', kind: 'flv', mode: 'proxy' }, { id: 'c', path: '/c/', kind: 'file', mode: 'bounce' });
    assert.equal(errorOf(bad), 'routes[2].mode: expected "redirect" or "proxy", got "bounce"');
  });

  it('rejects unknown keys at any depth', () => {
    assert.equal(errorOf({ ...minimal, extra: 1 }), 'extra: unknown key');
    const bad = structuredClone(minimal) as any;
    bad.nodes[0].wieght = 3;
    assert.equal(errorOf(bad), 'nodes[0].wieght: unknown key');
  });

  it('rejects wrong types, ranges and missing fields with their paths', () => {
    assert.equal(errorOf({ ...minimal, relay: { port: 70000 } }), 'relay.port: expected an integer from 0 to 65535, got 70000');
    assert.equal(errorOf({ ...minimal, relay: { port: '80' } }), 'relay.port: expected an integer, got "80"');
    assert.equal(errorOf({ ...minimal, routes: [{ id: 'x', path: '/x/', kind: 'flv' }] }), 'routes[0].mode: is required');
    assert.equal(
      errorOf({ ...minimal, routes: [{ id: 'x', path: 'x', kind: 'flv', mode: 'proxy' }] }),
      'routes[0].path: expected a path prefix that starts and ends with "/", got "x"',
    );
    assert.equal(
      errorOf({ ...minimal, routes: [{ id: 'x', path: '/x/', kind: 'flv', mode: 'redirect', status: 301 }] }),
      'routes[0].status: expected 302 or 307, got 301',
    );
    assert.equal(errorOf([]), 'expected an object, got an array');
  });

  it('checks node URLs, unique ids and node references', () => {
    assert.match(errorOf({ ...minimal, nodes: [{ id: 'a', url: 'ftp://x' }] }), /^nodes\[0\]\.url: expected http:\/\/ or https:\/\//);
    assert.match(errorOf({ ...minimal, nodes: [{ id: 'a', url: 'http://x/?q=1' }] }), /^nodes\[0\]\.url: must not have a query/);
    assert.equal(errorOf({ ...minimal, nodes: [minimal.nodes[0], minimal.nodes[0]] }), 'nodes[1].id: duplicate id "a"');
    assert.equal(errorOf({ ...minimal, routes: [{ ...minimal.routes[0], nodes: ['zz'] }] }), 'routes[0].nodes[0]: no node with id "zz"');
    assert.equal(errorOf({ ...minimal, routes: [minimal.routes[0], { ...minimal.routes[0], id: 'other' }] }), 'routes[1].path: duplicate path "/live/"');
    assert.equal(errorOf({ ...minimal, admin: { port: 8090 } }), 'admin.port: must differ from relay.port (8090)');
    assert.match(errorOf({ ...minimal, fleet: { heartbeatMs: 60_000, expiryMs: 500 } }), /^fleet\.expiryMs: must be more than fleet\.heartbeatMs \(60000\)/);
    assert.match(errorOf({ ...minimal, fleet: { heartbeatMs: 5_000 } }), /^fleet\.expiryMs: /, 'the default expiry (5000 ms) against a slower heartbeat');
  });

  it('bounds lists (every per-route and per-node map is bounded by the config)', () => {
    const nodes = Array.from({ length: 257 }, (_, i) => ({ id: `n${i}`, url: 'http://127.0.0.1:1' }));
    assert.equal(errorOf({ ...minimal, nodes }), 'nodes: must have at most 256 entries');
  });
});
