/**
 * JWT viewer tokens (routes[].auth.jwt): the token comes as `?jwt=` or `Authorization: Bearer`
 * (jwtFromRequest), and JwtVerifier checks it for a route and a request: its algorithm is one
 * the route accepts ("none" never is), its signature is checked with keys of the algorithm's
 * kind only (an HMAC token with the route's shared secrets, a public-key token with its JWKS,
 * never the other way: the HS/RS confusion attack), then exp, nbf (with the route's clock
 * skew), aud, iss, and the scope claim against the request path and stream key.
 *
 * A verified token is cached per route (bounded, least recently used dropped first) until
 * min(exp, cacheMs), so a player reloading a playlist every 2 s pays one signature check, not
 * one per request: `verify` then answers synchronously; otherwise it returns a Promise. The
 * scope is checked on every request, cached or not. Caches follow the config live: a route's
 * cache is dropped when its jwt settings change (a route's object is replaced on every config
 * change; the settings are compared by content, so an unrelated change keeps the cache), and an
 * entry verified with a JWKS key is redone once that JWKS changes. JWKS keys stay per URL
 * across config changes (jwks.ts).
 *
 * Errors are RelayErrors: AUTH_MISSING (401) without a token, AUTH_EXPIRED (410) past exp plus
 * the skew, AUTH_INVALID (403) for anything else, the message saying which check failed.
 * `verify` throws synchronously when it can decide without a signature check (no token, a
 * cached token out of scope), and rejects otherwise.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { decodeProtectedHeader, errors, jwtVerify, type CryptoKey, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { isJwtHmacAlgorithm, jwtAlgorithmsOf, type JwtAuthConfig, type RouteConfig } from '../../../../shared/config.js';
import { RelayError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../core/log.js';
import { JwksStore } from './jwks.js';
import { labelOf, scopeAllows, scopeOf, type JwtScope, type JwtTarget } from './jwt-claims.js';
import { JWT_PARAM } from './signing.js';

export { JWT_PARAM };
export type { JwtTarget };

/** Longest token accepted, characters (a longer one is refused before any parsing). */
export const MAX_JWT_CHARS = 8_192;
/** Most JWKS URLs with a key store at once (the least recently used store is dropped past it). */
export const MAX_JWKS_STORES = 256;
/** Most routes with a token cache at once (the least recently used cache is dropped past it). */
export const MAX_JWT_ROUTE_CACHES = 2_048;

/** A token that passed: its label (the label claim) and when it expires, epoch ms. */
export interface JwtPass {
  label?: string;
  expiresAt: number;
}

/** Counters for the stats and the tests. */
export interface JwtCounters {
  /** Tokens whose signature was checked. */
  verifications: number;
  /** Requests answered from the cache (no signature check). */
  cacheHits: number;
  /** JWKS fetches started, and those that failed, over every JWKS URL. */
  jwksFetches: number;
  jwksFailures: number;
}

/** A verified token as cached: what it allows and until when the verification may be reused. */
interface Verified {
  scope: JwtScope;
  label?: string;
  expiresAt: number;
  validUntil: number;
  /** The JWKS it was verified with and that JWKS's generation then (an HMAC token has none). */
  jwks?: JwksStore;
  generation: number;
}

/** One route's JWT state: its settings (by content), keys derived from them, its token cache. */
interface RouteState {
  config: JwtAuthConfig;
  fingerprint: string;
  algorithms: ReadonlySet<string>;
  secrets: readonly { kid?: string; key: Uint8Array }[];
  cache: Map<string, Verified>;
  pending: Map<string, Promise<Verified>>;
}

/** The JWT of a request: the `jwt` query parameter (first one), else an `Authorization: Bearer` header. */
export function jwtFromRequest(headers: IncomingHttpHeaders, query: string): string | undefined {
  for (const raw of (query.startsWith('?') ? query.slice(1) : query).split('&')) {
    const at = raw.indexOf('=');
    if (at < 0 || raw.slice(0, at) !== JWT_PARAM) continue;
    const value = raw.slice(at + 1);
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return value || undefined;
    }
  }
  const match = /^Bearer +([^\s]+) *$/i.exec(headers.authorization ?? '');
  return match?.[1];
}

const tokenKey = (token: string) => createHash('sha256').update(token).digest('base64');

/** Checks JWT viewer tokens for any route; one per engine. See the file comment. */
export class JwtVerifier {
  private readonly routes = new Map<string, RouteState>();
  private readonly stores = new Map<string, JwksStore>();
  private verifications = 0;
  private cacheHits = 0;
  private closed = false;
  private readonly log: Logger;

