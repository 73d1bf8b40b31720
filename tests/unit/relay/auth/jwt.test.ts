/**
 * JWT viewer tokens with shared secrets (electron/engine/relay/auth/jwt.ts), in-process: real
 * tokens signed with jose, checked for a route and a request. What a token must be (signed
 * with an accepted algorithm and a key of the route, in time, for the audience, issuer, path
 * or stream), the status each refusal gets, the cache that answers a reloading player
 * synchronously, and config changes applying from the next request. The JWKS side, with a
 * real key server, is tests/integration/relay/auth/jwks.test.ts.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { parseConfig, type RouteConfig } from '../../../../shared/config.js';
import { RelayError } from '../../../../electron/engine/core/errors.js';
import { createLogger } from '../../../../electron/engine/core/log.js';
import { JWT_PARAM, JwtVerifier, jwtFromRequest, type JwtPass } from '../../../../electron/engine/relay/auth/jwt.js';
import { MAX_JWKS_KEYS, publicKeysOf } from '../../../../electron/engine/relay/auth/jwks.js';
import { AUTH_PARAMS } from '../../../../electron/engine/relay/auth/signing.js';
import { withoutAuthParams } from '../../../../electron/engine/relay/auth/viewer-auth.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const OTHER_SECRET = 'another-secret-also-at-least-32-bytes!!';
const NOW = 1_800_000_000_000;
const NOW_S = NOW / 1_000;
const CAM1 = { path: '/live/cam1/index.m3u8', streamKey: 'live/cam1' };
const CAM2 = { path: '/live/cam2/index.m3u8', streamKey: 'live/cam2' };
const quiet = createLogger('jwt test');

function routeWith(jwt: Record<string, unknown>, id = 'live'): RouteConfig {
  return parseConfig({ nodes: [{ id: 'n', url: 'http://127.0.0.1:1' }], routes: [{ id, path: '/live/', kind: 'hls', mode: 'proxy', auth: { jwt } }] })
    .routes[0];
}

const hsRoute = (extra: Record<string, unknown> = {}) =>
  routeWith({ secrets: [{ secret: SECRET }], audience: 'relay', issuer: 'https://idp.example', ...extra });

/** A token signed with `secret` (HS256 unless `alg` says), valid for 10 minutes around NOW, for /live/cam1/. */
function hsToken(claims: JWTPayload = {}, options: { secret?: string | Uint8Array; alg?: string; kid?: string } = {}): Promise<string> {
  const key = typeof options.secret === 'object' ? options.secret : new TextEncoder().encode(options.secret ?? SECRET);
  return new SignJWT({
    aud: 'relay',
    iss: 'https://idp.example',
    sub: 'viewer-7',
    relaydeck: { paths: ['/live/cam1/'] },
    iat: NOW_S,
    exp: NOW_S + 600,
    ...claims,
  })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.kid ? { kid: options.kid } : {}) })
    .sign(key);
}

/** The RelayError `run` throws or rejects with. */
async function refusal(run: () => unknown): Promise<RelayError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof RelayError) return error;
    throw error;
  }
  assert.fail('expected a refusal');
}

