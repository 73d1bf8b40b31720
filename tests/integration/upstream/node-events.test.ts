/** Node status changes are pushed to subscribers (SSE here; IPC uses the same ticker) when they happen. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHttpClient } from '../../../shared/http-client.js';
import type { RelayDeckEvent } from '../../../shared/events.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, TEST_TOKEN } from '../../helpers/relay.js';
import { waitFor } from '../../helpers/http.js';

test('draining and a node going down are pushed as "node" events over SSE', async () => {
  const origin = new TestOrigin();
  const url = await origin.start();
  const relay = await startRelay({ health: { intervalMs: 100, fails: 2, passes: 1 }, nodes: [{ id: 'a', url }] });
  const client = createHttpClient({ baseUrl: relay.adminUrl, token: TEST_TOKEN });
  const events: RelayDeckEvent[] = [];
  const unsubscribe = client.onEvent((event) => events.push(event));
  try {
    await waitFor(() => events.length > 0, 3000, 'the event stream to connect');
    await relay.api.call('PATCH', '/api/nodes/a', { draining: true });
    const draining = await waitFor(() => events.find((e) => e.type === 'node' && e.to === 'draining'), 3000, 'a draining event');
    assert.equal(draining.type === 'node' && draining.reason, 'configuration changed');
    await relay.api.call('PATCH', '/api/nodes/a', { draining: false });
    await waitFor(() => events.find((e) => e.type === 'node' && e.from === 'draining' && e.to === 'up'), 3000, 'back up');
    await origin.stop();
    const down = await waitFor(() => events.find((e) => e.type === 'node' && e.to === 'down'), 3000, 'a node-down event');
    assert.equal(down.type === 'node' && down.nodeId, 'a');
    assert.ok(down.type === 'node' && /check\(s\) failed/.test(down.reason));
    assert.equal(down.type === 'node' && down.node.status, 'down');
  } finally {
    unsubscribe();
    await relay.stop();
  }
});