  constructor(options: { log?: Logger } = {}) {
    this.log = options.log ?? createLogger('jwt');
  }

  get counters(): JwtCounters {
    let jwksFetches = 0;
    let jwksFailures = 0;
    for (const store of this.stores.values()) {
      jwksFetches += store.fetches;
      jwksFailures += store.failures;
    }
    return { verifications: this.verifications, cacheHits: this.cacheHits, jwksFetches, jwksFailures };
  }

  /** Abort JWKS fetches in flight and start no more (engine shutdown); cached keys and tokens still serve. */
  close(): void {
    this.closed = true;
    for (const store of this.stores.values()) store.close();
  }

  /**
   * Check `token` for a request of `route` (which must have auth.jwt). Answers synchronously
   * from the cache, else with a Promise; throws or rejects the RelayError that refuses the viewer.
   */
  verify(route: RouteConfig, token: string | undefined, target: JwtTarget, now: number = Date.now()): JwtPass | Promise<JwtPass> {
    const jwt = route.auth?.jwt;
    if (!jwt) throw new RelayError('INTERNAL', `route "${route.id}" has no JWT settings (routes[].auth.jwt)`);
    if (!token) throw new RelayError('AUTH_MISSING', `route "${route.id}" needs a JWT (?${JWT_PARAM}= or Authorization: Bearer)`);
    if (token.length > MAX_JWT_CHARS) throw new RelayError('AUTH_INVALID', `the JWT for route "${route.id}" is longer than ${MAX_JWT_CHARS} characters`);
    const state = this.stateOf(route.id, jwt);
    const key = tokenKey(token);
    const cached = state.cache.get(key);
    if (cached) {
      if (now < cached.validUntil && (!cached.jwks || cached.jwks.generation === cached.generation)) {
        state.cache.delete(key);
        state.cache.set(key, cached);
        this.cacheHits += 1;
        return this.admit(route, cached, target);
      }
      state.cache.delete(key);
    }
    let pending = state.pending.get(key);
    if (!pending) {
      pending = this.check(route, state, token, now).finally(() => state.pending.delete(key));
      state.pending.set(key, pending);
    }
    return pending.then((verified) => {
      this.remember(state, key, verified, now);
      return this.admit(route, verified, target);
    });
  }

  /** The route's state for these settings: kept while their content is the same, new (empty cache) when it changed. */
  private stateOf(routeId: string, jwt: JwtAuthConfig): RouteState {
    const held = this.routes.get(routeId);
    if (held?.config === jwt) return held;
    const fingerprint = JSON.stringify(jwt);
    if (held && held.fingerprint === fingerprint) {
      held.config = jwt;
      return held;
    }
    const state: RouteState = {
      config: jwt,
      fingerprint,
      algorithms: new Set(jwtAlgorithmsOf(jwt)),
      secrets: (jwt.secrets ?? []).map((s) => ({ kid: s.kid, key: new TextEncoder().encode(s.secret) })),
      cache: new Map(),
      pending: new Map(),
    };
    this.routes.delete(routeId);
    this.routes.set(routeId, state);
    if (this.routes.size > MAX_JWT_ROUTE_CACHES) this.routes.delete(this.routes.keys().next().value as string);
    return state;
  }

  private remember(state: RouteState, key: string, verified: Verified, now: number): void {
    const { cacheMs, cacheEntries } = state.config;
    if (cacheMs === 0 || cacheEntries === 0 || verified.validUntil <= now) return;
    state.cache.delete(key);
    state.cache.set(key, verified);
    while (state.cache.size > cacheEntries) state.cache.delete(state.cache.keys().next().value as string);
  }

  private admit(route: RouteConfig, verified: Verified, target: JwtTarget): JwtPass {
    if (!scopeAllows(verified.scope, target))
      throw new RelayError('AUTH_INVALID', `the JWT does not allow ${target.path} (stream ${target.streamKey}) on route "${route.id}"`);
    return verified.label === undefined ? { expiresAt: verified.expiresAt } : { label: verified.label, expiresAt: verified.expiresAt };
  }

