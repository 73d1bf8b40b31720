/**
 * The upstream transport without sockets (a fake base): which clock ends a call with which
 * code, abort propagation, the one classification of base errors, per-node accounting, pools.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { PassThrough } from 'node:stream';
import { isNodeFault, type RelayError } from '../../../electron/engine/core/errors.js';
import { UpstreamTransport, type UpstreamRequest, type UpstreamResponse } from '../../../electron/engine/upstream/transport.js';
import { MAX_NODE_POOLS, NodePools } from '../../../electron/engine/upstream/transport/pool.js';
import { FakeBase, settle } from './fake-http.js';

const TIMEOUTS = { connectTimeoutMs: 1_000, headerTimeoutMs: 500, idleStreamTimeoutMs: 2_000, requestBodyIdleTimeoutMs: 300 };
const NODE = { protocol: 'http:', hostname: '10.0.0.1', port: 8080, origin: 'http://10.0.0.1:8080' };

/** A call through a fresh transport, with what it reported. */
function open(extra: Partial<UpstreamRequest> = {}) {
  const base = new FakeBase();
  const transport = new UpstreamTransport({ maxIdleSockets: 4, base });
  const ends: (RelayError | undefined)[] = [];
  const responses: UpstreamResponse[] = [];
  const call = transport.request(
    { to: NODE, path: '/live/a.flv?x=1', headers: { 'user-agent': 't' }, timeouts: TIMEOUTS, nodeId: 'n1', ...extra },
    { onResponse: (response) => responses.push(response), onEnd: (error) => ends.push(error) },
  );
  const request = base.last;
  return { transport, base, call, request, ends, responses, traffic: () => transport.traffic().get('n1')! };
}

const destroyed = (request: { destroyed: boolean }) => request.destroyed;

