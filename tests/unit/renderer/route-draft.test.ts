/**
 * The route form's draft (renderer/src/forms/route-draft.ts): static rules edited as text
 * round-trip, a bad rules line is named, and every message lands under the field it is
 * about (schema, duplicate id or path, rules) before anything is sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteDto } from '../../../shared/dto.js';
import { parseList, parseRules, routeCandidate, routeDraftOf, routeErrors } from '../../../renderer/src/forms/route-draft.js';

const LIVE = { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', locate: 'static', static: [{ match: 'cam*', node: 'a' }] } as unknown as RouteDto;

describe('route form draft', () => {
  it('edits static rules as "pattern node" lines and reads them back', () => {
    const draft = routeDraftOf(LIVE);
    assert.equal(draft.static, 'cam* a');
    assert.deepEqual(routeCandidate({ ...draft, static: 'cam* a\n\n  x* b ' }).candidate.static, [
      { match: 'cam*', node: 'a' },
      { match: 'x*', node: 'b' },
    ]);
    assert.equal(parseRules('  \n'), undefined);
  });

  it('names the rules line that is not "pattern node"', () => {
    assert.equal(parseRules('cam* a\ncam*'), 'line 2: expected "pattern node", e.g. "live/cam* node1"');
    assert.equal(
      routeErrors({ ...routeDraftOf(undefined), id: 'x', path: '/x/', static: 'a b c' }, [], undefined).static,
      'line 1: expected "pattern node", e.g. "live/cam* node1"',
    );
  });

  it('a new route starts valid but for its id; a taken id or path is named under its field', () => {
    const fresh = routeDraftOf(undefined);
    assert.deepEqual(Object.keys(routeErrors({ ...fresh, id: 'new', path: '/new/' }, [LIVE], undefined)), []);
    const errors = routeErrors({ ...fresh, id: 'live', path: '/live/' }, [LIVE], undefined);
    assert.equal(errors.id, 'a route with id "live" exists already');
    assert.equal(errors.path, 'route "live" has this path already');
  });

  it('editing a route does not clash with itself', () => {
    assert.deepEqual(routeErrors(routeDraftOf(LIVE), [LIVE], LIVE), {});
  });

  it('edits the CORS lists as comma-separated text ("none" = an empty list, empty = the default) and names their errors', () => {
    const route = { ...LIVE, corsOrigins: ['https://a.example', 'http://localhost:8080'], corsExposeHeaders: [] } as unknown as RouteDto;
    const draft = routeDraftOf(route);
    assert.equal(draft.corsOrigins, 'https://a.example, http://localhost:8080');
    assert.equal(draft.corsExposeHeaders, 'none');
    const { candidate } = routeCandidate(draft);
    assert.deepEqual(candidate.corsOrigins, ['https://a.example', 'http://localhost:8080']);
    assert.deepEqual(candidate.corsExposeHeaders, []);
    assert.equal(parseList('  '), undefined);
    const fresh = { ...routeDraftOf(undefined), id: 'x', path: '/x/' };
    assert.match(
      routeErrors({ ...fresh, corsOrigins: 'https://a.example/' }, [], undefined).corsOrigins ?? '',
      /^corsOrigins\[0\]: expected "\*" or an origin/,
    );
    assert.match(routeErrors({ ...fresh, corsCredentials: true }, [], undefined).corsCredentials ?? '', /must be false when corsOrigins is \["\*"\]/);
    assert.deepEqual(routeErrors({ ...fresh, corsOrigins: 'https://a.example', corsCredentials: true }, [], undefined), {});
  });

  it('the schema names a bad path under "path"', () => {
    assert.match(
      routeErrors({ ...routeDraftOf(undefined), id: 'x', path: 'no-slash' }, [], undefined).path ?? '',
      /expected a path prefix that starts and ends with "\/"/,
    );
  });
});
