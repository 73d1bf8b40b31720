/**
 * The proxy exchange's state machine without sockets: a fake viewer request and response, a
 * fake transport call. Which answer the viewer gets, which status the session closes with
 * (exactly once), what is reported against the node, and when the upstream call is cut.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { RelayError } from '../../../electron/engine/core/errors.js';
import type { Logger } from '../../../electron/engine/core/log.js';
import { ProxyExchange } from '../../../electron/engine/relay/exchange.js';
import type { Session } from '../../../electron/engine/relay/sessions.js';
import type { UpstreamCall } from '../../../electron/engine/upstream/transport.js';

class FakeResponse extends EventEmitter {
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  writableNeedDrain = false;
  statusCode = 200;
  sent = '';
  writeHead(status: number): this {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }
  end(body?: string): void {
    this.sent += body ?? '';
    this.writableFinished = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  hasHeader(): boolean {
    return false;
  }
}

class FakeCall implements UpstreamCall {
  connected = true;
  resumed = 0;
  readonly aborts: (RelayError | undefined)[] = [];
  readonly failed: unknown[] = [];
  readerResumed(): void {
    this.resumed += 1;
  }
  fail(error: unknown): void {
    this.failed.push(error);
  }
  abort(reason?: RelayError): void {
    this.aborts.push(reason);
  }
}

const quiet = { info() {}, error() {}, warn() {}, debug() {}, child: () => quiet } as unknown as Logger;
const TIMEOUTS = { connectTimeoutMs: 1_000, headerTimeoutMs: 1_000, idleStreamTimeoutMs: 1_000, requestBodyIdleTimeoutMs: 1_000 };

function setup(method = 'GET') {
  const req = Object.assign(new EventEmitter(), { method, headers: {}, complete: true }) as unknown as IncomingMessage;
  const res = new FakeResponse();
  const closes: [number, string | undefined][] = [];
  const session = {
    id: '1',
    status: 0,
    bytesIn: 0,
    bytesOut: 0,
    routeStats: { bytesIn: 0, bytesOut: 0 },
    node: { bytesIn: 0, bytesOut: 0 },
    facts: { path: '/live/a.flv', nodeId: 'n1' },
    close: (status: number, code?: string) => closes.push([status, code]),
  };
  const reported: string[] = [];
  const exchange = new ProxyExchange(req, res as unknown as ServerResponse, session as unknown as Session, TIMEOUTS, quiet, (code) => reported.push(code));
  const call = new FakeCall();
  exchange.attach(call);
  return { exchange, res, session, closes, reported, call };
}

/** The node's answer as the transport reports it. */
function answer(status = 200) {
  const body = new PassThrough();
  return { response: { status, statusMessage: 'OK', headers: {}, body }, body };
}