describe('JWT viewer tokens (shared secrets)', () => {
  it('passes a valid HS256 token, with its subject as label and its expiry', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const pass = await verifier.verify(hsRoute(), await hsToken(), CAM1, NOW);
    assert.deepEqual(pass, { label: 'viewer-7', expiresAt: (NOW_S + 600) * 1_000 });
  });

  it('refuses what is wrong, with the status and the words for each', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute();
    const cases: [string, Promise<string> | undefined, RegExp, number][] = [
      ['no token', undefined, /needs a JWT/, 401],
      ['expired', hsToken({ exp: NOW_S - 31 }), /expired at/, 410],
      ['not yet valid', hsToken({ nbf: NOW_S + 31 }), /not valid yet \("nbf"\)|not valid yet/, 403],
      ['wrong audience', hsToken({ aud: 'someone-else' }), /another audience/, 403],
      ['wrong issuer', hsToken({ iss: 'https://evil.example' }), /another issuer/, 403],
      ['no exp', hsToken({ exp: undefined }), /has no "exp" claim/, 403],
      ['wrong secret', hsToken({}, { secret: OTHER_SECRET }), /bad signature/, 403],
      ['wrong path', hsToken({ relaydeck: { paths: ['/live/cam2/'] } }), /does not allow \/live\/cam1\/index\.m3u8/, 403],
      ['no scope claim', hsToken({ relaydeck: undefined }), /has no "relaydeck" claim/, 403],
      ['malformed scope', hsToken({ relaydeck: 42 }), /"relaydeck" claim must be/, 403],
      ['not a JWT', Promise.resolve('not.a.jwt'), /malformed/, 403],
      ['HS512 not accepted', hsToken({}, { alg: 'HS512' }), /signed with "HS512", which the route does not accept/, 403],
    ];
    for (const [name, token, message, status] of cases) {
      const error = await refusal(async () => verifier.verify(route, token === undefined ? undefined : await token, CAM1, NOW));
      assert.match(error.message, message, name);
      assert.equal(error.status, status, `${name}: ${error.message}`);
    }
  });

  it('takes the clock skew into account on exp and nbf', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute({ clockSkewSeconds: 30 });
    assert.ok(await verifier.verify(route, await hsToken({ exp: NOW_S - 29 }), CAM1, NOW), 'exp within the skew');
    assert.ok(await verifier.verify(route, await hsToken({ nbf: NOW_S + 29 }), CAM1, NOW), 'nbf within the skew');
    const strict = hsRoute({ clockSkewSeconds: 0 });
    assert.equal((await refusal(async () => verifier.verify(strict, await hsToken({ exp: NOW_S - 1 }), CAM1, NOW))).code, 'AUTH_EXPIRED');
  });

  it('never accepts an unsigned token (alg "none"), even when it claims everything', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const unsigned = new UnsecuredJWT({ aud: 'relay', iss: 'https://idp.example', relaydeck: { paths: ['/'] } }).setExpirationTime(NOW_S + 600).encode();
    const error = await refusal(() => verifier.verify(hsRoute(), unsigned, CAM1, NOW));
    assert.equal(error.code, 'AUTH_INVALID');
    assert.match(error.message, /unsigned \(alg "none"\)/);
  });

  it('refuses an HMAC token signed with the public key on a JWKS route (HS/RS confusion), before any fetch', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const forged = await hsToken({}, { secret: new TextEncoder().encode(pem) });
    const verifier = new JwtVerifier({ log: quiet });
    const route = routeWith({ jwksUrl: 'http://127.0.0.1:9/jwks.json', audience: 'relay' });
    const error = await refusal(() => verifier.verify(route, forged, CAM1, NOW));
    assert.equal(error.code, 'AUTH_INVALID');
    assert.match(error.message, /signed with "HS256", which the route does not accept \(it accepts RS256, ES256, EdDSA\)/);
    assert.equal(verifier.counters.jwksFetches, 0);
  });

  it('scopes a token to path prefixes, exact paths or stream keys', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute();
    const allows = async (scope: unknown, target: { path: string; streamKey: string }) => {
      try {
        await verifier.verify(route, await hsToken({ relaydeck: scope }), target, NOW);
        return true;
      } catch (error) {
        if (error instanceof RelayError && error.code === 'AUTH_INVALID') return false;
        throw error;
      }
    };
    const flv1 = { path: '/live/cam1.flv', streamKey: 'live/cam1' };
    const flv10 = { path: '/live/cam10.flv', streamKey: 'live/cam10' };
    assert.equal(await allows({ paths: ['/live/cam1/'] }, CAM1), true);
    assert.equal(await allows({ paths: ['/live/cam1/'] }, CAM2), false);
    assert.equal(await allows({ paths: '/live/cam1.flv' }, flv1), true);
    assert.equal(await allows({ paths: ['/live/cam1'] }, flv10), false, 'a path without a trailing "/" is exact, not a prefix');
    assert.equal(await allows({ streams: ['live/cam1'] }, flv1), true);
    assert.equal(await allows({ streams: 'live/cam1' }, flv10), false);
    assert.equal(await allows('/live/', CAM2), true, 'short form: a path');
    assert.equal(await allows(['/live/cam2/', '/live/cam3/'], CAM2), true, 'short form: a list of paths');
    assert.equal(await allows({}, CAM1), false, 'an empty scope allows nothing');
  });

  it('without scopeRequired, a token without the claim is valid for the whole route (one with it still held to it)', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute({ scopeRequired: false });
    assert.ok(await verifier.verify(route, await hsToken({ relaydeck: undefined }), CAM2, NOW), 'no claim: the whole route');
    assert.equal((await refusal(async () => verifier.verify(route, await hsToken(), CAM2, NOW))).code, 'AUTH_INVALID');
  });

  it('uses the configured scope and label claims', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute({ scopeClaim: 'path', labelClaim: 'plan' });
    const pass = await verifier.verify(route, await hsToken({ path: '/live/cam1/', plan: 'gold\nplan', relaydeck: undefined }), CAM1, NOW);
    assert.equal(pass.label, 'goldplan');
    assert.equal((await verifier.verify(hsRoute({ labelClaim: '' }), await hsToken(), CAM1, NOW)).label, undefined);
  });

  it('picks the secret by kid, and tries every secret without a kid (rotation)', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute({ secrets: [{ kid: 'k1', secret: SECRET }, { secret: OTHER_SECRET }] });
    assert.ok(await verifier.verify(route, await hsToken({}, { kid: 'k1' }), CAM1, NOW), 'the secret of kid k1');
    assert.ok(await verifier.verify(route, await hsToken({}, { secret: OTHER_SECRET }), CAM1, NOW), 'a secret without a kid');
    assert.ok(
      await verifier.verify(route, await hsToken({}, { secret: OTHER_SECRET, kid: 'unknown' }), CAM1, NOW),
      'an unknown kid: the secrets without a kid',
    );
    assert.match(
      (await refusal(async () => verifier.verify(route, await hsToken({}, { secret: OTHER_SECRET, kid: 'k1' }), CAM1, NOW))).message,
      /bad signature/,
    );
    const onlyNamed = hsRoute({ secrets: [{ kid: 'k1', secret: SECRET }] });
    assert.match((await refusal(async () => verifier.verify(onlyNamed, await hsToken(), CAM1, NOW))).message, /names no kid/);
  });

  it('answers a verified token from the cache synchronously, still checking its scope and expiry', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute({ cacheMs: 60_000 });
    const token = await hsToken({ exp: NOW_S + 30 });
    const first = verifier.verify(route, token, CAM1, NOW);
    assert.ok(first instanceof Promise, 'the first check is asynchronous');
    await first;
    const again = verifier.verify(route, token, CAM1, NOW + 2_000);
    assert.ok(!(again instanceof Promise), 'a reload is answered synchronously');
    assert.equal((again as JwtPass).label, 'viewer-7');
    assert.deepEqual(verifier.counters, { verifications: 1, cacheHits: 1, jwksFetches: 0, jwksFailures: 0 });
    assert.throws(
      () => verifier.verify(route, token, CAM2, NOW + 2_000),
      (error: RelayError) => error.code === 'AUTH_INVALID',
      'scope checked on a hit',
    );
    // Past exp the cache is not used; past the skew the token is expired.
    const late = verifier.verify(route, token, CAM1, NOW + 31_000);
    assert.ok(late instanceof Promise, 'past exp: checked again');
    await late;
    assert.equal((await refusal(() => verifier.verify(route, token, CAM1, NOW + 61_000))).code, 'AUTH_EXPIRED');
  });

  it('reuses a verification at most cacheMs, and keeps at most cacheEntries tokens', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute({ cacheMs: 5_000, cacheEntries: 2 });
    const tokens = await Promise.all([1, 2, 3].map((n) => hsToken({ sub: `v${n}` })));
    await verifier.verify(route, tokens[0], CAM1, NOW);
    assert.ok(!(verifier.verify(route, tokens[0], CAM1, NOW + 4_999) instanceof Promise), 'within cacheMs: cached');
    assert.ok(verifier.verify(route, tokens[0], CAM1, NOW + 5_000) instanceof Promise, 'cacheMs passed');
    await verifier.verify(route, tokens[0], CAM1, NOW + 5_000);
    await verifier.verify(route, tokens[1], CAM1, NOW + 5_000);
    await verifier.verify(route, tokens[2], CAM1, NOW + 5_000);
    assert.ok(verifier.verify(route, tokens[0], CAM1, NOW + 5_001) instanceof Promise, 'the least recently used entry was dropped');
    assert.ok(!(verifier.verify(route, tokens[2], CAM1, NOW + 5_001) instanceof Promise), 'a recent entry stays');
    const uncached = hsRoute({ cacheMs: 0 });
    await verifier.verify(uncached, tokens[0], CAM1, NOW);
    assert.ok(verifier.verify(uncached, tokens[0], CAM1, NOW) instanceof Promise, 'cacheMs 0: no cache');
  });

  it('applies a config change from the next request, never reusing a verification made under other settings', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const token = await hsToken();
    await verifier.verify(hsRoute(), token, CAM1, NOW);
    assert.ok(!(verifier.verify(hsRoute(), token, CAM1, NOW) instanceof Promise), 'same settings in a new config object: cache kept');
    const rotated = hsRoute({ secrets: [{ secret: OTHER_SECRET }] });
    assert.match((await refusal(() => verifier.verify(rotated, token, CAM1, NOW))).message, /bad signature/);
    assert.ok(await verifier.verify(rotated, await hsToken({}, { secret: OTHER_SECRET }), CAM1, NOW), 'the new secret');
    const otherAudience = hsRoute({ audience: 'elsewhere' });
    assert.match((await refusal(() => verifier.verify(otherAudience, token, CAM1, NOW))).message, /another audience/);
    const otherRoute = routeWith({ secrets: [{ secret: SECRET }], audience: 'relay' }, 'other');
    assert.ok(verifier.verify(otherRoute, token, CAM1, NOW) instanceof Promise, 'caches are per route');
  });

  it('shares one check among concurrent requests with the same token', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const route = hsRoute();
    const token = await hsToken();
    const passes = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(route, token, CAM1, NOW)));
    assert.equal(passes.length, 20);
    assert.equal(verifier.counters.verifications, 1);
  });
});

