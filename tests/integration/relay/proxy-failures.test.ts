/**
 * Upstream failures, for both proxy engines: each ends that request with the right status
 * and JSON error (or an aborted body once streaming), and the relay keeps serving.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RawOrigin } from '../../helpers/raw-origin.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request, waitFor } from '../../helpers/http.js';

const BLACK_HOLE = fileURLToPath(new URL('../../fixtures/black-hole.py', import.meta.url));

async function startBlackHole(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn('python3', [BLACK_HOLE, '60'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('error', reject);
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function errorCode(body: Buffer): string {
  return JSON.parse(body.toString()).error.code;
}

/** Read a streamed response until it ends or aborts; reports whether it completed. */
function readStream(url: string): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('error', () => {});
        res.on('close', () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
      })
      .on('error', reject);
  });
}

for (const proxyEngine of ['native', 'http-proxy-3'] as const) {
  describe(`upstream failures (${proxyEngine})`, () => {
    const good = new TestOrigin();
    const raw = new RawOrigin();
    let hole: { child: ChildProcess; url: string };
    let relay: StartedRelay;
    before(async () => {
      const goodUrl = await good.start();
      const rawUrl = await raw.start();
      hole = await startBlackHole();
      relay = await startRelay({
        relay: { proxyEngine, connectTimeoutMs: 300, headerTimeoutMs: 300, idleStreamTimeoutMs: 400 },
        health: { intervalMs: 0, passiveMaxFails: 0 }, // every failure here is on purpose: keep the nodes usable
        nodes: [
          { id: 'good', url: goodUrl },
          { id: 'raw', url: rawUrl },
          { id: 'closed', url: 'http://127.0.0.1:1' },
          { id: 'hole', url: hole.url },
        ],
        routes: [
          { id: 'good', path: '/good/', kind: 'file', mode: 'proxy', nodes: ['good'] },
          { id: 'raw', path: '/raw/', kind: 'flv', mode: 'proxy', nodes: ['raw'], fanout: false },
          { id: 'closed', path: '/closed/', kind: 'file', mode: 'proxy', nodes: ['closed'] },
          { id: 'hole', path: '/hole/', kind: 'file', mode: 'proxy', nodes: ['hole'] },
        ],
      });
    });
    after(async () => {
      await relay.stop();
      await good.stop();
      await raw.stop();
      hole.child.kill('SIGKILL');
    });

    const stillServing = async () => {
      const answer = await request(`${relay.relayUrl}/good/x`);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.toString(), 'ok');
    };

    it('answers 502 DIAL when the node refuses the connection', async () => {
      const answer = await request(`${relay.relayUrl}/closed/a.ts`);
      assert.equal(answer.status, 502);
      assert.equal(errorCode(answer.body), 'DIAL');
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
      await stillServing();
    });

    it('answers 502 DIAL when the connect times out', async () => {
      const started = Date.now();
      const answer = await request(`${relay.relayUrl}/hole/a.ts`);
      assert.equal(answer.status, 502);
      assert.equal(errorCode(answer.body), 'DIAL');
      assert.match(JSON.parse(answer.body.toString()).error.message, /timed out after 300 ms/);
      assert.ok(Date.now() - started < 5000);
      await stillServing();
    });

    it('answers 504 UPSTREAM_TIMEOUT when the node accepts and never answers', async () => {
      raw.onRequest = () => {};
      const answer = await request(`${relay.relayUrl}/raw/never.flv`);
      assert.equal(answer.status, 504);
      assert.equal(errorCode(answer.body), 'UPSTREAM_TIMEOUT');
      await waitFor(() => raw.sockets.size === 0, 1000, 'the relay to close its connection to the silent node');
      await stillServing();
    });

    it('answers 502 UPSTREAM_PROTOCOL when the node sends garbage instead of HTTP', async () => {
      raw.onRequest = (socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n\x00\x01\x02garbage\r\n\r\n');
      const answer = await request(`${relay.relayUrl}/raw/garbage.flv`);
      assert.equal(answer.status, 502);
      assert.equal(errorCode(answer.body), 'UPSTREAM_PROTOCOL');
      await stillServing();
    });

    it('answers 502 UPSTREAM_PROTOCOL when the node sends endless headers', async () => {
      raw.onRequest = (socket) => {
        socket.write('HTTP/1.1 200 OK\r\n');
        const timer = setInterval(() => {
          if (socket.destroyed) clearInterval(timer);
          else socket.write(`X-Filler-${Math.random()}: ${'a'.repeat(1000)}\r\n`);
        }, 1);
        socket.on('close', () => clearInterval(timer));
      };
      const answer = await request(`${relay.relayUrl}/raw/endless.flv`);
      assert.equal(answer.status, 502);
      assert.equal(errorCode(answer.body), 'UPSTREAM_PROTOCOL');
      await stillServing();
    });

    it('aborts the viewer response when the node resets mid-body, and counts it', async () => {
      raw.onRequest = (socket) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n');
        socket.write('9\r\nFLV\x01\x05\x00\x00\x00\x09\r\n');
        setTimeout(() => socket.resetAndDestroy(), 50);
      };
      const result = await readStream(`${relay.relayUrl}/raw/reset.flv`);
      assert.equal(result.status, 200);
      assert.equal(result.bytes, 9);
      assert.equal(result.complete, false, 'the viewer sees an aborted body, not a clean end');
      await waitFor(() => relay.engine.stats.snapshot().routes.raw.errors.UPSTREAM_RESET >= 1, 1000, 'UPSTREAM_RESET counted');
      await stillServing();
    });

    it('ends a stalled stream after the idle-stream timeout', async () => {
      raw.onRequest = (socket) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
      };
      const started = Date.now();
      const result = await readStream(`${relay.relayUrl}/raw/stall.flv`);
      assert.equal(result.bytes, 3);
      assert.equal(result.complete, false);
      assert.ok(Date.now() - started >= 350, 'not before the idle timeout');
      await waitFor(() => relay.engine.stats.snapshot().routes.raw.errors.IDLE_TIMEOUT >= 1, 1000, 'IDLE_TIMEOUT counted');
      await waitFor(() => raw.sockets.size === 0, 1000, 'the stalled upstream connection to close');
      await stillServing();
    });

    it('keeps a slow but flowing stream open past the idle timeout (no total timeout)', async () => {
      raw.onRequest = (socket) => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nTransfer-Encoding: chunked\r\n\r\n');
        let n = 0;
        const timer = setInterval(() => {
          n += 1;
          if (n > 8) {
            clearInterval(timer);
            socket.end('0\r\n\r\n');
          } else socket.write('1\r\nx\r\n');
        }, 150);
        socket.on('close', () => clearInterval(timer));
      };
      const result = await readStream(`${relay.relayUrl}/raw/slow.flv`);
      assert.equal(result.bytes, 8);
      assert.equal(result.complete, true);
    });
  });
}
