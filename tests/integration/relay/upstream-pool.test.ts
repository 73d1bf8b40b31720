/**
 * The upstream keep-alive pool follows relay.maxIdleUpstreamSockets: with the default, a
 * proxied request leaves its node connection idle for the next one; with 0, no connection
 * is kept (Node's Agent would read maxFreeSockets 0 as 256, so the relay turns keep-alive off).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request } from '../../helpers/http.js';

async function twoRequests(maxIdleUpstreamSockets: number): Promise<{ origin: TestOrigin; relay: StartedRelay }> {
  const origin = new TestOrigin();
  const url = await origin.start();
  const relay = await startRelay({
    relay: { maxIdleUpstreamSockets },
    nodes: [{ id: 'a', url }],
    routes: [{ id: 'f', path: '/f/', kind: 'file', mode: 'proxy' }],
  });
  assert.equal((await request(`${relay.relayUrl}/f/one`)).status, 200);
  assert.equal((await request(`${relay.relayUrl}/f/two`)).status, 200);
  return { origin, relay };
}

describe('upstream keep-alive pool', () => {
  const started: { origin: TestOrigin; relay: StartedRelay }[] = [];
  after(async () => {
    for (const { origin, relay } of started) {
      await relay.stop();
      await origin.stop();
    }
  });

  it('reuses one idle node connection by default', async () => {
    const run = await twoRequests(64);
    started.push(run);
    assert.equal(run.origin.connectionsOpened, 1);
  });

  it('keeps no idle node connection when relay.maxIdleUpstreamSockets is 0', async () => {
    const run = await twoRequests(0);
    started.push(run);
    assert.equal(run.origin.connectionsOpened, 2);
    await run.origin.waitAllClosed(2_000);
  });
});
