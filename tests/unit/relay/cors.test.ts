/** The CORS policy as pure functions (electron/engine/relay/cors.ts): which origin is allowed, the headers of an answer and of a preflight, Vary merging. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allowedOrigin,
  corsHeaders,
  CORS_PREFLIGHT_MAX_AGE_S,
  DEFAULT_CORS_POLICY,
  dependsOnOrigin,
  mergeVary,
  preflightHeaders,
  type CorsPolicy,
} from '../../../electron/engine/relay/cors.js';

const PLAYER = 'https://player.example';
const listed: CorsPolicy = { corsOrigins: [PLAYER], corsCredentials: false, corsExposeHeaders: ['content-length'] };
const credentialed: CorsPolicy = { ...listed, corsCredentials: true };

describe('CORS policy', () => {
  it('"*" without credentials allows any origin, and the answer does not depend on it', () => {
    assert.equal(allowedOrigin(DEFAULT_CORS_POLICY, 'https://any.example'), '*');
    assert.equal(allowedOrigin(DEFAULT_CORS_POLICY, undefined), '*');
    assert.equal(dependsOnOrigin(DEFAULT_CORS_POLICY), false);
    assert.deepEqual(corsHeaders(), {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'content-length, content-range, accept-ranges, location, retry-after, allow',
    });
  });

  it('a list echoes a listed Origin exactly, allows nothing else, and always varies on Origin', () => {
    assert.equal(allowedOrigin(listed, PLAYER), PLAYER);
    assert.equal(allowedOrigin(listed, 'https://PLAYER.example'), undefined);
    assert.equal(allowedOrigin(listed, 'null'), undefined);
    assert.equal(allowedOrigin(listed, undefined), undefined);
    assert.deepEqual(corsHeaders(listed, PLAYER), { 'access-control-allow-origin': PLAYER, 'access-control-expose-headers': 'content-length', vary: 'Origin' });
    assert.deepEqual(corsHeaders(listed, 'https://evil.example'), { vary: 'Origin' });
    assert.deepEqual(corsHeaders({ ...listed, corsExposeHeaders: [] }, PLAYER), { 'access-control-allow-origin': PLAYER, vary: 'Origin' });
  });

  it('credentials echo the Origin with allow-credentials; with "*" (refused by validation) nothing is allowed', () => {
    assert.deepEqual(corsHeaders(credentialed, PLAYER), {
      'access-control-allow-origin': PLAYER,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'content-length',
      vary: 'Origin',
    });
    const starWithCredentials: CorsPolicy = { ...DEFAULT_CORS_POLICY, corsCredentials: true };
    assert.deepEqual(corsHeaders(starWithCredentials, PLAYER), { vary: 'Origin' });
  });

  it('a preflight is allowed with methods, requested headers and max-age, or answered with no access-control-* at all', () => {
    const allowed = preflightHeaders(listed, ['GET', 'HEAD'], { origin: PLAYER, method: 'GET', headers: 'Range, X-Id' });
    assert.equal(allowed['access-control-allow-origin'], PLAYER);
    assert.equal(allowed['access-control-allow-methods'], 'GET, HEAD');
    assert.equal(allowed['access-control-allow-headers'], 'range, x-id');
    assert.equal(allowed['access-control-max-age'], CORS_PREFLIGHT_MAX_AGE_S);
    assert.equal(allowed.vary, 'Origin, Access-Control-Request-Headers');
    const refused = preflightHeaders(listed, ['GET', 'HEAD'], { origin: 'https://evil.example', method: 'GET', headers: 'Range' });
    assert.deepEqual(
      Object.keys(refused).filter((name) => name.startsWith('access-control-')),
      [],
    );
    assert.equal(refused.vary, 'Origin, Access-Control-Request-Headers');
    const anyMethod = preflightHeaders(DEFAULT_CORS_POLICY, 'any', { origin: PLAYER, method: 'PUT', headers: undefined });
    assert.equal(anyMethod['access-control-allow-methods'], 'GET, HEAD, PUT');
    assert.equal(anyMethod.vary, 'Access-Control-Request-Method, Access-Control-Request-Headers');
  });

  it('mergeVary appends missing names once, case-insensitively, and keeps "*" alone', () => {
    assert.equal(mergeVary(undefined, 'Origin'), 'Origin');
    assert.equal(mergeVary('Accept-Encoding', 'Origin'), 'Accept-Encoding, Origin');
    assert.equal(mergeVary('origin, Accept-Encoding', 'Origin'), 'origin, Accept-Encoding');
    assert.equal(mergeVary(['Accept', 'Accept-Encoding'], 'Origin'), 'Accept, Accept-Encoding, Origin');
    assert.equal(mergeVary('*', 'Origin'), '*');
  });
});