describe('jwtFromRequest', () => {
  it('reads the jwt query parameter, else an Authorization: Bearer header', () => {
    assert.equal(JWT_PARAM, 'jwt');
    assert.equal(jwtFromRequest({}, '?a=1&jwt=x.y.z&b=2'), 'x.y.z');
    assert.equal(jwtFromRequest({}, 'jwt=x.y.z'), 'x.y.z');
    assert.equal(jwtFromRequest({ authorization: 'Bearer h.e.ad' }, ''), 'h.e.ad');
    assert.equal(jwtFromRequest({ authorization: 'bearer  h.e.ad ' }, '?x=1'), 'h.e.ad');
    assert.equal(jwtFromRequest({ authorization: 'Bearer h.e.ad' }, '?jwt=q.u.ery'), 'q.u.ery', 'the query parameter wins');
    assert.equal(jwtFromRequest({ authorization: 'Basic dXNlcjpwYXNz' }, ''), undefined);
    assert.equal(jwtFromRequest({}, '?jwt='), undefined);
    assert.equal(jwtFromRequest({}, '?xjwt=a.b.c&jwtx=a.b.c'), undefined);
    assert.equal(jwtFromRequest({}, ''), undefined);
  });

  it('a token from the Authorization header passes like one from the query', async () => {
    const verifier = new JwtVerifier({ log: quiet });
    const token = await hsToken();
    const fromHeader = jwtFromRequest({ authorization: `Bearer ${token}` }, '?other=1');
    assert.ok(await verifier.verify(hsRoute(), fromHeader, CAM1, NOW), 'a token from the header');
  });

  it('the jwt parameter is an auth parameter: stripped before the node like sign and token', () => {
    assert.ok(AUTH_PARAMS.includes(JWT_PARAM), 'jwt is an auth parameter');
    assert.equal(withoutAuthParams('?a=1&jwt=x.y.z&b=2'), '?a=1&b=2');
  });
});

describe('JWKS answers', () => {
  it('keep only public signature keys: no shared secret (oct), no private key, no encryption key', () => {
    const rsa = { kty: 'RSA', kid: 'r', n: 'AQAB', e: 'AQAB' };
    const answer = {
      keys: [
        rsa,
        { kty: 'oct', kid: 's', k: 'c2VjcmV0' },
        { kty: 'EC', kid: 'p', crv: 'P-256', x: 'x', y: 'y', d: 'd' },
        { kty: 'OKP', kid: 'e', crv: 'X25519', x: 'x', use: 'enc' },
        7,
        null,
      ],
    };
    assert.deepEqual(publicKeysOf(answer), { keys: [rsa], dropped: 5 });
    assert.throws(() => publicKeysOf({ key: [] }), /no "keys" list/);
    assert.equal(publicKeysOf({ keys: Array.from({ length: MAX_JWKS_KEYS + 3 }, () => rsa) }).keys.length, MAX_JWKS_KEYS);
  });
});
