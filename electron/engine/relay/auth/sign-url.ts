/**
 * Making signed viewer URLs for a route (admin API `signUrl`, `relaydeck sign`): the
 * route's newest key signs the path (or a prefix of it) until now + ttl.
 */
import type { RouteConfig } from '../../../../shared/config.js';
import { RelayError } from '../../core/errors.js';
import { parseRequestTarget } from '../../routing/target.js';
import { makeSign, SIGN_PARAM, SIGNED_PREFIX_PARAM } from './signing.js';

/** Longest lifetime a signed URL may get, seconds (30 days). */
export const MAX_SIGN_TTL_SECONDS = 30 * 24 * 3600;

export interface SignedPath {
  /** Path and query to append to the relay URL. */
  pathAndQuery: string;
  /** Unix seconds after which the URL is refused with 410. */
  expiresAt: number;
  keyId: string;
}

/** "90", "90s", "15m", "1h", "2d" → seconds; throws on anything else. */
export function parseTtl(text: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!match) throw new RelayError('BAD_CONFIG', `ttl: expected a number of seconds or e.g. "15m", "1h", "2d", got "${text}"`);
  const seconds = Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (seconds < 1 || seconds > MAX_SIGN_TTL_SECONDS) throw new RelayError('BAD_CONFIG', `ttl: must be 1 s to ${MAX_SIGN_TTL_SECONDS} s, got ${seconds}`);
  return seconds;
}

/** Sign `path` (or `prefix`, which must be a prefix of it) on `route` for `ttlSeconds`. */
export function signPath(route: RouteConfig, path: string, ttlSeconds: number, prefix?: string, now = Date.now()): SignedPath {
  const keys = route.auth?.keys ?? [];
  const key = keys[keys.length - 1];
  if (!key) throw new RelayError('BAD_CONFIG', `route "${route.id}" has no signing keys (routes[].auth.keys)`);
  const target = parseRequestTarget(path);
  if (target.query) throw new RelayError('BAD_CONFIG', 'path: give the path without a query');
  if (!target.path.startsWith(route.path)) throw new RelayError('BAD_CONFIG', `path: "${target.path}" is not under route "${route.id}" (${route.path})`);
  // The relay checks signatures on the normal form of the path (target.ts), so the prefix is signed in that form too.
  const signedPrefix = prefix === undefined ? undefined : normalPrefix(prefix);
  if (signedPrefix !== undefined && !target.path.startsWith(signedPrefix))
    throw new RelayError('BAD_CONFIG', `prefix: "${prefix}" must start with "/" and be a prefix of the path`);
  const expiresAt = Math.floor(now / 1000) + ttlSeconds;
  const sign = makeSign(key.secret, signedPrefix ?? target.path, expiresAt);
  const query = `?${SIGN_PARAM}=${sign}${signedPrefix ? `&${SIGNED_PREFIX_PARAM}=${encodeURIComponent(signedPrefix)}` : ''}`;
  return { pathAndQuery: target.path + query, expiresAt, keyId: key.id };
}

/** A signed prefix in the normal form requests are checked in ("/p/%73ec/" → "/p/sec/"). */
function normalPrefix(prefix: string): string {
  if (!prefix.startsWith('/')) throw new RelayError('BAD_CONFIG', `prefix: "${prefix}" must start with "/" and be a prefix of the path`);
  try {
    return parseRequestTarget(prefix.replace(/[?#]/g, encodeURIComponent)).path;
  } catch (error) {
    throw new RelayError('BAD_CONFIG', `prefix: ${(error as Error).message}`);
  }
}
