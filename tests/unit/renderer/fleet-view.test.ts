/**
 * The Fleet page's pure part (renderer/src/pages/fleet-view.ts): "last seen" as the operator
 * reads it, load figures, state tones, what the config source and a Redis outage mean, a
 * relay serving another config version, a stream's viewers per relay, and the relays' order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FleetDto, FleetRelayDto } from '../../../shared/dto.js';
import {
  configBehind,
  configSourceText,
  fleetWarning,
  formatAgo,
  formatCpu,
  formatMbps,
  orderRelays,
  stateTone,
  streamRelayLines,
} from '../../../renderer/src/pages/fleet-view.js';

function relay(id: string, extra: Partial<FleetRelayDto> = {}): FleetRelayDto {
  return {
    id,
    url: `http://${id}:8091`,
    self: false,
    state: 'up',
    lastSeenAt: 0,
    startedAt: 0,
    version: '0.1.0',
    configVersion: 3,
    viewers: 0,
    streams: 0,
    mbpsIn: 0,
    mbpsOut: 0,
    cpuPercent: 0,
    ...extra,
  };
}

function fleet(extra: Partial<FleetDto> = {}): FleetDto {
  return {
    enabled: true,
    name: 'eu',
    relayId: 'a',
    redis: { state: 'up', lastError: '' },
    configVersion: 3,
    configSource: 'fleet',
    relays: [],
    streams: [],
    totals: { relays: 0, viewers: 0, streams: 0, mbpsIn: 0, mbpsOut: 0 },
    ...extra,
  };
}

describe('Fleet page helpers', () => {
  it('says how long ago a relay was heard from', () => {
    assert.equal(formatAgo(0), 'now');
    assert.equal(formatAgo(999), 'now');
    assert.equal(formatAgo(-4_000), 'now', 'a relay clock ahead of ours');
    assert.equal(formatAgo(Number.NaN), 'now');
    assert.equal(formatAgo(3_400), '3 s ago');
    assert.equal(formatAgo(59_999), '59 s ago');
    assert.equal(formatAgo(60_000), '1 min ago');
    assert.equal(formatAgo(59 * 60_000 + 59_000), '59 min ago');
    assert.equal(formatAgo(2 * 3_600_000 + 5), '2 h ago');
  });

  it('formats load figures', () => {
    assert.equal(formatMbps(0), '0.00');
    assert.equal(formatMbps(3.456), '3.46');
    assert.equal(formatMbps(123.45), '123.5');
    assert.equal(formatCpu(0.42), '0.4 %');
    assert.equal(formatCpu(12.6), '13 %');
    assert.equal(formatCpu(Number.NaN), '—');
  });

  it('gives up a good tone, gone and down a bad one, connecting a warning', () => {
    assert.equal(stateTone('up'), 'good');
    assert.equal(stateTone('gone'), 'bad');
    assert.equal(stateTone('down'), 'bad');
    assert.equal(stateTone('connecting'), 'warn');
  });

  it('names every config source', () => {
    assert.match(configSourceText('fleet'), /shared config in Redis/);
    assert.match(configSourceText('last-good'), /last good copy on disk/);
    assert.match(configSourceText('local'), /local config file/);
  });

  it('warns that changes are refused while Redis is away or the config is the last good copy', () => {
    assert.equal(fleetWarning(fleet()), undefined);
    assert.equal(fleetWarning({ ...fleet(), enabled: false, redis: { state: 'down', lastError: '' } }), undefined, 'alone: no warning');
    assert.match(fleetWarning(fleet({ configSource: 'last-good' })) ?? '', /last good copy .* refused until Redis returns/);
    assert.match(fleetWarning(fleet({ redis: { state: 'down', lastError: 'ECONNREFUSED' } })) ?? '', /Redis is away.*refused until Redis returns/);
    assert.equal(fleetWarning(fleet({ redis: { state: 'connecting', lastError: '' } })), undefined);
  });

  it('flags a live relay that serves another config version, not a gone one', () => {
    assert.equal(configBehind(relay('b', { configVersion: 3 }), 3), false);
    assert.equal(configBehind(relay('b', { configVersion: 2 }), 3), true);
    assert.equal(configBehind(relay('b', { configVersion: 2, state: 'gone' }), 3), false);
  });

  it("lists a stream's viewers per relay, most first, with the node", () => {
    const lines = streamRelayLines({
      routeId: 'live',
      streamKey: 'cam1',
      viewers: 9,
      relays: [
        { relayId: 'b', viewers: 2, nodeId: 'n2' },
        { relayId: 'a', viewers: 7, nodeId: 'n1' },
        { relayId: 'c', viewers: 2, nodeId: '' },
      ],
    });
    assert.deepEqual(lines, ['a 7 via n1', 'b 2 via n2', 'c 2 via —']);
  });

  it('orders the relays: this one, then up, then gone, by id with numbers in order', () => {
    const ordered = orderRelays([relay('r10'), relay('gone1', { state: 'gone' }), relay('r2'), relay('me', { self: true })]);
    assert.deepEqual(
      ordered.map((r) => r.id),
      ['me', 'r2', 'r10', 'gone1'],
    );
  });
});