describe('proxy exchange', () => {
  it('a node failure before the headers went out answers the viewer with its code, reports it and cuts the call', () => {
    const { exchange, res, closes, reported, call } = setup();
    const error = new RelayError('DIAL', 'cannot connect to node: ECONNREFUSED');
    exchange.onEnd(error);
    assert.equal(res.statusCode, 502);
    assert.equal(JSON.parse(res.sent).error.code, 'DIAL');
    assert.deepEqual(closes, [[502, 'DIAL']]);
    assert.deepEqual(reported, ['DIAL']);
    assert.deepEqual(call.aborts, [error]);
  });

  it("a node failure after the body started cuts the viewer (nothing is written into the body) and keeps the node's status", () => {
    const { exchange, res, closes, reported } = setup();
    exchange.onResponse(answer(200).response);
    res.writeHead(200);
    exchange.onEnd(new RelayError('UPSTREAM_RESET', 'node connection lost mid-response'));
    assert.equal(res.destroyed, true);
    assert.equal(res.sent, '');
    assert.deepEqual(closes, [[200, 'UPSTREAM_RESET']]);
    assert.deepEqual(reported, ['UPSTREAM_RESET']);
  });

  it('a viewer that goes away cuts the call at once as CLIENT_CLOSED, and nothing is reported against the node', () => {
    const { exchange, res, closes, reported, call } = setup();
    exchange.onResponse(answer(200).response);
    res.headersSent = true;
    res.emit('close');
    assert.equal(call.aborts.length, 1);
    assert.equal(call.aborts[0]?.code, 'CLIENT_CLOSED');
    assert.deepEqual(closes, [[499, 'CLIENT_CLOSED']]);
    assert.deepEqual(reported, []);
    exchange.onEnd(new RelayError('UPSTREAM_RESET', 'the cut request failed'));
    assert.deepEqual(closes, [[499, 'CLIENT_CLOSED']], 'the session closes once');
    assert.deepEqual(reported, [], "the failure of the cut request is not the node's");
  });

  it("a viewer whose response finished closes with the node's status, the call untouched", () => {
    const { exchange, res, closes, call } = setup();
    exchange.onResponse(answer(206).response);
    res.writableFinished = true;
    res.emit('close');
    assert.deepEqual(closes, [[206, undefined]]);
    assert.deepEqual(call.aborts, []);
  });

  it("a HEAD's header timeout is answered but not reported against the node; a GET's is", () => {
    const head = setup('HEAD');
    head.exchange.onEnd(new RelayError('UPSTREAM_TIMEOUT', 'node sent no response headers within 1000 ms'));
    assert.deepEqual(head.closes, [[504, 'UPSTREAM_TIMEOUT']]);
    assert.deepEqual(head.reported, []);
    const get = setup('GET');
    get.exchange.onEnd(new RelayError('UPSTREAM_TIMEOUT', 'node sent no response headers within 1000 ms'));
    assert.deepEqual(get.reported, ['UPSTREAM_TIMEOUT']);
  });

  it('counts node bytes in the session, route and node, and bytes out as the engine writes them', () => {
    const { exchange, session } = setup();
    const { response, body } = answer(200);
    exchange.onResponse(response);
    body.write(Buffer.alloc(7));
    body.write(Buffer.alloc(3));
    exchange.countOut(10);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        assert.equal(session.status, 200);
        assert.deepEqual([session.bytesIn, session.routeStats.bytesIn, session.node.bytesIn], [10, 10, 10]);
        assert.deepEqual([session.bytesOut, session.routeStats.bytesOut, session.node.bytesOut], [10, 10, 10]);
        resolve();
      }),
    );
  });

  it("the viewer making room starts the node's idle clock over; its full socket is what holds the node back", () => {
    const { exchange, res, call } = setup();
    exchange.onResponse(answer(200).response);
    res.writableNeedDrain = true;
    assert.equal(exchange.hold.blocked(), true);
    assert.equal(exchange.hold.whileBlocked, 'stalled');
    res.emit('drain');
    assert.equal(call.resumed, 1);
  });

  it('an operator kick cuts both sides and closes 499; a later completion changes nothing', () => {
    const { exchange, res, closes, call } = setup();
    exchange.abort('kicked');
    assert.equal(res.destroyed, true);
    assert.equal(call.aborts.length, 1);
    exchange.complete();
    assert.deepEqual(closes, [[499, 'CLIENT_CLOSED']]);
  });

  it('shutdown before the headers answers 503 OVERLOADED; after them it ends a chunked stream cleanly', () => {
    const before = setup();
    before.exchange.finishGracefully();
    assert.equal(before.res.statusCode, 503);
    assert.deepEqual(before.closes, [[503, 'OVERLOADED']]);
    const after = setup();
    after.exchange.onResponse(answer(200).response);
    after.res.headersSent = true;
    after.exchange.finishGracefully();
    assert.equal(after.res.writableFinished, true);
    assert.equal(after.res.destroyed, false);
    assert.deepEqual(after.closes, [[200, undefined]]);
  });

  it("an engine's own error goes to the transport call for its one classification; without a call it is classified here", () => {
    const { exchange, call } = setup();
    const error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    exchange.upstreamError(error);
    assert.deepEqual(call.failed, [error]);

    const req = Object.assign(new EventEmitter(), { method: 'GET', headers: {}, complete: true }) as unknown as IncomingMessage;
    const res = new FakeResponse();
    const closes: unknown[] = [];
    const session = { id: '2', status: 0, routeStats: {}, facts: { path: '/x' }, close: (...args: unknown[]) => closes.push(args) };
    const lone = new ProxyExchange(req, res as unknown as ServerResponse, session as unknown as Session, TIMEOUTS, quiet);
    lone.upstreamError(error);
    assert.deepEqual(closes, [[502, 'DIAL']]);
  });

  it('a call attached after the exchange ended is cut at once', () => {
    const { exchange } = setup();
    exchange.abort('kicked');
    const late = new FakeCall();
    exchange.attach(late);
    assert.equal(late.aborts.length, 1);
  });

  it("completes once with the node's status", () => {
    const { exchange, closes } = setup();
    exchange.onResponse(answer(404).response);
    exchange.complete();
    exchange.complete();
    assert.deepEqual(closes, [[404, undefined]]);
  });
});