  /** The full check: header, algorithm, keys, signature, claims; resolves with what the token allows. */
  private async check(route: RouteConfig, state: RouteState, token: string, now: number): Promise<Verified> {
    const jwt = state.config;
    const refuse = (why: string, cause?: unknown) => new RelayError('AUTH_INVALID', `the JWT for route "${route.id}" ${why}`, { cause });
    let alg: unknown;
    let kid: unknown;
    try {
      ({ alg, kid } = decodeProtectedHeader(token));
    } catch (error) {
      throw refuse('is malformed (its header cannot be read)', error);
    }
    if (typeof alg !== 'string') throw refuse('is malformed (its header has no "alg")');
    if (kid !== undefined && typeof kid !== 'string') throw refuse('is malformed (its "kid" is not a string)');
    if (alg.toLowerCase() === 'none') throw refuse('is unsigned (alg "none"), which is never accepted');
    if (!state.algorithms.has(alg))
      throw refuse(`is signed with ${JSON.stringify(alg.slice(0, 32))}, which the route does not accept (it accepts ${[...state.algorithms].join(', ')})`);
    this.verifications += 1;
    let keys: (CryptoKey | Uint8Array)[];
    let jwks: JwksStore | undefined;
    let generation = 0;
    if (isJwtHmacAlgorithm(alg)) {
      keys = secretsFor(state.secrets, kid);
      if (keys.length === 0)
        throw refuse(
          kid === undefined
            ? 'names no kid, and every secret of the route has one'
            : `names kid ${JSON.stringify(kid.slice(0, 64))}, which no secret of the route has`,
        );
    } else {
      jwks = this.storeFor(jwt.jwksUrl!);
      const timing = { refreshMs: jwt.jwksRefreshMs, cooldownMs: jwt.jwksCooldownMs, timeoutMs: jwt.jwksTimeoutMs };
      try {
        keys = await jwks.keysFor({ alg, kid }, timing, now);
      } catch (error) {
        if (error instanceof RelayError) throw refuse(`cannot be checked: ${error.message}`, error);
        throw error;
      }
      generation = jwks.generation;
    }
    const options: JWTVerifyOptions = {
      algorithms: [alg],
      audience: jwt.audience,
      issuer: jwt.issuer,
      clockTolerance: jwt.clockSkewSeconds,
      currentDate: new Date(now),
      requiredClaims: ['exp'],
    };
    let payload: JWTPayload | undefined;
    for (const key of keys) {
      try {
        ({ payload } = await jwtVerify(token, key, options));
        break;
      } catch (error) {
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        throw refusalOf(route, error);
      }
    }
    if (!payload) throw refuse('has a bad signature');
    let scope: JwtScope;
    try {
      scope = scopeOf(payload, jwt);
    } catch (error) {
      throw refuse(`is refused: ${(error as Error).message}`);
    }
    const expiresAt = (payload.exp as number) * 1_000;
    return { scope, label: labelOf(payload, jwt.labelClaim), expiresAt, validUntil: Math.min(expiresAt, now + jwt.cacheMs), jwks, generation };
  }

  private storeFor(url: string): JwksStore {
    let store = this.stores.get(url);
    if (store) this.stores.delete(url);
    else {
      store = new JwksStore(url, this.log);
      if (this.closed) store.close();
    }
    this.stores.set(url, store);
    if (this.stores.size > MAX_JWKS_STORES) this.stores.delete(this.stores.keys().next().value as string);
    return store;
  }
}

/** The secrets to try: the one with the token's kid, else every secret without a kid. */
function secretsFor(secrets: RouteState['secrets'], kid: unknown): Uint8Array[] {
  const named = kid === undefined ? undefined : secrets.find((s) => s.kid === kid);
  if (named) return [named.key];
  return secrets.filter((s) => s.kid === undefined).map((s) => s.key);
}

/** jose's verdict on a token whose signature held (or could not be checked), as the RelayError the viewer gets. */
function refusalOf(route: RouteConfig, error: unknown): RelayError {
  const prefix = `the JWT for route "${route.id}"`;
  if (error instanceof errors.JWTExpired) {
    const exp = (error.payload as JWTPayload).exp;
    return new RelayError('AUTH_EXPIRED', `${prefix} expired${typeof exp === 'number' ? ` at ${new Date(exp * 1_000).toISOString()}` : ''}`, { cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const words: Record<string, string> = {
      nbf: 'is not valid yet (its "nbf" is in the future)',
      aud: 'is for another audience ("aud")',
      iss: 'is from another issuer ("iss")',
      iat: 'was issued in the future ("iat")',
    };
    const why = error.reason === 'missing' ? `has no "${error.claim}" claim` : (words[error.claim] ?? `fails its "${error.claim}" check (${error.reason})`);
    return new RelayError('AUTH_INVALID', `${prefix} ${why}`, { cause: error });
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return new RelayError('AUTH_INVALID', `${prefix} uses an algorithm the route does not accept`, { cause: error });
  if (error instanceof errors.JOSEError)
    return new RelayError('AUTH_INVALID', `${prefix} is malformed or cannot be checked (${error.message})`, { cause: error });
  return new RelayError('INTERNAL', `checking the JWT for route "${route.id}" failed: ${(error as Error).message}`, { cause: error });
}