describe('upstream transport', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  it('sends the path exactly as given, on the node pool, and never re-parses it', () => {
    const { request, transport } = open({ path: '/a/%2e%2e/b?q=<1>' });
    assert.equal(request.options.path, '/a/%2e%2e/b?q=<1>');
    assert.equal(request.options.hostname, '10.0.0.1');
    assert.equal(request.options.agent, transport.agentFor(NODE));
  });

  it('ends a call whose node never connects with DIAL after connectTimeoutMs, and cuts the request', async () => {
    const { request, ends, traffic } = open();
    request.assignSocket();
    mock.timers.tick(999);
    assert.equal(ends.length, 0, 'not ended');
    mock.timers.tick(1);
    assert.equal(ends[0]?.code, 'DIAL');
    assert.match(ends[0]!.message, /connect to node timed out after 1000 ms/);
    await settle();
    assert.ok(destroyed(request));
    assert.deepEqual(traffic().failures, { DIAL: 1 });
    assert.equal(traffic().nodeFaults, 1);
  });

  it('starts the response-header clock only once connected with the whole request sent', async () => {
    const { request, ends } = open();
    request.assignSocket();
    mock.timers.tick(900); // a slow connect, within its own clock
    request.connect();
    await settle(); // 'finish' of the request
    mock.timers.tick(499);
    assert.equal(ends.length, 0, 'the connect time does not count against the header clock');
    mock.timers.tick(1);
    assert.equal(ends[0]?.code, 'UPSTREAM_TIMEOUT');
    assert.match(ends[0]!.message, /no response headers within 500 ms/);
  });

  it('does not start the header clock while the viewer is still sending the body', async () => {
    const body = new PassThrough();
    const { request, ends } = open({ method: 'POST', body, timeouts: { ...TIMEOUTS, requestBodyIdleTimeoutMs: 10_000 } });
    request.assignSocket(false);
    body.write('part');
    await settle();
    mock.timers.tick(600);
    assert.equal(ends.length, 0, 'the body is not complete: no header clock yet');
    body.end();
    await settle();
    mock.timers.tick(500);
    assert.equal(ends[0]?.code, 'UPSTREAM_TIMEOUT');
  });

  it('ends a silent body with IDLE_TIMEOUT; each chunk starts the clock over', async () => {
    const { request, ends, responses } = open();
    request.assignSocket(false);
    const response = request.respond(200);
    assert.equal(responses.length, 1);
    responses[0].body.on('data', () => {});
    mock.timers.tick(1_500);
    response.send('abc');
    await settle();
    mock.timers.tick(1_500);
    assert.equal(ends.length, 0, 'data 1500 ms ago: still within the idle clock');
    mock.timers.tick(500);
    assert.equal(ends[0]?.code, 'IDLE_TIMEOUT');
  });

  it('charges silence while the reader holds the node back to the reader (CLIENT_STALLED), never to the node', () => {
    let blocked = true;
    const { request, ends, traffic } = open({ hold: { blocked: () => blocked, whileBlocked: 'stalled' } });
    request.assignSocket(false);
    request.respond(200);
    mock.timers.tick(2_000);
    assert.equal(ends[0]?.code, 'CLIENT_STALLED');
    assert.equal(isNodeFault(ends[0]!.code), false);
    assert.equal(traffic().nodeFaults, 0);
    blocked = false;
  });

  it('does not count silence while held back when the reader says "wait"; after it resumes the clock starts over', () => {
    let blocked = true;
    const { request, call, ends } = open({ hold: { blocked: () => blocked, whileBlocked: 'wait' } });
    request.assignSocket(false);
    request.respond(200);
    mock.timers.tick(10_000);
    assert.equal(ends.length, 0, 'not ended');
    blocked = false;
    call.readerResumed();
    mock.timers.tick(1_999);
    assert.equal(ends.length, 0, 'not ended');
    mock.timers.tick(1);
    assert.equal(ends[0]?.code, 'IDLE_TIMEOUT');
  });

  it("times a viewer body that stops as the viewer's REQUEST_TIMEOUT, and a node that stops taking it as UPSTREAM_TIMEOUT", async () => {
    const viewer = open({ method: 'POST', body: new PassThrough() });
    viewer.request.assignSocket(false);
    mock.timers.tick(300);
    assert.equal(viewer.ends[0]?.code, 'REQUEST_TIMEOUT');
    assert.equal(viewer.traffic().nodeFaults, 0);

    const body = new PassThrough();
    const node = open({ method: 'POST', body });
    node.request.assignSocket(false);
    node.request.takeBytes = false;
    body.write('0123456789');
    await settle();
    assert.ok(node.request.writableNeedDrain);
    mock.timers.tick(300);
    assert.equal(node.ends[0]?.code, 'UPSTREAM_TIMEOUT');
    assert.match(node.ends[0]!.message, /took no request body bytes/);
  });

  it('an AbortSignal ends the call at once with CLIENT_CLOSED, cuts the request, and does not count against the node', async () => {
    const controller = new AbortController();
    const { request, ends, traffic } = open({ signal: controller.signal });
    request.assignSocket(false);
    request.respond(200);
    controller.abort();
    assert.equal(ends.length, 1);
    assert.equal(ends[0]?.code, 'CLIENT_CLOSED');
    await settle();
    assert.ok(destroyed(request));
    assert.equal(traffic().nodeFaults, 0);
    assert.deepEqual(traffic().failures, { CLIENT_CLOSED: 1 });
    mock.timers.tick(10_000);
    assert.equal(ends.length, 1, 'no clock fires after the end');
  });

  it("the caller's abort() cuts the request and reports nothing more, even as the node fails after", async () => {
    const { request, call, ends } = open();
    request.assignSocket(false);
    call.abort();
    await settle();
    assert.ok(destroyed(request));
    request.failWith('ECONNRESET');
    mock.timers.tick(10_000);
    assert.equal(ends.length, 0, 'not ended');
  });

  for (const [errno, before, code] of [
    ['ECONNREFUSED', true, 'DIAL'],
    ['EHOSTUNREACH', true, 'DIAL'],
    ['EMFILE', true, 'RELAY_RESOURCES'],
    ['HPE_INVALID_CONSTANT', true, 'UPSTREAM_PROTOCOL'],
    ['ECONNRESET', true, 'UPSTREAM_PROTOCOL'],
    ['ECONNRESET', false, 'UPSTREAM_RESET'],
  ] as const) {
    it(`classifies ${errno} ${before ? 'before' : 'after'} the response as ${code}, once`, () => {
      const { request, ends, traffic } = open();
      request.assignSocket(false);
      if (!before) request.respond(200);
      request.failWith(errno);
      request.failWith(errno);
      assert.equal(ends.length, 1);
      assert.equal(ends[0]?.code, code);
      assert.equal(traffic().nodeFaults, isNodeFault(code) ? 1 : 0);
    });
  }

  it('a body dropped before its end is UPSTREAM_RESET; a body that ends is a clean end', async () => {
    const lost = open();
    lost.request.assignSocket(false);
    lost.request.respond(200).destroy();
    await settle();
    assert.equal(lost.ends[0]?.code, 'UPSTREAM_RESET');

    const whole = open();
    whole.request.assignSocket(false);
    const response = whole.request.respond(200);
    whole.responses[0].body.on('data', () => {});
    response.send('abcd');
    response.finish();
    await settle();
    assert.deepEqual(whole.ends, [undefined]);
    assert.equal(whole.request.destroyed, false, 'a finished call leaves its connection to the pool');
  });

  it('counts requests, bytes in, requests in flight and failures per node', async () => {
    const base = new FakeBase();
    const transport = new UpstreamTransport({ maxIdleSockets: 4, base });
    const events = { onResponse: (r: UpstreamResponse) => r.body.on('data', () => {}), onEnd: () => {} };
    transport.request({ to: NODE, path: '/a', headers: {}, timeouts: TIMEOUTS, nodeId: 'n1' }, events);
    const first = base.last;
    transport.request({ to: NODE, path: '/b', headers: {}, timeouts: TIMEOUTS, nodeId: 'n1' }, events);
    const second = base.last;
    first.assignSocket(false);
    second.assignSocket(false);
    const response = first.respond(200);
    response.send('12345');
    response.send('678');
    response.finish();
    second.failWith('ECONNREFUSED');
    await settle();
    const traffic = transport.traffic().get('n1')!;
    assert.equal(traffic.requests, 2);
    assert.equal(traffic.active, 0);
    assert.equal(traffic.bytesIn, 8);
    assert.deepEqual(traffic.failures, { DIAL: 1 });
    assert.equal(traffic.origin, NODE.origin);
    assert.deepEqual({ open: traffic.open, idle: traffic.idle }, { open: 0, idle: 0 });
  });
});

