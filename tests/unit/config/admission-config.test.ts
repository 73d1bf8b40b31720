/**
 * The admission settings validate strictly and name the field: routes[].auth.webhook,
 * routes[].limits, relay.maxConnectionsPerAddress and the webhooks section.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';

const NODES = [{ id: 'n', url: 'http://127.0.0.1:1' }];
const withRoute = (extra: Record<string, unknown>) => ({ nodes: NODES, routes: [{ id: 'r', path: '/r/', kind: 'flv', mode: 'proxy', ...extra }] });

function messageOf(config: unknown): string {
  try {
    parseConfig(config);
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
}

describe('admission settings', () => {
  it('fills the defaults: no webhook, no limits, no address cap, verified webhook TLS', () => {
    const config = parseConfig(withRoute({ auth: { webhook: { url: 'https://auth.example.com/play' } } }));
    const route = config.routes[0];
    assert.deepEqual(route.limits, { maxViewers: 0, maxViewersPerStream: 0, viewerBytesPerSecond: 0 });
    assert.deepEqual(route.auth?.webhook, {
      url: 'https://auth.example.com/play',
      onError: 'deny',
      timeoutMs: 2_000,
      cacheMs: 30_000,
      headers: [],
      maxConcurrent: 16,
      maxQueue: 1_000,
    });
    assert.equal(config.relay.maxConnectionsPerAddress, 0);
    assert.equal(config.relay.addressLimitIpv6Prefix, 64);
    assert.deepEqual(config.webhooks, { cacheEntries: 10_000, stopQueue: 10_000, stopRetries: 5, verifyTls: true });
  });

  it('names the field of each bad value', () => {
    const cases: [unknown, RegExp][] = [
      [withRoute({ auth: { webhook: {} } }), /^routes\[0\]\.auth\.webhook\.url: is required/],
      [withRoute({ auth: { webhook: { url: 'ftp://x/y' } } }), /^routes\[0\]\.auth\.webhook\.url: /],
      [withRoute({ auth: { webhook: { url: 'http://x/y#frag' } } }), /^routes\[0\]\.auth\.webhook\.url: /],
      [withRoute({ auth: { webhook: { url: 'http://x/y', onError: 'maybe' } } }), /^routes\[0\]\.auth\.webhook\.onError: /],
      [withRoute({ auth: { webhook: { url: 'http://x/y', headers: ['Cookie'] } } }), /^routes\[0\]\.auth\.webhook\.headers\[0\]: /],
      [withRoute({ auth: { webhook: { url: 'http://x/y', timeoutMs: 50 } } }), /^routes\[0\]\.auth\.webhook\.timeoutMs: /],
      [withRoute({ auth: { webhook: { url: 'http://x/y', token: 'short' } } }), /^routes\[0\]\.auth\.webhook\.token: /],
      [withRoute({ auth: { webhook: { url: 'http://x/y', stopUrl: 'nope' } } }), /^routes\[0\]\.auth\.webhook\.stopUrl: /],
      [withRoute({ auth: { webhook: { url: 'http://x/y', extra: 1 } } }), /^routes\[0\]\.auth\.webhook\.extra: unknown key/],
      [withRoute({ limits: { maxViewers: -1 } }), /^routes\[0\]\.limits\.maxViewers: /],
      [withRoute({ limits: { maxViewersPerStream: 1.5 } }), /^routes\[0\]\.limits\.maxViewersPerStream: /],
      [withRoute({ limits: { perViewer: 1 } }), /^routes\[0\]\.limits\.perViewer: unknown key/],
      [{ relay: { maxConnectionsPerAddress: -1 } }, /^relay\.maxConnectionsPerAddress: /],
      [{ relay: { addressLimitIpv6Prefix: 0 } }, /^relay\.addressLimitIpv6Prefix: /],
      [{ webhooks: { stopRetries: 99 } }, /^webhooks\.stopRetries: /],
    ];
    for (const [config, expected] of cases) assert.match(messageOf(config), expected);
  });
});
