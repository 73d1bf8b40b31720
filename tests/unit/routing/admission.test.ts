/**
 * Admission (routing/admission.ts) without sockets: the rules run in their documented order,
 * each refusal carries its rule and error code (and status), pause is a switch, and the session
 * rules spare a redirect.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type RouteConfig } from '../../../shared/config.js';
import { RelayError } from '../../../electron/engine/core/errors.js';
import { ADMISSION_RULES, admit, type AdmissionContext, type AdmissionRequest } from '../../../electron/engine/routing/admission.js';
import { PauseSwitch } from '../../../electron/engine/routing/pause-switch.js';
import { RouteTable } from '../../../electron/engine/routing/route-table.js';
import { parseRequestTarget } from '../../../electron/engine/routing/target.js';

const table = new RouteTable(
  parseConfig({
    relay: { maxSessions: 2, maxHeaderCount: 10 },
    nodes: [{ id: 'a', url: 'http://127.0.0.1:1' }],
    routes: [
      { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
      { id: 'jump', path: '/jump/', kind: 'flv', mode: 'redirect' },
      { id: 'files', path: '/files/', kind: 'file', mode: 'proxy' },
    ],
  }),
);

function request(url: string, over: Partial<AdmissionRequest> = {}): AdmissionRequest {
  return { target: parseRequestTarget(url), method: 'GET', headerCount: 3, viewerAddress: '192.0.2.1', preflight: false, ...over };
}

/** A context where every rule passes; `over` makes one refuse. `seen` records which checks ran. */
function context(over: Partial<AdmissionContext> = {}, seen: string[] = []): AdmissionContext {
  return {
    pause: new PauseSwitch(),
    stopping: () => (seen.push('stopping'), false),
    liveSessions: () => (seen.push('sessions'), 0),
    opensSession: (route: RouteConfig) => route.mode === 'proxy',
    checkViewer: (_route, target) => (seen.push('viewer'), { query: target.query }),
    ...over,
  };
}

function refusal(url: string, over: Partial<AdmissionRequest>, ctx: AdmissionContext) {
  const result = admit(table, request(url, over), ctx);
  assert.equal(result.admitted, false, 'expected a refusal');
  return result as Extract<typeof result, { admitted: false }>;
}