describe('node pools', () => {
  it('keeps one agent per node origin, bounded by relay.maxIdleUpstreamSockets', () => {
    const pools = new NodePools(3);
    const agent = pools.agentFor('http://a:1', 'http:');
    assert.equal(pools.agentFor('http://a:1', 'http:'), agent);
    assert.notEqual(pools.agentFor('http://b:1', 'http:'), agent);
    assert.equal(agent.maxFreeSockets, 3);
    assert.equal((agent as unknown as { keepAlive: boolean }).keepAlive, true);
    pools.destroy();
  });

  it('an idle bound of 0 means no keep-alive (Node reads maxFreeSockets 0 as 256)', () => {
    const pools = new NodePools(0);
    const agent = pools.agentFor('http://a:1', 'http:');
    assert.equal((agent as unknown as { keepAlive: boolean }).keepAlive, false);
    pools.destroy();
  });

  it(`closes the least recently used pool past ${MAX_NODE_POOLS} node origins`, () => {
    const pools = new NodePools(1);
    const first = pools.agentFor('http://n0:1', 'http:');
    for (let i = 1; i <= MAX_NODE_POOLS; i += 1) pools.agentFor(`http://n${i}:1`, 'http:');
    assert.notEqual(pools.agentFor('http://n0:1', 'http:'), first, 'the oldest pool was closed and made anew');
    pools.destroy();
  });
});
