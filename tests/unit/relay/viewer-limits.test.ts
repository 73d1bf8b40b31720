/**
 * Viewer caps and address keys (relay/viewer-limits.ts): places are taken under the caps,
 * given back once, and the maps empty again; IPv6 clients are counted per network.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { addressKey, LimitRefusal, ViewerCounts } from '../../../electron/engine/relay/viewer-limits.js';

const routeWith = (limits: Record<string, number>) =>
  parseConfig({ nodes: [{ id: 'n', url: 'http://127.0.0.1:1' }], routes: [{ id: 'r', path: '/r/', kind: 'flv', mode: 'proxy', limits }] }).routes[0];

describe('viewer caps', () => {
  it('refuses past maxViewersPerStream per stream, naming the limit; a place given back is free again, once', () => {
    const counts = new ViewerCounts();
    const route = routeWith({ maxViewersPerStream: 2 });
    const a = counts.join(route, 'live/a');
    counts.join(route, 'live/a');
    counts.join(route, 'live/b');
    const refusal = (() => {
      try {
        counts.join(route, 'live/a');
      } catch (error) {
        return error as LimitRefusal;
      }
      return undefined;
    })();
    assert.ok(refusal instanceof LimitRefusal);
    assert.equal(refusal.limit, 'maxViewersPerStream');
    assert.equal(refusal.code, 'VIEWER_LIMIT');
    assert.equal(refusal.status, 503);
    a.leave();
    a.leave();
    assert.equal(counts.ofStream('r', 'live/a'), 1, 'a second leave() gives nothing back');
    counts.join(route, 'live/a');
    assert.equal(counts.ofRoute('r'), 3);
  });

  it('refuses past maxViewers over all streams of the route; 0 is no limit', () => {
    const counts = new ViewerCounts();
    const capped = routeWith({ maxViewers: 1 });
    const place = counts.join(capped, 'live/a');
    assert.throws(
      () => counts.join(capped, 'live/b'),
      (error: LimitRefusal) => error.limit === 'maxViewers',
    );
    place.leave();
    assert.equal(counts.ofRoute('r'), 0);
    const open = routeWith({});
    for (let i = 0; i < 1_000; i += 1) counts.join(open, 'live/a');
    assert.equal(counts.ofStream('r', 'live/a'), 1_000);
  });
});

describe('address keys of relay.maxConnectionsPerAddress', () => {
  it('an IPv4 address is itself, as is an IPv4-mapped IPv6 one', () => {
    assert.equal(addressKey('192.0.2.7', 64), '192.0.2.7');
    assert.equal(addressKey('::ffff:192.0.2.7', 64), '192.0.2.7');
  });
  it('IPv6 addresses of one /64 share a key; another /64 does not; the prefix is a setting', () => {
    assert.equal(addressKey('2001:db8:1:2::1', 64), addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff', 64));
    assert.notEqual(addressKey('2001:db8:1:2::1', 64), addressKey('2001:db8:1:3::1', 64));
    assert.equal(addressKey('2001:db8:1:2::1', 48), addressKey('2001:db8:1:3::1', 48));
    assert.notEqual(addressKey('2001:db8::1', 128), addressKey('2001:db8::2', 128));
  });
});
