/**
 * The bounded queue between the relay and a log file: push never waits and never holds more
 * than its bound (the rest is dropped and counted), lines go out in batches with one write in
 * flight, a failed batch counts as dropped, and a batch stuck on a sink that is replaced is
 * given up at once. The sink here is a scripted one the test completes by hand: the queue is
 * the unit under test (the real file is in tests/integration/logs/).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineQueue, MAX_BATCH_LINES, type LineSink } from '../../../electron/engine/logs/line-queue.js';

/** A sink that records each chunk and completes it only when the test says so. */
class HeldSink implements LineSink {
  readonly chunks: string[] = [];
  private readonly pending: ((error?: Error | null) => void)[] = [];
  write(chunk: string, done: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    this.pending.push(done);
  }
  get waiting(): number {
    return this.pending.length;
  }
  complete(error?: Error): void {
    this.pending.shift()?.(error);
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A queue of numbers, one line each, bounded at `maxLines`, writing to `sink` (after `flushDelayMs`, if given). */
function numberQueue(sink: HeldSink, maxLines: number, flushDelayMs?: number): LineQueue<number> {
  const queue = new LineQueue<number>(
    (n) => `${n}\n`,
    () => maxLines,
    undefined,
    flushDelayMs,
  );
  queue.setSink(sink);
  return queue;
}

describe('the log line queue', () => {
  it('never holds more than its bound: with the disk stuck, further lines are dropped and counted, push stays synchronous', async () => {
    const sink = new HeldSink();
    const queue = numberQueue(sink, 100);
    for (let i = 0; i < 10; i += 1) assert.equal(queue.push(i), true);
    await turn();
    assert.equal(sink.waiting, 1, 'one batch in flight');
    const started = performance.now();
    let accepted = 0;
    for (let i = 10; i < 10_000; i += 1) if (queue.push(i)) accepted += 1;
    assert.ok(performance.now() - started < 200, 'pushing 10,000 lines onto a stuck disk does not wait');
    assert.equal(accepted, 90, 'the bound counts the batch in flight');
    assert.equal(queue.queued, 100);
    assert.equal(queue.dropped, 9_900);
    assert.equal(queue.written, 0);
    sink.complete();
    await turn();
    assert.equal(queue.written, 10);
    assert.equal(sink.waiting, 1, 'the next batch went out once the first was written');
    sink.complete();
    await turn();
    assert.equal(queue.written, 100);
    assert.equal(queue.queued, 0);
    assert.equal(sink.chunks.join(''), Array.from({ length: 100 }, (_, i) => `${i}\n`).join(''), 'in order, nothing lost but what was counted');
    assert.equal(queue.written + queue.dropped, 10_000);
  });

  it('reads its bound at each push (a settings change applies at once)', () => {
    let limit = 2;
    const queue = new LineQueue<number>(String, () => limit);
    assert.deepEqual([queue.push(1), queue.push(2), queue.push(3)], [true, true, false]);
    limit = 4;
    assert.deepEqual([queue.push(4), queue.push(5), queue.push(6)], [true, true, false]);
    assert.equal(queue.dropped, 2);
  });

  it('writes in batches of at most MAX_BATCH_LINES, one write in flight', async () => {
    const sink = new HeldSink();
    const queue = numberQueue(sink, 10_000);
    for (let i = 0; i < MAX_BATCH_LINES * 2 + 5; i += 1) queue.push(i);
    await turn();
    assert.equal(sink.chunks.length, 1);
    assert.equal(sink.chunks[0].split('\n').length - 1, MAX_BATCH_LINES);
    sink.complete();
    await turn();
    sink.complete();
    await turn();
    sink.complete();
    await turn();
    assert.deepEqual(
      sink.chunks.map((c) => c.split('\n').length - 1),
      [MAX_BATCH_LINES, MAX_BATCH_LINES, 5],
    );
    assert.equal(queue.written, MAX_BATCH_LINES * 2 + 5);
  });

  it('counts the lines of a failed write as dropped and reports the error once', async () => {
    const sink = new HeldSink();
    const errors: string[] = [];
    const queue = new LineQueue<number>(
      String,
      () => 100,
      (error) => errors.push(error.message),
    );
    queue.setSink(sink);
    queue.push(1);
    queue.push(2);
    await turn();
    sink.complete(new Error('ENOSPC'));
    assert.equal(queue.dropped, 2);
    assert.deepEqual(errors, ['ENOSPC']);
  });

  it('holds lines (within the bound) while there is no sink, and gives up a batch stuck on a sink that is replaced', async () => {
    const stuck = new HeldSink();
    const queue = new LineQueue<number>(
      (n) => `${n}\n`,
      () => 5,
    );
    queue.setSink(stuck);
    queue.push(1);
    await turn();
    queue.setSink(undefined);
    assert.equal(queue.dropped, 1, 'the stuck batch counts as dropped at once');
    for (let i = 2; i <= 8; i += 1) queue.push(i);
    assert.equal(queue.queued, 5);
    assert.equal(queue.dropped, 3);
    const fresh = new HeldSink();
    queue.setSink(fresh);
    await turn();
    fresh.complete();
    stuck.complete(); // its late answer is ignored
    await turn();
    assert.equal(fresh.chunks.join(''), '2\n3\n4\n5\n6\n');
    assert.equal(queue.written, 5);
    assert.equal(queue.dropped, 3);
    assert.equal(await queue.drain(1000), true);
  });

  it('drain gives up after its timeout when the disk never answers', async () => {
    const queue = new LineQueue<number>(String, () => 5);
    queue.setSink(new HeldSink());
    queue.push(1);
    const started = Date.now();
    assert.equal(await queue.drain(150), false);
    assert.ok(Date.now() - started >= 140);
  });

  it('with a flush delay, the lines of the interval go out in one write; a full batch and drain write at once', async () => {
    const sink = new HeldSink();
    const queue = numberQueue(sink, 10_000, 60);
    for (let i = 0; i < 5; i += 1) {
      queue.push(i);
      await turn();
    }
    assert.equal(sink.waiting, 0, 'nothing written before the delay, though five turns passed');
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(sink.chunks, ['0\n1\n2\n3\n4\n'], 'one write for the five lines');
    sink.complete();
    for (let i = 0; i < MAX_BATCH_LINES; i += 1) queue.push(i);
    await turn();
    assert.equal(sink.waiting, 1, 'a full batch goes out on the next turn, not after the delay');
    sink.complete();
    queue.push(1);
    const drained = queue.drain(1_000);
    await turn();
    assert.equal(sink.waiting, 1, 'drain writes what waits at once');
    sink.complete();
    assert.equal(await drained, true);
  });

  it('while draining, each batch goes out once the one before is written, without the flush delay', async () => {
    const sink = new HeldSink();
    const queue = numberQueue(sink, 10_000, 60_000);
    queue.push(1);
    const drained = queue.drain(5_000);
    await turn();
    assert.equal(sink.waiting, 1, 'the waiting line went out at once');
    queue.push(2); // traffic goes on while the file closes
    sink.complete();
    await turn();
    await turn();
    assert.equal(sink.waiting, 1, 'the next batch went out at once, not after the flush delay');
    sink.complete();
    assert.equal(await drained, true);
    assert.deepEqual(sink.chunks, ['1\n', '2\n']);
  });
});
