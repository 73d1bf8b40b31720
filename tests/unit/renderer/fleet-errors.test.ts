/**
 * Fleet refusals in the UI (renderer/src/fleet-errors.ts): the operator's words for 409
 * CONFIG_CONFLICT and 503 FLEET_UNAVAILABLE, and the client wrapper that reloads the lists
 * after a conflict: the refusal still reaches the caller, other errors reload nothing, and
 * conflicts arriving together cost one reload plus at most one more.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_CALL_NAMES, ApiError, type RelayDeckClient } from '../../../shared/api.js';
import { fleetRefusalText, isConfigConflict, reloadOnConflict } from '../../../renderer/src/fleet-errors.js';

const conflict = () => new ApiError('CONFIG_CONFLICT', 'shared config is at version 8, not 7', 409);

/** A client whose every call rejects with what `answer` gives, or resolves with the call's name. */
function client(answer: (name: string) => Error | undefined): RelayDeckClient {
  const api: Record<string, unknown> = { onEvent: () => () => undefined };
  for (const name of API_CALL_NAMES) {
    api[name] = async () => {
      const error = answer(name);
      if (error) throw error;
      return name;
    };
  }
  return api as unknown as RelayDeckClient;
}

describe('fleet refusals', () => {
  it('says what a conflict and an unreachable Redis mean, nothing for other errors', () => {
    assert.match(fleetRefusalText(conflict()) ?? '', /Changed on another relay.*reloaded, try again/);
    assert.match(fleetRefusalText({ code: 'FLEET_UNAVAILABLE' }) ?? '', /Redis is away: changes are refused until it returns/);
    assert.equal(fleetRefusalText({ code: 'VALIDATION' }), undefined);
    assert.equal(isConfigConflict(conflict()), true);
    assert.equal(isConfigConflict(new Error('x')), false);
    assert.equal(isConfigConflict(undefined), false);
  });

  it('reloads after a conflict and still refuses the call', async () => {
    let reloads = 0;
    const api = reloadOnConflict(
      client((name) => (name === 'updateRoute' ? conflict() : undefined)),
      async () => void reloads++,
    );
    await assert.rejects(api.updateRoute({ id: 'r', body: {} }), (e: ApiError) => e.code === 'CONFIG_CONFLICT');
    await new Promise((r) => setImmediate(r));
    assert.equal(reloads, 1);
    assert.equal(await api.listRoutes({}), 'listRoutes' as unknown, 'other calls pass through');
  });

  it('reloads nothing for other refusals', async () => {
    let reloads = 0;
    const api = reloadOnConflict(
      client(() => new ApiError('FLEET_UNAVAILABLE', 'redis away', 503)),
      async () => void reloads++,
    );
    await assert.rejects(api.deleteNode({ id: 'n' }));
    await new Promise((r) => setImmediate(r));
    assert.equal(reloads, 0);
  });

  it('coalesces conflicts that arrive while a reload runs', async () => {
    let reloads = 0;
    let release: () => void = () => undefined;
    const api = reloadOnConflict(
      client(() => conflict()),
      () => {
        reloads += 1;
        return new Promise<void>((resolve) => (release = resolve));
      },
    );
    await Promise.allSettled([1, 2, 3, 4].map(() => api.updateNode({ id: 'n', body: {} })));
    assert.equal(reloads, 1, 'one reload in flight');
    release();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(reloads, 2, 'one more after it for the conflicts it did not see');
    release();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(reloads, 2);
  });
});
