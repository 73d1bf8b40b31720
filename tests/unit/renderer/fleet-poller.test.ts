/**
 * The Fleet page's poller (renderer/src/live/fleet-poller.ts): one getFleet per tick at
 * most, none while a call is in flight or the page is hidden, the last answer kept when a
 * call fails, and nothing after the page went away.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../shared/api.js';
import type { FleetDto } from '../../../shared/dto.js';
import { FleetPoller } from '../../../renderer/src/live/fleet-poller.js';

const FLEET = { enabled: false } as FleetDto;

/** A load whose answers the test releases one by one. */
function gatedLoad() {
  const pending: { resolve: (f: FleetDto) => void; reject: (e: unknown) => void }[] = [];
  const load = () => new Promise<FleetDto>((resolve, reject) => pending.push({ resolve, reject }));
  return { load, pending };
}

describe('FleetPoller', () => {
  it('asks once per tick, never while a call is in flight', async () => {
    const { load, pending } = gatedLoad();
    const poller = new FleetPoller({ load, visible: () => true, now: () => 1234 });
    const first = poller.tick();
    void poller.tick();
    void poller.tick();
    assert.equal(poller.calls, 1, 'ticks during a call in flight ask for nothing');
    pending[0].resolve(FLEET);
    await first;
    assert.equal(poller.getView().fleet, FLEET);
    assert.equal(poller.getView().loadedAt, 1234);
    const second = poller.tick();
    assert.equal(poller.calls, 2);
    pending[1].resolve(FLEET);
    await second;
  });

  it('asks for nothing while the page is hidden', async () => {
    let visible = false;
    let calls = 0;
    const poller = new FleetPoller({ load: async () => (calls++, FLEET), visible: () => visible });
    await poller.tick();
    await poller.tick();
    assert.equal(calls, 0);
    visible = true;
    await poller.tick();
    assert.equal(calls, 1);
  });

  it('keeps the last answer when a call fails, and clears the error on the next answer', async () => {
    let fail = false;
    const poller = new FleetPoller({
      load: async () => {
        if (fail) throw new ApiError('FLEET_UNAVAILABLE', 'redis is away', 503);
        return FLEET;
      },
      visible: () => true,
    });
    await poller.tick();
    fail = true;
    let told = 0;
    poller.subscribe(() => told++);
    await poller.tick();
    assert.equal(poller.getView().fleet, FLEET);
    assert.equal(poller.getView().error?.code, 'FLEET_UNAVAILABLE');
    assert.equal(told, 1, 'subscribers told of the failure');
    fail = false;
    await poller.tick();
    assert.equal(poller.getView().error, undefined);
  });

  it('drops an answer that arrives after stop, asks no more until started again', async () => {
    const { load, pending } = gatedLoad();
    const poller = new FleetPoller({ load, visible: () => true });
    const tick = poller.tick();
    poller.stop();
    pending[0].resolve(FLEET);
    await tick;
    assert.equal(poller.getView().fleet, undefined);
    await poller.tick();
    assert.equal(poller.calls, 1);
    poller.start();
    const again = poller.tick();
    assert.equal(poller.calls, 2, 'asks again once started again');
    pending[1].resolve(FLEET);
    await again;
    assert.equal(poller.getView().fleet, FLEET);
  });
});
