/**
 * The refusals the Dashboard and Streams pages show (renderer/src/refusals.ts): every code
 * they group is one the engine answers (electron/engine/core/errors.ts), each in one reason
 * only; the stats' errors are grouped per reason with the codes behind each, failures that
 * are not refusals left out; per route, the refusals by limit and code and the labels.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteStatsDto, StatsDto } from '../../../shared/dto.js';
import { ERROR_STATUS } from '../../../electron/engine/core/errors.js';
import { limitRefusals, REFUSAL_REASONS, refusalsByReason, refusalTotal, routeAdmissions } from '../../../renderer/src/refusals.js';

const route = (counts: Partial<RouteStatsDto>): RouteStatsDto => ({
  requests: 0,
  redirects: 0,
  proxied: 0,
  bytesIn: 0,
  bytesOut: 0,
  errors: {},
  active: 0,
  tokens: {},
  limits: {},
  ...counts,
});

describe('refusals by reason', () => {
  it("groups only the engine's own codes, each in one reason", () => {
    const codes = REFUSAL_REASONS.flatMap((r) => r.codes);
    for (const code of codes) assert.ok(Object.hasOwn(ERROR_STATUS, code), `${code} is an engine error code`);
    assert.equal(new Set(codes).size, codes.length, 'no code in two reasons');
    for (const code of ['AUTH_MISSING', 'AUTH_INVALID', 'AUTH_EXPIRED', 'IP_DENIED', 'WEBHOOK_UNAUTHORIZED', 'WEBHOOK_FORBIDDEN', 'WEBHOOK_FAILED'])
      assert.ok(codes.includes(code), code);
    for (const code of ['WEBHOOK_BUSY', 'VIEWER_LIMIT', 'ADDRESS_LIMIT', 'OVERLOADED']) assert.ok(codes.includes(code), code);
  });

  it('counts each reason with the codes that refused someone; node failures and viewers leaving are not refusals', () => {
    const errors = { AUTH_MISSING: 2, AUTH_EXPIRED: 1, VIEWER_LIMIT: 4, ADDRESS_LIMIT: 1, WEBHOOK_BUSY: 0, DIAL: 9, CLIENT_CLOSED: 5, OVERLOADED: 3 };
    const byId = Object.fromEntries(refusalsByReason(errors).map((r) => [r.reason.id, r]));
    assert.deepEqual(Object.keys(byId), ['overload', 'address', 'auth', 'limits', 'webhook'], 'every reason, in the order the relay checks');
    assert.equal(byId.auth.total, 3);
    assert.deepEqual(byId.auth.codes, [
      ['AUTH_MISSING', 2],
      ['AUTH_EXPIRED', 1],
    ]);
    assert.deepEqual(byId.limits.codes, [
      ['VIEWER_LIMIT', 4],
      ['ADDRESS_LIMIT', 1],
    ]);
    assert.equal(byId.webhook.total, 0);
    assert.deepEqual(byId.webhook.codes, [], 'a zero count is not shown');
    assert.equal(refusalTotal(errors), 11);
  });

  it('limits in their order (route caps, then the address limit), zeros left out', () => {
    assert.deepEqual(limitRefusals({ maxConnectionsPerAddress: 2, maxViewers: 1, maxViewersPerStream: 0 }), [
      ['maxViewers', 1],
      ['maxConnectionsPerAddress', 2],
    ]);
    assert.deepEqual(limitRefusals(undefined), []);
  });

  it('per route: the routes that refused or admitted a labelled viewer, most refusals first', () => {
    const stats = {
      startedAt: 0,
      totals: route({}),
      routes: {
        quiet: route({ requests: 5, errors: { DIAL: 1 } }),
        labelled: route({ tokens: { 'partner-b': 1, 'partner-a': 7 } }),
        capped: route({ errors: { VIEWER_LIMIT: 3, WEBHOOK_FORBIDDEN: 1 }, limits: { maxViewersPerStream: 3 } }),
      },
    } as unknown as StatsDto;
    const rows = routeAdmissions(stats);
    assert.deepEqual(
      rows.map((r) => r.routeId),
      ['capped', 'labelled'],
    );
    assert.deepEqual(rows[0], {
      routeId: 'capped',
      refused: 4,
      byLimit: [['maxViewersPerStream', 3]],
      byCode: [
        ['VIEWER_LIMIT', 3],
        ['WEBHOOK_FORBIDDEN', 1],
      ],
      byLabel: [],
    });
    assert.deepEqual(rows[1].byLabel, [
      ['partner-a', 7],
      ['partner-b', 1],
    ]);
    assert.deepEqual(routeAdmissions(undefined), []);
  });
});