describe('admission', () => {
  it('admits a request that passes every rule, with the target after viewer auth', () => {
    const seen: string[] = [];
    const result = admit(
      table,
      request('/live/cam?sign=x&a=1'),
      context({ checkViewer: () => (seen.push('viewer'), { query: '?a=1', tokenLabel: 'tv' }) }, seen),
    );
    assert.equal(result.admitted, true);
    assert.ok(result.admitted);
    assert.equal(result.route.id, 'live');
    assert.deepEqual(result.target, { path: '/live/cam', query: '?a=1' });
    assert.equal(result.tokenLabel, 'tv');
    assert.deepEqual(seen, ['viewer', 'stopping', 'sessions'], 'viewer auth, then stopping, then the session limit');
  });

  it('runs the rules in the documented order: every rule refusing, the first one answers', () => {
    const pause = new PauseSwitch();
    pause.pause();
    const allRefuse = (paused: boolean) =>
      context({
        pause: paused ? pause : new PauseSwitch(),
        stopping: () => true,
        liveSessions: () => 99,
        checkViewer: () => {
          throw new RelayError('AUTH_MISSING', 'no credentials');
        },
      });
    const bad = { method: 'POST', headerCount: 50 };
    assert.equal(refusal('/live/x', bad, allRefuse(true)).rule, 'paused');
    assert.equal(refusal('/nowhere', bad, allRefuse(false)).rule, 'route');
    assert.equal(refusal('/live/x', bad, allRefuse(false)).rule, 'headers');
    assert.equal(refusal('/live/x', { method: 'POST' }, allRefuse(false)).rule, 'method');
    assert.equal(refusal('/live/x', {}, allRefuse(false)).rule, 'viewer');
    assert.equal(refusal('/live/x', {}, context({ stopping: () => true, liveSessions: () => 99 })).rule, 'stopping');
    assert.equal(refusal('/live/x', {}, context({ liveSessions: () => 99 })).rule, 'sessions');
    assert.deepEqual([...ADMISSION_RULES], ['paused', 'route', 'headers', 'method', 'viewer', 'stopping', 'sessions']);
  });

  it('refuses each rule with its own error code and status', () => {
    const paused = new PauseSwitch();
    paused.pause();
    const cases: [string, ReturnType<typeof refusal>, string, number, RegExp][] = [
      ['paused', refusal('/nowhere', {}, context({ pause: paused })), 'OVERLOADED', 503, /paused by the operator/],
      ['route', refusal('/nowhere', {}, context()), 'NO_ROUTE', 404, /no route matches \/nowhere/],
      ['headers', refusal('/live/x', { headerCount: 11 }, context()), 'HEADERS_TOO_LARGE', 431, /relay\.maxHeaderCount \(10\)/],
      ['method', refusal('/live/x', { method: 'DELETE' }, context()), 'METHOD_NOT_ALLOWED', 405, /method DELETE is not allowed on flv route "live"/],
      ['stopping', refusal('/live/x', {}, context({ stopping: () => true })), 'OVERLOADED', 503, /shutting down/],
      ['sessions', refusal('/live/x', {}, context({ liveSessions: () => 2 })), 'OVERLOADED', 503, /relay\.maxSessions \(2\)/],
    ];
    for (const [rule, refused, code, status, message] of cases) {
      assert.equal(refused.rule, rule);
      assert.equal(refused.error.code, code, rule);
      assert.equal(refused.error.status, status, rule);
      assert.match(refused.error.message, message, rule);
    }
    assert.deepEqual(refusal('/live/x', { method: 'DELETE' }, context()).headers, { allow: 'GET, HEAD' });
  });

  it('passes the viewer check its refusal through, with the route it matched', () => {
    for (const code of ['IP_DENIED', 'AUTH_MISSING', 'AUTH_INVALID', 'AUTH_EXPIRED'] as const) {
      const refused = refusal(
        '/live/x',
        {},
        context({
          checkViewer: () => {
            throw new RelayError(code, 'no');
          },
        }),
      );
      assert.equal(refused.rule, 'viewer');
      assert.equal(refused.error.code, code);
      assert.equal(refused.route?.id, 'live');
    }
    // A bug in the check is not a refusal: it propagates.
    assert.throws(
      () =>
        admit(
          table,
          request('/live/x'),
          context({
            checkViewer: () => {
              throw new TypeError('bug');
            },
          }),
        ),
      TypeError,
    );
  });

  it('names no route when none matched, and the route when its target checks failed', () => {
    assert.equal(refusal('/nowhere', {}, context()).route, undefined);
    const encoded = refusal('/live/a%2Fb', {}, context());
    assert.equal(encoded.rule, 'route');
    assert.equal(encoded.route?.id, 'live');
  });

  it('spares a request that opens no session (a redirect) the stopping and session rules', () => {
    const full = context({ stopping: () => true, liveSessions: () => 99 });
    assert.equal(admit(table, request('/jump/x'), full).admitted, true);
    assert.equal(refusal('/live/x', {}, full).rule, 'stopping');
  });

  it('admits a CORS preflight once its route matches, before the method and auth rules', () => {
    const seen: string[] = [];
    const result = admit(table, request('/live/x', { method: 'OPTIONS', headerCount: 99, preflight: true }), context({}, seen));
    assert.ok(result.admitted && result.preflight);
    assert.deepEqual(seen, []);
    const paused = new PauseSwitch();
    paused.pause();
    assert.equal(refusal('/live/x', { method: 'OPTIONS', preflight: true }, context({ pause: paused })).rule, 'paused');
  });

  it('lets a file route take any method', () => {
    assert.equal(admit(table, request('/files/a.bin', { method: 'PUT' }), context()).admitted, true);
  });

  it('pause is a switch: pause, resume, set, each saying whether anything changed', () => {
    const pause = new PauseSwitch();
    assert.equal(pause.paused, false);
    assert.equal(pause.pause(), true);
    assert.equal(pause.pause(), false);
    assert.equal(refusal('/live/x', {}, context({ pause })).rule, 'paused');
    assert.equal(pause.resume(), true);
    assert.equal(pause.resume(), false);
    assert.equal(admit(table, request('/live/x'), context({ pause })).admitted, true);
    assert.equal(pause.set(true), true);
    assert.equal(pause.paused, true);
    assert.equal(pause.set(false), true);
    assert.equal(pause.paused, false);
  });
});
