/**
 * When the disk is slower than the traffic the relay drops log lines and counts them; it never
 * buffers without bound and never makes a viewer wait. Two real cases:
 *
 * - a queue bound of 1 line under a burst of concurrent requests: whatever cannot wait is
 *   dropped, written + dropped is every request, and the file holds exactly the lines written;
 * - a stalled disk: every thread of libuv's pool (where Node runs file writes) is held by an
 *   open() of a FIFO that no process reads, so no file write can finish, as with a hung NFS
 *   mount. (rotating-file-stream refuses to write into a FIFO itself: it is not a regular
 *   file.) Meanwhile viewers are served at once, the queue stays at its bound, the rest is
 *   counted as dropped; once the FIFOs get a reader the writes go on.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, promises as fs, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestOrigin } from '../../helpers/origin.js';
import { request, waitFor } from '../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

/** Threads in libuv's pool (UV_THREADPOOL_SIZE, 4 unless set). */
const POOL_THREADS = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
const QUEUE_LINES = 50;

/** `count` GETs, `concurrency` at a time over keep-alive; the time each took, ms. */
async function burst(url: (i: number) => string, count: number, concurrency: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const started = performance.now();
      await new Promise<void>((resolve, reject) =>
        http
          .get(url(i), { agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject),
      );
      times.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return times.sort((a, b) => a - b);
}

const lineCount = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).length;

describe('a disk slower than the traffic', { timeout: 60_000 }, () => {
  const origin = new TestOrigin();
  const home = mkdtempSync(path.join(os.tmpdir(), 'relaydeck-slow-disk-'));
  let relay: StartedRelay;

  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      logs: { dir: path.join(home, 'logs'), access: { queueLines: 1 }, sessions: { enabled: false } },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'away', path: '/away/', kind: 'file', mode: 'redirect' }],
    });
  });
  after(async () => {
    await relay?.stop();
    await origin.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('drops and counts what does not fit a queue of one line; the file holds exactly what was written', async () => {
    const requests = 2_000;
    await burst((i) => `${relay.relayUrl}/away/burst-${i}.png`, requests, 50);
    const access = relay.engine.logs.status().access;
    await waitFor(() => relay.engine.logs.status().access.queued === 0, 5000, 'the queue to empty');
    const done = relay.engine.logs.status().access;
    assert.ok(done.dropped > 0, `${done.dropped} dropped (${access.written} written during the burst)`);
    assert.equal(done.written + done.dropped, requests, 'every request written or counted');
    assert.equal(lineCount(path.join(home, 'logs', 'access.log')), done.written);
    console.log(`# slow disk: queue of 1 line, ${requests} redirects at 50 concurrent: ${done.written} written, ${done.dropped} dropped`);
  });

  it('with the disk stalled, viewers are served at once, the queue stays at its bound and the rest is counted; writing resumes after', async () => {
    await relay.api.call('PATCH', '/api/settings', { logs: { access: { queueLines: QUEUE_LINES } } });
    const file = path.join(home, 'logs', 'access.log');
    const before = relay.engine.logs.status().access;
    const baseline = await burst((i) => `${relay.relayUrl}/away/warm-${i}.png`, 200, 10);
    await waitFor(() => relay.engine.logs.status().access.queued === 0, 5000, 'the warm-up lines written');

    // Stall the disk: each open() of a FIFO without a reader holds one pool thread until one comes.
    const fifos = Array.from({ length: POOL_THREADS }, (_, i) => path.join(home, `stall-${i}.fifo`));
    for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
    const held = fifos.map((fifo) => fs.open(fifo, 'w'));
    try {
      const writtenAtStall = relay.engine.logs.status().access.written;
      const requests = 1_000;
      const stalled = await burst((i) => `${relay.relayUrl}/away/stalled-${i}.png`, requests, 10);
      const during = relay.engine.logs.status().access;
      assert.ok(during.written - writtenAtStall <= QUEUE_LINES, `at most one queue of lines got out (${during.written - writtenAtStall})`);
      assert.equal(during.queued, QUEUE_LINES, 'the queue is full, not larger');
      assert.ok(during.dropped - before.dropped >= requests - QUEUE_LINES * 2, `${during.dropped - before.dropped} dropped`);
      const p = (times: number[], q: number) => times[Math.min(times.length - 1, Math.floor(times.length * q))];
      console.log(
        `# slow disk: stalled; ${requests} redirects answered in p50 ${p(stalled, 0.5).toFixed(2)} ms, p99 ${p(stalled, 0.99).toFixed(2)} ms ` +
          `(before the stall: p50 ${p(baseline, 0.5).toFixed(2)}, p99 ${p(baseline, 0.99).toFixed(2)}); ${during.dropped - before.dropped} lines dropped`,
      );
      assert.ok(p(stalled, 0.99) < 100, `viewers never wait for the disk: p99 ${p(stalled, 0.99).toFixed(1)} ms`);
      assert.equal((await request(`${relay.relayUrl}/away/one-more.png`)).status, 302);
    } finally {
      // A reader for each FIFO (non-blocking, on this thread): the held opens finish and the pool is free again.
      const readers = fifos.map((fifo) => openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
      for (const handle of await Promise.all(held)) await handle.close();
      readers.forEach((fd) => closeSync(fd));
    }
    await waitFor(() => relay.engine.logs.status().access.queued === 0, 5000, 'the queued lines written once the disk is back');
    const resumed = relay.engine.logs.status().access;
    assert.equal(lineCount(file), resumed.written, 'the file holds every line counted as written');
    assert.equal(resumed.errors, 0, 'a slow disk is not an error');
    await request(`${relay.relayUrl}/away/after.png`);
    await waitFor(() => relay.engine.logs.status().access.written === resumed.written + 1, 5000, 'a new line written');
  });
});
