/**
 * Per-viewer pacing (relay/pacing.ts) without sockets: the token bucket's arithmetic on a
 * fake clock, the pacer's one timer, the paced pipe's backpressure on the node's body (mock
 * timers), and the upstream clocks not counting a pacing wait as the node's silence or as a
 * stalled viewer.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import type { RelayError } from '../../../electron/engine/core/errors.js';
import { MIN_SLICE_BYTES, PacedPipe, Pacer, TokenBucket } from '../../../electron/engine/relay/pacing.js';
import { UpstreamTransport, type ReaderHold } from '../../../electron/engine/upstream/transport.js';
import { FakeBase, settle } from '../upstream/fake-http.js';

describe('token bucket', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000));

  it('starts full with one second of bytes and never holds more', () => {
    const bucket = new TokenBucket(1_000, clock);
    assert.equal(bucket.available(), 1_000);
    now += 60_000;
    assert.equal(bucket.available(), 1_000, 'a minute idle still holds one second');
  });

  it('gives at most what it holds, then refills at its rate', () => {
    const bucket = new TokenBucket(1_000, clock);
    assert.equal(bucket.take(600, 1), 600);
    assert.equal(bucket.take(600, 1), 400, 'only what is left');
    assert.equal(bucket.take(600, 1), 0, 'empty');
    now += 250;
    assert.equal(bucket.available(), 250, 'a quarter second refills a quarter of the rate');
    now += 5_000;
    assert.equal(bucket.available(), 1_000, 'capped at one second');
  });

  it('gives nothing below the least asked for, and says how long until it holds it', () => {
    const bucket = new TokenBucket(1_000, clock);
    bucket.take(1_000, 1);
    now += 100;
    assert.equal(bucket.take(500, 200), 0, '100 held, 200 needed');
    assert.equal(bucket.msUntil(200), 100);
    now += 100;
    assert.equal(bucket.msUntil(200), 0);
    assert.equal(bucket.take(500, 200), 200);
  });

  it('refuses a rate of 0 (an unpaced route builds no bucket)', () => {
    assert.throws(() => new TokenBucket(0, clock), RangeError);
  });
});

describe('pacer', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('grants what the bucket holds, then waits with one timer and wakes once when a slice may go', () => {
    let wakes = 0;
    const pacer = new Pacer(
      100_000,
      () => (wakes += 1),
      () => Date.now(),
    );
    assert.equal(pacer.grant(60_000), 60_000);
    assert.equal(pacer.grant(60_000), 40_000);
    assert.equal(pacer.grant(60_000), 0);
    assert.equal(pacer.waiting, true);
    assert.equal(pacer.grant(60_000), 0, 'still waiting: no second timer');
    const waitMs = Math.ceil((MIN_SLICE_BYTES * 1_000) / 100_000);
    mock.timers.tick(waitMs - 1);
    assert.equal(wakes, 0);
    mock.timers.tick(1);
    assert.equal(wakes, 1, 'one wake for both refusals');
    assert.equal(pacer.waiting, false);
    assert.equal(pacer.grant(60_000), Math.floor((waitMs * 100_000) / 1_000), 'the slice that accrued');
  });

  it('keeps any window within its rate plus one second of bytes, and sends everything', () => {
    const rate = 200_000;
    const total = 1_000_000;
    let sent = 0;
    const started = Date.now();
    const log: [number, number][] = [];
    const pacer = new Pacer(
      rate,
      () => pump(),
      () => Date.now(),
    );
    const pump = () => {
      while (sent < total) {
        const granted = pacer.grant(Math.min(65_536, total - sent));
        if (granted === 0) return;
        sent += granted;
        log.push([Date.now() - started, sent]);
      }
    };
    pump();
    for (let i = 0; i < 10_000 && sent < total; i += 1) mock.timers.tick(1);
    assert.equal(sent, total);
    for (const [at, upTo] of log) assert.ok(upTo <= rate + (rate * at) / 1_000, `${upTo} bytes by ${at} ms`);
    assert.ok(log.at(-1)![0] >= ((total - rate) * 1_000) / rate, `the last byte at ${log.at(-1)![0]} ms`);
  });

  it('sets no timer for nothing to write', () => {
    const pacer = new Pacer(
      1_000,
      () => assert.fail('no wake expected'),
      () => Date.now(),
    );
    pacer.grant(1_000);
    assert.equal(pacer.grant(0), 0);
    assert.equal(pacer.waiting, false);
  });

  it('wakes no one once stopped', () => {
    let wakes = 0;
    const pacer = new Pacer(
      1_000,
      () => (wakes += 1),
      () => Date.now(),
    );
    pacer.grant(5_000);
    assert.equal(pacer.grant(5_000), 0);
    pacer.stop();
    mock.timers.tick(10_000);
    assert.equal(wakes, 0);
    assert.equal(pacer.waiting, false);
  });
});

/** A viewer's response: keeps what is written; `full` makes write() say the socket is full. */
class FakeResponse extends EventEmitter {
  readonly chunks: Buffer[] = [];
  full = false;
  ended = false;
  destroyed = false;
  write(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    return !this.full;
  }
  end(callback?: () => void): void {
    this.ended = true;
    callback?.();
  }
  get bytes(): number {
    return this.chunks.reduce((sum, c) => sum + c.length, 0);
  }
}

