/** Validation of a route's CORS settings (routes[].corsOrigins, corsCredentials, corsExposeHeaders): defaults, bad values refused naming the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_CORS_EXPOSED_HEADERS, MAX_CORS_ORIGINS, parseConfig } from '../../../shared/config.js';

const minimal = {
  nodes: [{ id: 'a', url: 'http://127.0.0.1:8000' }],
  routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
};

/** `minimal` with `fields` added to its route. */
const withRoute = (fields: Record<string, unknown>) => ({ ...minimal, routes: [{ ...minimal.routes[0], ...fields }] });

function errorOf(value: unknown): string {
  try {
    parseConfig(value);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a validation error');
}

describe('route CORS settings', () => {
  it('default to any origin without credentials, exposing the headers a player reads', () => {
    const route = parseConfig(minimal).routes[0];
    assert.deepEqual(route.corsOrigins, ['*']);
    assert.equal(route.corsCredentials, false);
    assert.deepEqual(route.corsExposeHeaders, ['content-length', 'content-range', 'accept-ranges', 'location', 'retry-after', 'allow']);
  });

  it('accept a list of origins as browsers send them, an empty list, and credentials with a list', () => {
    const origins = ['https://player.example', 'http://localhost:8080', 'http://[::1]:3000', 'app://relaydeck'];
    const route = parseConfig(withRoute({ corsOrigins: origins, corsCredentials: true, corsExposeHeaders: [] })).routes[0];
    assert.deepEqual(route.corsOrigins, origins);
    assert.equal(route.corsCredentials, true);
    assert.deepEqual(route.corsExposeHeaders, []);
    assert.deepEqual(parseConfig(withRoute({ corsOrigins: [] })).routes[0].corsOrigins, []);
  });

  it('refuse an entry that is not "*" or an origin, naming the entry', () => {
    const cases: [unknown, RegExp][] = [
      ['*', /^routes\[0\]\.corsOrigins: expected an array, got "\*"$/],
      [['https://player.example/'], /^routes\[0\]\.corsOrigins\[0\]: expected "\*" or an origin "scheme:\/\/host\[:port\]"/],
      [['https://player.example/watch'], /^routes\[0\]\.corsOrigins\[0\]: expected "\*" or an origin/],
      [['player.example'], /^routes\[0\]\.corsOrigins\[0\]: expected "\*" or an origin/],
      [['https://a.example', 'HTTPS://B.example'], /^routes\[0\]\.corsOrigins\[1\]: expected "\*" or an origin .* in lowercase/],
      [['https://player.example:443'], /^routes\[0\]\.corsOrigins\[0\]: expected the origin as browsers send it, "https:\/\/player\.example"/],
      [['null'], /^routes\[0\]\.corsOrigins\[0\]: expected "\*" or an origin/],
      [[''], /^routes\[0\]\.corsOrigins\[0\]: must not be empty$/],
      [[7], /^routes\[0\]\.corsOrigins\[0\]: expected a string, got 7$/],
    ];
    for (const [value, message] of cases) assert.match(errorOf(withRoute({ corsOrigins: value })), message, JSON.stringify(value));
  });

  it('refuse "*" beside other origins, and more than the bound', () => {
    assert.equal(errorOf(withRoute({ corsOrigins: ['*', 'https://a.example'] })), 'routes[0].corsOrigins: "*" allows every origin: it must be the only entry');
    const many = Array.from({ length: MAX_CORS_ORIGINS + 1 }, (_, i) => `https://p${i}.example`);
    assert.equal(errorOf(withRoute({ corsOrigins: many })), `routes[0].corsOrigins: must have at most ${MAX_CORS_ORIGINS} entries`);
  });

  it('refuse credentials with "*" (a credentialed answer must name its origin)', () => {
    assert.match(errorOf(withRoute({ corsCredentials: true })), /^routes\[0\]\.corsCredentials: must be false when corsOrigins is \["\*"\]/);
    assert.match(errorOf(withRoute({ corsOrigins: ['*'], corsCredentials: true })), /^routes\[0\]\.corsCredentials: /);
    assert.equal(errorOf(withRoute({ corsCredentials: 'yes' })), 'routes[0].corsCredentials: expected true or false, got "yes"');
  });

  it('refuse an exposed header that is not a header name, and more than the bound', () => {
    assert.equal(errorOf(withRoute({ corsExposeHeaders: ['content-length', 'x bad'] })), 'routes[0].corsExposeHeaders[1]: expected a header name, got "x bad"');
    const many = Array.from({ length: MAX_CORS_EXPOSED_HEADERS + 1 }, (_, i) => `x-h${i}`);
    assert.equal(errorOf(withRoute({ corsExposeHeaders: many })), `routes[0].corsExposeHeaders: must have at most ${MAX_CORS_EXPOSED_HEADERS} entries`);
  });
});
