/**
 * The session scope (relay/session-scope.ts) without sockets: a fake response (an
 * EventEmitter) and the real registry and stats. Opening counts the session once; it closes
 * exactly once whatever ends the request (owner finish, viewer gone before the end, an error,
 * a second close, a kick, shutdown), and the request log and `active` show one ending.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { describe, it } from 'node:test';
import { SessionScope, type ScopeOwner } from '../../../electron/engine/relay/session-scope.js';
import { SessionRegistry, type SessionFacts } from '../../../electron/engine/relay/sessions.js';
import { StatsBook } from '../../../electron/engine/relay/stats.js';

const FACTS: SessionFacts = {
  routeId: 'live',
  mode: 'proxy',
  method: 'GET',
  transport: 'http',
  path: '/live/x',
  nodeId: 'a',
  clientAddress: '192.0.2.1',
  userAgent: 'test',
};

/** The parts of a ServerResponse the scope reads; destroy() closes it on the next tick, as Node's does. */
class FakeResponse extends EventEmitter {
  writableFinished = false;
  statusCode = 200;
  destroyed = 0;
  destroy(): void {
    this.destroyed += 1;
    process.nextTick(() => this.emit('close'));
  }
  /** The viewer got the whole response. */
  finish(status: number): void {
    this.statusCode = status;
    this.writableFinished = true;
    this.emit('close');
  }
}

function setup() {
  const stats = new StatsBook();
  const sessions = new SessionRegistry(stats, 10);
  const res = new FakeResponse();
  const node = { bytesIn: 0, bytesOut: 0 };
  const scope = new SessionScope(sessions, { ...FACTS }, res, node);
  const route = stats.route('live');
  return { stats, sessions, res, scope, route, node };
}

/** The backstop runs a tick after the response's close. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('session scope', () => {
  it('opens the session once: live, counted proxied and active, with its node', () => {
    const { sessions, scope, route, node } = setup();
    assert.equal(sessions.size, 1);
    assert.equal(sessions.get(scope.session.id), scope.session);
    assert.equal(route.proxied, 1);
    assert.equal(route.active, 1);
    assert.equal(scope.session.node, node);
  });

  it('closes once when the owner ends it and the response then closes', async () => {
    const { sessions, res, scope, route } = setup();
    scope.session.status = 200;
    scope.session.close(200);
    res.finish(200);
    await tick();
    scope.close(200);
    assert.equal(route.active, 0);
    assert.equal(sessions.size, 0);
    assert.deepEqual(
      sessions.recent().map((e) => [e.status, e.errorCode]),
      [[200, undefined]],
    );
  });

  it('closes as CLIENT_CLOSED (499) when the viewer leaves before the end and no owner closed it', async () => {
    const { sessions, res, scope, route } = setup();
    res.emit('close');
    await tick();
    assert.equal(scope.isClosed, true);
    assert.equal(route.active, 0);
    assert.deepEqual(
      sessions.recent().map((e) => [e.status, e.errorCode]),
      [[499, 'CLIENT_CLOSED']],
    );
    assert.equal(route.errors.CLIENT_CLOSED, 1);
  });

  it('closes with the response status when the response finished and no owner closed it', async () => {
    const { sessions, res } = setup();
    res.finish(206);
    await tick();
    assert.deepEqual(
      sessions.recent().map((e) => e.status),
      [206],
    );
  });

  it("lets the owner's status win over the backstop when both hear the response close", async () => {
    const { sessions, res, scope } = setup();
    // The owner's handler is registered after the scope's, as the exchange and viewer do.
    res.on('close', () => scope.session.close(502, 'UPSTREAM_RESET'));
    res.emit('close');
    await tick();
    assert.deepEqual(
      sessions.recent().map((e) => [e.status, e.errorCode]),
      [[502, 'UPSTREAM_RESET']],
    );
  });

  it('counts an error ending once, however often it is reported', async () => {
    const { sessions, res, scope, route } = setup();
    scope.close(502, 'UPSTREAM_STATUS');
    scope.close(502, 'UPSTREAM_STATUS');
    scope.session.close(499, 'CLIENT_CLOSED');
    res.emit('close');
    await tick();
    assert.equal(route.active, 0);
    assert.equal(route.errors.UPSTREAM_STATUS, 1);
    assert.equal(route.errors.CLIENT_CLOSED, undefined);
    assert.equal(sessions.recent().length, 1);
  });

  it('a kick reaches the owner once; after the end it does nothing', () => {
    const { scope } = setup();
    const calls: string[] = [];
    const owner: ScopeOwner = {
      abort: (reason) => {
        calls.push(`abort ${reason}`);
        scope.close(499, 'CLIENT_CLOSED');
      },
      finishGracefully: () => calls.push('finish'),
    };
    scope.ownedBy(owner);
    scope.session.abort('kicked');
    scope.session.abort('kicked again');
    scope.session.finishGracefully();
    assert.deepEqual(calls, ['abort kicked']);
  });

  it('shutdown asks the owner to finish cleanly', () => {
    const { scope } = setup();
    const calls: string[] = [];
    scope.ownedBy({ abort: () => calls.push('abort'), finishGracefully: () => calls.push('finish') });
    scope.session.finishGracefully();
    assert.deepEqual(calls, ['finish']);
  });

  it('without an owner, a kick cuts the response and the scope closes as CLIENT_CLOSED', async () => {
    const { sessions, res, scope, route } = setup();
    scope.session.abort('kicked');
    assert.equal(res.destroyed, 1);
    await once(res, 'close');
    await tick();
    assert.equal(route.active, 0);
    assert.deepEqual(
      sessions.recent().map((e) => e.errorCode),
      ['CLIENT_CLOSED'],
    );
  });

  it('keeps each scope to its own session', () => {
    const stats = new StatsBook();
    const sessions = new SessionRegistry(stats, 10);
    const first = new SessionScope(sessions, { ...FACTS }, new FakeResponse());
    const second = new SessionScope(sessions, { ...FACTS }, new FakeResponse());
    first.close(200);
    first.close(200);
    assert.equal(sessions.size, 1);
    assert.equal(sessions.get(second.session.id), second.session);
    assert.equal(stats.route('live').active, 1);
  });
});