describe('paced pipe', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  function pipe(rate: number) {
    const body = new PassThrough({ highWaterMark: 65_536 });
    const res = new FakeResponse();
    const seen = { written: 0, resumed: 0, ended: 0 };
    const paced = new PacedPipe(
      body,
      res,
      rate,
      {
        written: (n) => (seen.written += n),
        resumed: () => (seen.resumed += 1),
        ended: () => (seen.ended += 1),
      },
      () => Date.now(),
    );
    return { body, res, seen, paced };
  }

  it('writes one second of bytes at once, holds the node back while it waits, and delivers every byte intact', async () => {
    const started = Date.now();
    const { body, res, seen, paced } = pipe(100_000);
    const data = randomBytes(300_000);
    for (let at = 0; at < data.length; at += 60_000) body.write(data.subarray(at, at + 60_000));
    body.end();
    await settle();
    assert.equal(res.bytes, 100_000, 'the bucket starts with one second of bytes');
    assert.equal(seen.written, res.bytes, 'counted as written');
    assert.equal(body.isPaused(), true, 'the node is paused while bytes wait');
    assert.equal(paced.waiting, true);
    assert.ok(body.readableLength <= 300_000, 'nothing read beyond the body stream buffer');
    for (let ms = 0; ms < 3_000 && !res.ended; ms += 10) {
      mock.timers.tick(10);
      await settle();
      assert.ok(res.bytes <= 100_000 + (100_000 * (ms + 10)) / 1_000, `${res.bytes} bytes by ${ms + 10} ms`);
    }
    assert.equal(res.ended, true);
    assert.ok(Date.now() - started >= 2_000, `two more seconds for the 200,000 bytes beyond the first second, not ${Date.now() - started} ms`);
    assert.equal(seen.ended, 1);
    assert.equal(seen.written, data.length, 'every byte counted once');
    assert.ok(seen.resumed > 0, 'the node is told each time it is read again');
    assert.equal(createHash('sha256').update(Buffer.concat(res.chunks)).digest('hex'), createHash('sha256').update(data).digest('hex'));
  });

  it("still waits for the viewer's socket to drain when tokens are there", async () => {
    const { body, res } = pipe(10_000_000);
    res.full = true;
    body.write(Buffer.alloc(1_000));
    await settle();
    assert.equal(body.isPaused(), true, 'paused by the full socket');
    body.write(Buffer.alloc(1_000));
    await settle();
    assert.equal(res.bytes, 1_000, 'nothing more until it drains');
    res.full = false;
    res.emit('drain');
    await settle();
    assert.equal(res.bytes, 2_000);
    assert.equal(body.isPaused(), false);
  });

  it('stops its timer when the viewer leaves', async () => {
    const { body, res, paced } = pipe(1_000);
    body.write(Buffer.alloc(5_000));
    await settle();
    assert.equal(paced.waiting, true);
    res.emit('close');
    assert.equal(paced.waiting, false);
    mock.timers.tick(10_000);
    await settle();
    assert.equal(res.bytes, 1_000, 'nothing written after the close');
  });
});

describe('upstream clocks and a paced reader', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  const TIMEOUTS = { connectTimeoutMs: 1_000, headerTimeoutMs: 500, idleStreamTimeoutMs: 2_000 };
  const NODE = { protocol: 'http:', hostname: '10.0.0.1', port: 8080, origin: 'http://10.0.0.1:8080' };

  function open(hold: ReaderHold) {
    const base = new FakeBase();
    const transport = new UpstreamTransport({ maxIdleSockets: 4, base });
    const ends: (RelayError | undefined)[] = [];
    const call = transport.request(
      { to: NODE, path: '/f.bin', headers: {}, timeouts: TIMEOUTS, nodeId: 'n1', hold },
      { onResponse: () => {}, onEnd: (error) => ends.push(error) },
    );
    base.last.assignSocket(false);
    base.last.respond(200);
    return { call, ends, traffic: () => transport.traffic().get('n1')! };
  }

  it("does not count a pacing wait as the node's silence (IDLE_TIMEOUT) nor as a stalled viewer (CLIENT_STALLED)", () => {
    let waiting = true;
    let blocked = false;
    const { call, ends, traffic } = open({ blocked: () => blocked, whileBlocked: 'stalled', waiting: () => waiting });
    mock.timers.tick(10_000);
    assert.equal(ends.length, 0, 'ten idle periods of pacing wait');
    blocked = true; // the socket filled up meanwhile: still the pacer's wait
    mock.timers.tick(10_000);
    assert.equal(ends.length, 0, 'not ended');
    waiting = false;
    blocked = false;
    call.readerResumed();
    mock.timers.tick(1_999);
    assert.equal(ends.length, 0, 'not ended');
    mock.timers.tick(1);
    assert.equal(ends[0]?.code, 'IDLE_TIMEOUT', 'a silent node after the wait is still the node');
    assert.equal(traffic().failures.CLIENT_STALLED, undefined);
  });
});
