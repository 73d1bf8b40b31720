/**
 * routes[].auth.jwt (shared/config/jwt.ts) validates strictly, fills its defaults, and names
 * the field of each bad value, the rules between fields included (a key source is required,
 * an algorithm needs its kind of key, "none" is never allowed, http:// only on loopback).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jwtAlgorithmsOf, parseConfig, routePatchSchema } from '../../../shared/config.js';

const SECRET = 'x'.repeat(32);
const withJwt = (jwt: unknown) => ({
  nodes: [{ id: 'n', url: 'http://127.0.0.1:1' }],
  routes: [{ id: 'r', path: '/r/', kind: 'flv', mode: 'proxy', auth: { jwt } }],
});

function messageOf(config: unknown): string {
  try {
    parseConfig(config);
  } catch (error) {
    return (error as Error).message;
  }
  return 'no error';
}

describe('routes[].auth.jwt settings', () => {
  it('fills the defaults, and the algorithms follow what is configured', () => {
    const jwt = parseConfig(withJwt({ secrets: [{ secret: SECRET }] })).routes[0].auth?.jwt;
    assert.deepEqual(jwt, {
      secrets: [{ secret: SECRET }],
      algorithms: [],
      scopeClaim: 'relaydeck',
      scopeRequired: true,
      labelClaim: 'sub',
      clockSkewSeconds: 30,
      jwksRefreshMs: 600_000,
      jwksCooldownMs: 10_000,
      jwksTimeoutMs: 5_000,
      cacheMs: 60_000,
      cacheEntries: 10_000,
    });
    assert.deepEqual(jwtAlgorithmsOf(jwt!), ['HS256']);
    const jwks = parseConfig(withJwt({ jwksUrl: 'https://idp.example/.well-known/jwks.json' })).routes[0].auth!.jwt!;
    assert.deepEqual(jwtAlgorithmsOf(jwks), ['RS256', 'ES256', 'EdDSA']);
    const both = parseConfig(withJwt({ secrets: [{ secret: SECRET }], jwksUrl: 'http://127.0.0.1:8/jwks' })).routes[0].auth!.jwt!;
    assert.deepEqual(jwtAlgorithmsOf(both), ['HS256', 'RS256', 'ES256', 'EdDSA']);
    const listed = parseConfig(withJwt({ jwksUrl: 'http://localhost/jwks', algorithms: ['PS256', 'Ed25519'] })).routes[0].auth!.jwt!;
    assert.deepEqual(jwtAlgorithmsOf(listed), ['PS256', 'Ed25519']);
  });

  it('names the field of each bad value', () => {
    const ok = { secrets: [{ secret: SECRET }] };
    const cases: [unknown, RegExp][] = [
      [{}, /^routes\[0\]\.auth\.jwt\.secrets: is required when jwksUrl is not set/],
      [{ secrets: [] }, /^routes\[0\]\.auth\.jwt\.secrets: is required when jwksUrl is not set/],
      [{ secrets: [{ secret: 'x'.repeat(31) }] }, /^routes\[0\]\.auth\.jwt\.secrets\[0\]\.secret: must be at least 32 characters/],
      [{ secrets: [{ secret: `${'x'.repeat(32)}\n` }] }, /^routes\[0\]\.auth\.jwt\.secrets\[0\]\.secret: expected printable ASCII/],
      [
        {
          secrets: [
            { kid: 'a', secret: SECRET },
            { kid: 'a', secret: SECRET },
          ],
        },
        /^routes\[0\]\.auth\.jwt\.secrets\[1\]\.kid: duplicate kid "a"/,
      ],
      [{ secrets: [{ secret: SECRET, key: 1 }] }, /^routes\[0\]\.auth\.jwt\.secrets\[0\]\.key: unknown key/],
      [{ jwksUrl: 'ftp://idp.example/jwks' }, /^routes\[0\]\.auth\.jwt\.jwksUrl: expected an http:\/\/ or https:\/\/ URL/],
      [{ jwksUrl: 'http://idp.example/jwks' }, /^routes\[0\]\.auth\.jwt\.jwksUrl: http:\/\/ is allowed only for a loopback host/],
      [{ jwksUrl: 'https://user:pw@idp.example/jwks' }, /^routes\[0\]\.auth\.jwt\.jwksUrl: must not hold credentials/],
      [{ ...ok, algorithms: ['none'] }, /^routes\[0\]\.auth\.jwt\.algorithms\[0\]: "none" \(an unsigned token\) is never allowed/],
      [{ ...ok, algorithms: ['HS256', 'NONE'] }, /^routes\[0\]\.auth\.jwt\.algorithms\[1\]: "none"/],
      [{ ...ok, algorithms: ['HS257'] }, /^routes\[0\]\.auth\.jwt\.algorithms\[0\]: expected one of "HS256"/],
      [{ ...ok, algorithms: ['HS256', 'RS256'] }, /^routes\[0\]\.auth\.jwt\.algorithms\[1\]: "RS256" needs a jwksUrl/],
      [{ jwksUrl: 'https://idp.example/jwks', algorithms: ['HS256'] }, /^routes\[0\]\.auth\.jwt\.algorithms\[0\]: "HS256" needs secrets/],
      [{ ...ok, algorithms: ['HS256', 'HS256'] }, /^routes\[0\]\.auth\.jwt\.algorithms\[1\]: duplicate algorithm/],
      [{ ...ok, audience: '' }, /^routes\[0\]\.auth\.jwt\.audience: must not be empty/],
      [{ ...ok, issuer: 7 }, /^routes\[0\]\.auth\.jwt\.issuer: expected a string/],
      [{ ...ok, scopeClaim: '' }, /^routes\[0\]\.auth\.jwt\.scopeClaim: must not be empty/],
      [{ ...ok, scopeClaim: 'a b' }, /^routes\[0\]\.auth\.jwt\.scopeClaim: expected a claim name/],
      [{ ...ok, scopeRequired: 'yes' }, /^routes\[0\]\.auth\.jwt\.scopeRequired: expected true or false/],
      [{ ...ok, clockSkewSeconds: 601 }, /^routes\[0\]\.auth\.jwt\.clockSkewSeconds: expected an integer from 0 to 600, got 601/],
      [{ ...ok, jwksCooldownMs: 999 }, /^routes\[0\]\.auth\.jwt\.jwksCooldownMs: expected an integer from 1000/],
      [{ ...ok, jwksRefreshMs: 5_000, jwksCooldownMs: 6_000 }, /^routes\[0\]\.auth\.jwt\.jwksCooldownMs: must not exceed jwksRefreshMs \(5000\)/],
      [{ ...ok, jwksTimeoutMs: 10 }, /^routes\[0\]\.auth\.jwt\.jwksTimeoutMs: /],
      [{ ...ok, cacheMs: -1 }, /^routes\[0\]\.auth\.jwt\.cacheMs: /],
      [{ ...ok, cacheEntries: 1.5 }, /^routes\[0\]\.auth\.jwt\.cacheEntries: expected an integer/],
      [{ ...ok, extra: true }, /^routes\[0\]\.auth\.jwt\.extra: unknown key/],
    ];
    for (const [jwt, expected] of cases) assert.match(messageOf(withJwt(jwt)), expected, JSON.stringify(jwt));
  });

  it('checks the same rules in a route patch (admin API, route form)', () => {
    assert.throws(
      () => routePatchSchema.parse({ auth: { jwt: { jwksUrl: 'http://idp.example/jwks' } } }, 'body'),
      /^SchemaError: body\.auth\.jwt\.jwksUrl: http:\/\//,
    );
    assert.throws(() => routePatchSchema.parse({ auth: { jwt: {} } }, 'body'), { message: /^body\.auth\.jwt\.secrets: is required/ });
  });
});
