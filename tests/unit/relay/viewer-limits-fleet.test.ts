/**
 * The relay's side of fleet-wide caps (relay/viewer-limits.ts ViewerCounts.admit over the
 * FleetViewerCaps interface): a capped route asks the fleet, an uncapped one never does; the
 * fleet's refusal names the cap; when the fleet cannot answer the relay's own count decides
 * and the fleet is told; a place given back is given back to the fleet once. The fleet side
 * against a real Redis is tested in tests/integration/fleet/presence*.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { LimitRefusal, ViewerCounts, type FleetCapAnswer, type FleetViewerCaps } from '../../../electron/engine/relay/viewer-limits.js';

const routeWith = (limits: Record<string, number>) =>
  parseConfig({ nodes: [{ id: 'n', url: 'http://127.0.0.1:1' }], routes: [{ id: 'r', path: '/r/', kind: 'flv', mode: 'proxy', limits }] }).routes[0];

/** A fleet that answers what the test says, and records what it was told. */
class ScriptedFleet implements FleetViewerCaps {
  answer: FleetCapAnswer = { kind: 'admitted' };
  readonly calls: string[] = [];
  async join(routeId: string, streamKey: string, maxViewers: number, maxViewersPerStream: number): Promise<FleetCapAnswer> {
    this.calls.push(`join ${routeId} ${streamKey} ${maxViewers} ${maxViewersPerStream}`);
    return this.answer;
  }
  joinedLocally(routeId: string, streamKey: string): void {
    this.calls.push(`local ${routeId} ${streamKey}`);
  }
  leave(routeId: string, streamKey: string): void {
    this.calls.push(`leave ${routeId} ${streamKey}`);
  }
}

describe('fleet-wide caps, relay side', () => {
  it('a route without caps is answered at once, without the fleet', () => {
    const counts = new ViewerCounts();
    const fleet = new ScriptedFleet();
    counts.fleet = fleet;
    const place = counts.admit(routeWith({}), 'live/a');
    assert.ok(!(place instanceof Promise));
    assert.deepEqual(fleet.calls, []);
  });

  it('admitted by the fleet: counted here without a local check, given back to the fleet once', async () => {
    const counts = new ViewerCounts();
    const fleet = new ScriptedFleet();
    counts.fleet = fleet;
    const route = routeWith({ maxViewersPerStream: 1 });
    const first = await counts.admit(route, 'live/a');
    const second = await counts.admit(route, 'live/a');
    assert.equal(counts.ofStream('r', 'live/a'), 2, 'the fleet decided (its sum includes this relay)');
    first.leave();
    first.leave();
    second.leave();
    assert.equal(counts.ofStream('r', 'live/a'), 0);
    assert.deepEqual(fleet.calls, ['join r live/a 0 1', 'join r live/a 0 1', 'leave r live/a', 'leave r live/a']);
  });

  it('refused by the fleet: a LimitRefusal naming the cap and the fleet; nothing counted', async () => {
    const counts = new ViewerCounts();
    const fleet = new ScriptedFleet();
    counts.fleet = fleet;
    fleet.answer = { kind: 'refused', limit: 'maxViewers', viewers: 3 };
    await assert.rejects(
      async () => counts.admit(routeWith({ maxViewers: 3 }), 'live/a'),
      (error: unknown) =>
        error instanceof LimitRefusal &&
        error.limit === 'maxViewers' &&
        error.code === 'VIEWER_LIMIT' &&
        /maxViewers \(3\) viewers across the fleet/.test(error.message),
    );
    assert.equal(counts.ofRoute('r'), 0);
  });

  it('the fleet cannot answer: the local count decides, and the fleet is told of each viewer it admitted', async () => {
    const counts = new ViewerCounts();
    const fleet = new ScriptedFleet();
    counts.fleet = fleet;
    fleet.answer = { kind: 'unavailable', reason: 'Redis away' };
    const route = routeWith({ maxViewersPerStream: 1 });
    const place = await counts.admit(route, 'live/a');
    await assert.rejects(
      async () => counts.admit(route, 'live/a'),
      (error: unknown) => error instanceof LimitRefusal && !/across the fleet/.test(error.message),
    );
    place.leave();
    assert.deepEqual(fleet.calls, ['join r live/a 0 1', 'local r live/a', 'join r live/a 0 1', 'leave r live/a']);
  });
});
