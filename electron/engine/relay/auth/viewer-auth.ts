/**
 * Viewer auth for a route, checked before anything is redirected or proxied:
 * IP deny/allow lists first (403), then credentials when the route has keys, tokens or JWT
 * settings: a signed URL, a static token or a JWT (any one is enough). Missing → 401,
 * invalid → 403, expired → 410. A JWT is only found here (`?jwt=` or `Authorization:
 * Bearer`); its check may have to fetch keys, so the relay runs it after admission
 * (jwt.ts). The credentials are removed from the query before it goes anywhere, unless
 * the route says to pass them on.
 */
import type { IncomingMessage } from 'node:http';
import { parseExpiry, type RouteConfig } from '../../../../shared/config.js';
import { RelayError } from '../../core/errors.js';
import type { RequestTarget } from '../../routing/target.js';
import { matchesAny, parseCidr, type Cidr } from './cidr.js';
import { AUTH_PARAMS, JWT_PARAM, SIGN_PARAM, SIGNED_PREFIX_PARAM, TOKEN_PARAM, verifySign } from './signing.js';
import { timingSafeEqual } from 'node:crypto';
import { peerAddress } from '../../core/net/address.js';
import { sha256 } from '../../core/net/secret.js';

/** What passed the check. */
export interface AuthResult {
  /** The query to use upstream and in redirects (credentials removed unless passParams). */
  query: string;
  /** Label of the static token used, for the per-label stats. */
  tokenLabel?: string;
  /** A JWT to verify before the viewer is served (the route has auth.jwt and no other credential passed). */
  jwt?: string;
}

const cidrCache = new WeakMap<readonly string[], Cidr[]>();

function cidrsOf(list: readonly string[]): Cidr[] {
  let parsed = cidrCache.get(list);
  if (!parsed) {
    parsed = list.map((text) => parseCidr(text));
    cidrCache.set(list, parsed);
  }
  return parsed;
}

/** The viewer's address: the socket's, or from X-Forwarded-For when the socket is a trusted proxy. */
export function viewerAddress(req: IncomingMessage, trustedProxies: readonly string[]): string {
  const socketAddress = peerAddress(req.socket);
  if (trustedProxies.length === 0) return socketAddress;
  const trusted = cidrsOf(trustedProxies);
  if (!matchesAny(trusted, socketAddress)) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i -= 1) {
    if (!matchesAny(trusted, hops[i])) return hops[i];
  }
  return hops[0] ?? socketAddress;
}

/** Split a raw query ("?a=1&sign=x") into its pairs, keeping each raw pair as sent. */
function queryPairs(query: string): { key: string; value: string; raw: string }[] {
  if (query.length <= 1) return [];
  return query
    .slice(1)
    .split('&')
    .filter((raw) => raw.length > 0)
    .map((raw) => {
      const at = raw.indexOf('=');
      const decode = (text: string) => {
        try {
          return decodeURIComponent(text.replace(/\+/g, ' '));
        } catch {
          return text;
        }
      };
      return { key: decode(at < 0 ? raw : raw.slice(0, at)), value: decode(at < 0 ? '' : raw.slice(at + 1)), raw };
    });
}

/** The query without the auth parameters (raw pairs kept as sent). */
export function withoutAuthParams(query: string): string {
  const kept = queryPairs(query).filter((p) => !AUTH_PARAMS.includes(p.key));
  return kept.length > 0 ? `?${kept.map((p) => p.raw).join('&')}` : '';
}

/** Find the static token in constant time per entry; returns the entry or undefined. */
function findToken(given: string, tokens: NonNullable<NonNullable<RouteConfig['auth']>['tokens']>) {
  const givenDigest = sha256(given);
  let found: (typeof tokens)[number] | undefined;
  for (const entry of tokens) if (timingSafeEqual(sha256(entry.token), givenDigest) && !found) found = entry;
  return found;
}

/** The JWT of a request: the `jwt` query parameter, else an `Authorization: Bearer` header. */
function jwtOf(params: Map<string, string>, authorization: string | undefined): string | undefined {
  const fromQuery = params.get(JWT_PARAM);
  if (fromQuery) return fromQuery;
  return /^Bearer +([^\s]+) *$/i.exec(authorization ?? '')?.[1];
}

/** What credentials a route takes, for the 401 message. */
function credentialKinds(auth: NonNullable<RouteConfig['auth']>): string {
  const kinds: string[] = [];
  if (auth.keys?.length) kinds.push(`a signed URL (?${SIGN_PARAM}=)`);
  if (auth.tokens?.length) kinds.push(`a token (?${TOKEN_PARAM}=)`);
  if (auth.jwt) kinds.push(`a JWT (?${JWT_PARAM}= or Authorization: Bearer)`);
  return kinds.join(' or ');
}

/**
 * Check a request against its route's auth; throws the 401/403/410 RelayError. A JWT, when the
 * route takes one and no signed URL or token passed, is returned for the caller to verify.
 */
export function checkViewerAuth(route: RouteConfig, target: RequestTarget, clientAddress: string, authorization?: string, now = Date.now()): AuthResult {
  const auth = route.auth;
  if (!auth) return { query: target.query };
  if (auth.deny?.length && matchesAny(cidrsOf(auth.deny), clientAddress))
    throw new RelayError('IP_DENIED', `address ${clientAddress} is denied on route "${route.id}"`);
  if (auth.allow?.length && !matchesAny(cidrsOf(auth.allow), clientAddress))
    throw new RelayError('IP_DENIED', `address ${clientAddress} is not allowed on route "${route.id}"`);
  const query = auth.passParams ? target.query : withoutAuthParams(target.query);
  const needsCredentials = (auth.keys?.length ?? 0) > 0 || (auth.tokens?.length ?? 0) > 0 || auth.jwt !== undefined;
  if (!needsCredentials) return { query };
  const params = new Map(queryPairs(target.query).map((p) => [p.key, p.value]));
  const sign = params.get(SIGN_PARAM);
  const token = params.get(TOKEN_PARAM);
  const jwt = auth.jwt ? jwtOf(params, authorization) : undefined;
  if (sign === undefined && token === undefined && jwt === undefined)
    throw new RelayError('AUTH_MISSING', `route "${route.id}" needs ${credentialKinds(auth)}`);
  let expired = false;
  if (sign !== undefined && auth.keys?.length) {
    const check = verifySign(
      sign,
      target.path,
      params.get(SIGNED_PREFIX_PARAM),
      auth.keys.map((k) => k.secret),
      Math.floor(now / 1000),
    );
    if (check.ok) return { query };
    expired ||= check.reason === 'expired';
  }
  if (token !== undefined && auth.tokens?.length) {
    const entry = findToken(token, auth.tokens);
    if (entry) {
      if (entry.expiresAt === undefined || parseExpiry(entry.expiresAt) > now) return { query, tokenLabel: entry.label };
      expired = true;
    }
  }
  if (jwt !== undefined) return { query, jwt };
  if (expired) throw new RelayError('AUTH_EXPIRED', `the credentials for route "${route.id}" have expired`);
  throw new RelayError('AUTH_INVALID', `the credentials for route "${route.id}" are not valid`);
}
