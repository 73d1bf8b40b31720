/**
 * JWT viewer tokens checked with the keys of a JWKS (electron/engine/relay/auth/jwt.ts,
 * jwks.ts), against a real JWKS server started here on 127.0.0.1 that counts its requests,
 * with real RS256, ES256 and EdDSA tokens signed with jose. The verifier is given its clock
 * (`now`), so the cooldown and refresh windows pass without sleeping; the only waits are a
 * fetch timing out (the input under test).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, generateSecret, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { parseConfig, type RouteConfig } from '../../../../shared/config.js';
import { RelayError } from '../../../../electron/engine/core/errors.js';
import type { Logger } from '../../../../electron/engine/core/log.js';
import { JwtVerifier } from '../../../../electron/engine/relay/auth/jwt.js';
import { MAX_JWKS_BYTES } from '../../../../electron/engine/relay/auth/jwks.js';
import { waitFor } from '../../../helpers/http.js';

const T0 = Date.now();
const T0_S = Math.floor(T0 / 1_000);
const COOLDOWN_MS = 10_000;
const REFRESH_MS = 600_000;
const CAM1 = { path: '/live/cam1.flv', streamKey: 'live/cam1' };
const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';

type Mode = 'ok' | 'error' | 'reset' | 'hang' | 'hold' | 'huge';

/** A JWKS server: serves `keys` at /jwks.json as `mode` says, and counts the requests it got. */
class JwksServer {
  keys: JWK[] = [];
  mode: Mode = 'ok';
  requests = 0;
  /** Answers kept back in mode "hold" until release(). */
  private held: http.ServerResponse[] = [];
  private readonly server = http.createServer((req, res) => {
    this.requests += 1;
    if (this.mode === 'hang') return;
    if (this.mode === 'hold') return void this.held.push(res);
    if (this.mode === 'reset') return req.socket.destroy();
    if (this.mode === 'error') return res.writeHead(500).end('down for maintenance');
    const body = this.mode === 'huge' ? JSON.stringify({ keys: this.keys, padding: 'x'.repeat(MAX_JWKS_BYTES) }) : JSON.stringify({ keys: this.keys });
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(body);
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks.json`;
  }

  /** Answer the requests held back, with the keys. */
  release(): void {
    for (const res of this.held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A logger that keeps the lines (the JWKS failures must be logged, not thrown). */
function captureLog(lines: string[]): Logger {
  const push = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  const log: Logger = { debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error'), child: () => log };
  return log;
}

interface SigningKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(alg: string, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig' } };
}

function token(key: { alg: string; kid?: string; privateKey: CryptoKey | Uint8Array }, claims: JWTPayload = {}): Promise<string> {
  return new SignJWT({ aud: 'relay', sub: 'viewer-1', relaydeck: { paths: ['/live/cam1.flv'] }, exp: T0_S + 3_600, ...claims })
    .setProtectedHeader({ alg: key.alg, ...(key.kid ? { kid: key.kid } : {}) })
    .sign(key.privateKey);
}

function routeFor(jwksUrl: string, extra: Record<string, unknown> = {}): RouteConfig {
  const jwt = { jwksUrl, audience: 'relay', jwksCooldownMs: COOLDOWN_MS, jwksRefreshMs: REFRESH_MS, ...extra };
  return parseConfig({ nodes: [{ id: 'n', url: 'http://127.0.0.1:1' }], routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', auth: { jwt } }] })
    .routes[0];
}

async function refusal(run: () => unknown): Promise<RelayError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof RelayError) return error;
    throw error;
  }
  assert.fail('expected a refusal');
}

const randomKid = () => `kid-${Math.random().toString(36).slice(2)}`;

describe('JWT viewer tokens with a JWKS', () => {
  const jwks = new JwksServer();
  let url = '';
  let rsa: SigningKey;
  let ec: SigningKey;
  let ed: SigningKey;

  before(async () => {
    url = await jwks.start();
    [rsa, ec, ed] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('ES256', 'ec-1'), signingKey('EdDSA', 'ed-1')]);
    jwks.keys = [rsa.jwk, ec.jwk, ed.jwk];
  });
  after(() => jwks.close());

  it('passes RS256, ES256 and EdDSA tokens signed by keys of the JWKS, fetching it once', async () => {
    jwks.requests = 0;
    const verifier = new JwtVerifier({ log: captureLog([]) });
    const route = routeFor(url);
    for (const key of [rsa, ec, ed]) {
      const pass = await verifier.verify(route, await token(key, { sub: key.alg }), CAM1, T0);
      assert.deepEqual(pass, { label: key.alg, expiresAt: (T0_S + 3_600) * 1_000 });
    }
    const withoutKid = await token({ alg: 'ES256', privateKey: ec.privateKey });
    assert.ok(await verifier.verify(route, withoutKid, CAM1, T0), 'a token without a kid is checked with the keys that fit its algorithm');
    assert.equal(jwks.requests, 1);
  });

  it('refuses a JWKS token that is expired, for another audience or out of scope', async () => {
    const verifier = new JwtVerifier({ log: captureLog([]) });
    const route = routeFor(url);
    const expired = await refusal(async () => verifier.verify(route, await token(rsa, { exp: T0_S - 60 }), CAM1, T0));
    assert.equal(expired.code, 'AUTH_EXPIRED');
    assert.equal(expired.status, 410);
    const notYet = await refusal(async () => verifier.verify(route, await token(ec, { nbf: T0_S + 60 }), CAM1, T0));
    assert.match(notYet.message, /not valid yet/);
    assert.match((await refusal(async () => verifier.verify(route, await token(ed, { aud: 'other' }), CAM1, T0))).message, /another audience/);
    const issuer = routeFor(url, { issuer: 'https://idp.example' });
    assert.match((await refusal(async () => verifier.verify(issuer, await token(rsa, { iss: 'https://evil.example' }), CAM1, T0))).message, /another issuer/);
    const other = await refusal(async () => verifier.verify(route, await token(rsa), { path: '/live/cam2.flv', streamKey: 'live/cam2' }, T0));
    assert.equal(other.status, 403);
    assert.match(other.message, /does not allow \/live\/cam2\.flv/);
    const forged = await token({ alg: 'RS256', kid: 'rsa-1', privateKey: (await generateKeyPair('RS256')).privateKey });
    assert.match((await refusal(() => verifier.verify(route, forged, CAM1, T0))).message, /bad signature/);
  });

  it('refuses an unknown kid after one refetch, and fetches at most once per cooldown however many random kids arrive', async () => {
    const verifier = new JwtVerifier({ log: captureLog([]) });
    const route = routeFor(url);
    jwks.requests = 0;
    await verifier.verify(route, await token(rsa), CAM1, T0);
    assert.equal(jwks.requests, 1);
    const unknown = await refusal(async () => verifier.verify(route, await token({ ...rsa, kid: 'nobody' }), CAM1, T0 + COOLDOWN_MS));
    assert.equal(unknown.status, 403);
    assert.match(unknown.message, /the JWKS has no key with kid "nobody" for RS256/);
    assert.equal(jwks.requests, 2, 'an unknown kid after the cooldown: one refetch');
    // An attacker's flood of random kids inside the cooldown makes no fetch at all...
    const flood = await Promise.all(Array.from({ length: 100 }, async () => token({ ...rsa, kid: randomKid() })));
    const at = T0 + COOLDOWN_MS + 1;
    const refusals = await Promise.all(flood.map((t) => refusal(() => verifier.verify(route, t, CAM1, at))));
    assert.ok(
      refusals.every((e) => e.code === 'AUTH_INVALID'),
      'every random kid refused',
    );
    assert.equal(jwks.requests, 2);
    // ...and once it has passed, one fetch for all of them together.
    const later = T0 + 2 * COOLDOWN_MS;
    await Promise.all(flood.map((t) => refusal(() => verifier.verify(route, t, CAM1, later))));
    assert.equal(jwks.requests, 3);
    assert.ok(await verifier.verify(route, await token(ec), CAM1, later), 'known keys keep working throughout');
  });

  it('accepts a rotated key as soon as the JWKS publishes it, and stops accepting a withdrawn one', async () => {
    const verifier = new JwtVerifier({ log: captureLog([]) });
    const route = routeFor(url);
    jwks.requests = 0;
    const oldToken = await token(rsa);
    await verifier.verify(route, oldToken, CAM1, T0);
    assert.ok(!(verifier.verify(route, oldToken, CAM1, T0) instanceof Promise), 'cached');
    const next = await signingKey('RS256', 'rsa-2');
    const newToken = await token(next);
    // Signed before the JWKS has the key: refused (one refetch, after the cooldown since the first fetch).
    assert.match((await refusal(() => verifier.verify(route, newToken, CAM1, T0 + COOLDOWN_MS))).message, /no key with kid "rsa-2"/);
    assert.equal(jwks.requests, 2);
    jwks.keys = [next.jwk, ec.jwk, ed.jwk];
    // Published, but the last fetch was within the cooldown: still refused, no fetch.
    await refusal(() => verifier.verify(route, newToken, CAM1, T0 + COOLDOWN_MS + 5_000));
    assert.equal(jwks.requests, 2);
    // The cooldown passed: the first token with the new kid fetches and is accepted at once.
    const t1 = T0 + 2 * COOLDOWN_MS;
    assert.equal((await verifier.verify(route, newToken, CAM1, t1)).label, 'viewer-1');
    assert.equal(jwks.requests, 3);
    // The JWKS changed, so the cached verification of the withdrawn key is redone, and refused.
    const again = verifier.verify(route, oldToken, CAM1, t1);
    assert.ok(again instanceof Promise, 'the JWKS changed: cached verifications are redone');
    assert.match((await refusal(() => again)).message, /no key with kid "rsa-1"/);
    jwks.keys = [rsa.jwk, ec.jwk, ed.jwk];
  });

  it('fetches again after jwksRefreshMs in the background, the keys held serving meanwhile', { timeout: 20_000 }, async () => {
    const verifier = new JwtVerifier({ log: captureLog([]) });
    // The fetch timeout is past the test's: a check that waited for the refresh would never end in time.
    const route = routeFor(url, { cacheMs: 0, jwksTimeoutMs: 60_000 });
    jwks.requests = 0;
    await verifier.verify(route, await token(rsa), CAM1, T0);
    await verifier.verify(route, await token(rsa), CAM1, T0 + REFRESH_MS - 1);
    assert.equal(jwks.requests, 1);
    jwks.mode = 'hold';
    const next = await signingKey('ES256', 'ec-2');
    try {
      assert.ok(await verifier.verify(route, await token(ed), CAM1, T0 + REFRESH_MS), 'a stale set serves while its refresh is held back by the server');
      await waitFor(() => jwks.requests === 2, 5_000, 'the background refresh to reach the JWKS server');
      jwks.keys = [rsa.jwk, ec.jwk, ed.jwk, next.jwk];
      jwks.release();
      // The refresh brought ec-2 (no further fetch: the cooldown since the refresh has not passed).
      await waitFor(
        async () => (await Promise.resolve(verifier.verify(route, await token(next), CAM1, T0 + REFRESH_MS + 1)).catch(() => undefined)) !== undefined,
        5_000,
        'the refreshed set to hold ec-2',
      );
      assert.equal(jwks.requests, 2);
    } finally {
      jwks.mode = 'ok';
      jwks.keys = [rsa.jwk, ec.jwk, ed.jwk];
    }
  });

  it('a JWKS that fails (500, reset, timeout, too large) is logged, never thrown: held keys keep working, unknown kids are refused', async () => {
    const lines: string[] = [];
    const verifier = new JwtVerifier({ log: captureLog(lines) });
    const route = routeFor(url, { jwksTimeoutMs: 200, cacheMs: 0 });
    jwks.requests = 0;
    await verifier.verify(route, await token(rsa), CAM1, T0);
    let now = T0;
    for (const mode of ['error', 'reset', 'hang', 'huge'] as const) {
      jwks.mode = mode;
      now += COOLDOWN_MS;
      const before = jwks.requests;
      const refused = await refusal(async () => verifier.verify(route, await token({ ...ec, kid: randomKid() }), CAM1, now));
      assert.equal(refused.status, 403, mode);
      assert.equal(jwks.requests, before + 1, `${mode}: one attempt`);
      // The failed attempt starts the cooldown too: more unknown kids make no fetch.
      await Promise.all(
        Array.from({ length: 20 }, async () => refusal(async () => verifier.verify(route, await token({ ...ec, kid: randomKid() }), CAM1, now + 1))),
      );
      assert.equal(jwks.requests, before + 1, `${mode}: no retry inside the cooldown`);
      assert.ok(await verifier.verify(route, await token(ed), CAM1, now + 2), `${mode}: the held keys keep working`);
    }
    jwks.mode = 'ok';
    assert.deepEqual(
      lines.filter((l) => l.startsWith('warn')).map((l) => l.replace(/\(.*\)/, '(…)')),
      Array(4).fill(`warn JWKS ${url}: fetch failed (…); keeping the keys held`),
    );
    const warnings = lines.filter((l) => l.startsWith('warn')).join('\n');
    for (const reason of [/answered 500/, /socket hang up|ECONNRESET/, /no answer within 200 ms/, /answer larger than 262144 bytes/])
      assert.match(warnings, reason);
  });

  it('with the JWKS server gone, keys fetched before keep working and tokens of other keys get 403', async () => {
    const gone = new JwksServer();
    gone.keys = [rsa.jwk];
    const goneUrl = await gone.start();
    const lines: string[] = [];
    const verifier = new JwtVerifier({ log: captureLog(lines) });
    const route = routeFor(goneUrl, { cacheMs: 0 });
    await verifier.verify(route, await token(rsa), CAM1, T0);
    await gone.close();
    const stale = T0 + REFRESH_MS + 1;
    assert.ok(await verifier.verify(route, await token(rsa), CAM1, stale), 'past the refresh time, the server refusing connections');
    const refused = await refusal(async () => verifier.verify(route, await token(ec), CAM1, stale + COOLDOWN_MS));
    assert.equal(refused.status, 403);
    assert.match(lines.join('\n'), /fetch failed \(connect ECONNREFUSED/);
    const never = new JwtVerifier({ log: captureLog([]) });
    assert.match((await refusal(async () => never.verify(route, await token(rsa), CAM1, T0))).message, /could not be fetched/);
  });

  it('close() aborts a JWKS fetch in flight (engine shutdown): the token waiting for it is refused at once', { timeout: 20_000 }, async () => {
    const verifier = new JwtVerifier({ log: captureLog([]) });
    const route = routeFor(url, { jwksTimeoutMs: 60_000 });
    jwks.mode = 'hang';
    jwks.requests = 0;
    try {
      const waiting = verifier.verify(route, await token(rsa), CAM1, T0);
      await waitFor(() => jwks.requests === 1, 5_000, 'the fetch to reach the JWKS server');
      verifier.close();
      assert.match((await refusal(() => waiting)).message, /could not be fetched/);
      assert.match((await refusal(async () => verifier.verify(route, await token(ec), CAM1, T0 + COOLDOWN_MS))).message, /could not be fetched/);
      assert.equal(jwks.requests, 1, 'no fetch after close');
    } finally {
      jwks.mode = 'ok';
    }
  });

  it('never checks an HMAC token with a public key or a key from the JWKS (HS/RS confusion)', async () => {
    const verifier = new JwtVerifier({ log: captureLog([]) });
    const pem = new TextEncoder().encode(await exportSPKI((await generateKeyPair('RS256', { extractable: true })).publicKey));
    const rsaPem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const both = routeFor(url, { secrets: [{ secret: SECRET }], algorithms: ['HS256', 'RS256'] });
    for (const secret of [pem, rsaPem]) {
      const forged = await token({ alg: 'HS256', kid: 'rsa-1', privateKey: secret });
      assert.match((await refusal(() => verifier.verify(both, forged, CAM1, T0))).message, /bad signature/);
    }
    // A shared secret published in the JWKS (kty "oct") is never used, even for an HS256 token naming its kid.
    const leaked = await generateSecret('HS256', { extractable: true });
    jwks.keys = [rsa.jwk, { ...(await exportJWK(leaked)), kid: 'oct-1' }];
    try {
      const viaJwks = await token({ alg: 'HS256', kid: 'oct-1', privateKey: leaked });
      assert.match((await refusal(() => new JwtVerifier({ log: captureLog([]) }).verify(both, viaJwks, CAM1, T0))).message, /bad signature/);
      assert.match((await refusal(() => verifier.verify(routeFor(url), viaJwks, CAM1, T0))).message, /does not accept/);
      // An RS256 token is never checked with the route's secret.
      const rsWithSecret = await refusal(async () =>
        verifier.verify(both, await token({ alg: 'RS256', kid: 'nope', privateKey: rsa.privateKey }), CAM1, T0 + COOLDOWN_MS * 10),
      );
      assert.match(rsWithSecret.message, /the JWKS has no key with kid "nope"/);
    } finally {
      jwks.keys = [rsa.jwk, ec.jwk, ed.jwk];
    }
  });

  it('answers a JWKS token from the cache synchronously, and uses a new jwksUrl from the next request', async () => {
    const verifier = new JwtVerifier({ log: captureLog([]) });
    const route = routeFor(url);
    const t = await token(ed);
    assert.ok(verifier.verify(route, t, CAM1, T0) instanceof Promise, 'the first check is asynchronous');
    await verifier.verify(route, t, CAM1, T0);
    const hit = verifier.verify(route, t, CAM1, T0 + 2_000);
    assert.ok(!(hit instanceof Promise), 'a repeat is answered from the cache, synchronously');
    const second = new JwksServer();
    second.keys = [rsa.jwk];
    const secondUrl = await second.start();
    try {
      const moved = routeFor(secondUrl);
      assert.match((await refusal(() => verifier.verify(moved, t, CAM1, T0 + 2_000))).message, /no key with kid "ed-1"/);
      assert.equal(second.requests, 1);
      assert.ok(await verifier.verify(moved, await token(rsa), CAM1, T0 + 2_000), 'a key of the new JWKS');
    } finally {
      await second.close();
    }
  });
});
