/**
 * Health checks through real sockets: a node that stops answering goes down after
 * `fails` checks and comes back after `passes`; proxy failures count against a node and
 * are forgotten after the window; every flip is reported once.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { createLogger } from '../../../electron/engine/core/log.js';
import { UpstreamTransport } from '../../../electron/engine/upstream/transport.js';
import { NodeRegistry, type NodeStatusChange } from '../../../electron/engine/upstream/registry.js';
import { sleep, waitFor } from '../../helpers/http.js';

async function listen(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('node health', () => {
  it('flips down after the configured failed checks and up after the passed ones, with RTT', async () => {
    let server = http.createServer((_req, res) => res.end('ok'));
    const port = await listen(server);
    const config = parseConfig({ health: { intervalMs: 100, timeoutMs: 200, fails: 2, passes: 2 }, nodes: [{ id: 'a', url: `http://127.0.0.1:${port}` }] });
    const registry = new NodeRegistry(createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
    const changes: NodeStatusChange[] = [];
    registry.onStatusChange((c) => changes.push(c));
    registry.sync(config);
    try {
      await waitFor(() => registry.get('a')!.rttMs >= 0, 2000, 'a first passed check');
      assert.equal(registry.get('a')!.status, 'up');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const stoppedAt = Date.now();
      await waitFor(() => registry.get('a')!.status === 'down', 2000, 'the node to go down');
      const tookMs = Date.now() - stoppedAt;
      assert.ok(tookMs >= 100 && tookMs < 1000, `down after ${tookMs} ms (2 checks at 100 ms)`);
      assert.match(registry.get('a')!.lastError, /ECONNREFUSED/);
      server = http.createServer((_req, res) => res.end('ok'));
      await listen(server, port);
      await waitFor(() => registry.get('a')!.status === 'up', 2000, 'the node to come back');
      assert.deepEqual(
        changes.map((c) => `${c.from}>${c.to}`),
        ['up>down', 'down>up'],
      );
    } finally {
      registry.stop();
      server.close();
    }
  });

  it('counts a 5xx answer as a failed check', async () => {
    const server = http.createServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const port = await listen(server);
    const registry = new NodeRegistry(createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
    registry.sync(parseConfig({ health: { intervalMs: 50, fails: 1 }, nodes: [{ id: 'a', url: `http://127.0.0.1:${port}` }] }));
    try {
      await waitFor(() => registry.get('a')!.status === 'down', 2000, 'down on 503');
      assert.equal(registry.get('a')!.lastError, 'HTTP 503');
    } finally {
      registry.stop();
      server.close();
    }
  });

  it('takes a node down on passive failures and forgets them after the window', async () => {
    const registry = new NodeRegistry(createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
    registry.sync(parseConfig({ health: { intervalMs: 0, passiveMaxFails: 3, passiveWindowMs: 400 }, nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }] }));
    try {
      registry.recordFailure('a', 'DIAL');
      registry.recordFailure('a', 'DIAL');
      assert.equal(registry.get('a')!.status, 'up');
      registry.recordFailure('a', 'DIAL');
      assert.equal(registry.get('a')!.status, 'down');
      await sleep(400); // kept: the failure window (400 ms) passing is the input under test
      await waitFor(() => registry.get('a')!.status === 'up', 2000, 'failures to be forgotten');
    } finally {
      registry.stop();
    }
  });

  it('keeps live state across config edits, and shows draining and disabled', () => {
    const registry = new NodeRegistry(createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
    const base = { health: { intervalMs: 0 }, nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }] };
    registry.sync(parseConfig(base));
    registry.get('a')!.rttMs = 12;
    registry.sync(parseConfig({ ...base, nodes: [{ id: 'a', url: 'http://127.0.0.1:9', draining: true }] }));
    assert.equal(registry.get('a')!.status, 'draining');
    assert.equal(registry.get('a')!.rttMs, 12, 'live state kept');
    registry.sync(parseConfig({ ...base, nodes: [{ id: 'a', url: 'http://127.0.0.1:9', enabled: false }] }));
    assert.equal(registry.get('a')!.status, 'disabled');
    registry.sync(parseConfig({ ...base, nodes: [] }));
    assert.equal(registry.all().length, 0, 'removed nodes leave the registry');
    registry.stop();
  });
});
