/**
 * Signed viewer URLs: `?sign=EXPIRY-HMAC`, where EXPIRY is a Unix time in seconds and HMAC
 * is hex HMAC-SHA256 (key: a route secret) over the signed path and the expiry. A URL may
 * sign a path prefix instead (`&sp=/live/cam1/`), so one signature covers an HLS playlist
 * and its segments. Checked in constant time against every active key (rotation).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Query parameter holding the signature. */
export const SIGN_PARAM = 'sign';
/** Query parameter holding a signed path prefix (optional). */
export const SIGNED_PREFIX_PARAM = 'sp';
/** Query parameter holding a static token. */
export const TOKEN_PARAM = 'token';
/** Query parameter holding a JWT viewer token (routes[].auth.jwt; relay/auth/jwt.ts). */
export const JWT_PARAM = 'jwt';
/** Every query parameter that carries viewer credentials (stripped before upstream). */
export const AUTH_PARAMS: readonly string[] = [SIGN_PARAM, SIGNED_PREFIX_PARAM, TOKEN_PARAM, JWT_PARAM];

export function signatureOf(secret: string, signedPath: string, expirySeconds: number): string {
  return createHmac('sha256', secret).update(`${signedPath}\n${expirySeconds}`).digest('hex');
}

/** The `sign` value for a path (or prefix) valid until `expirySeconds`. */
export function makeSign(secret: string, signedPath: string, expirySeconds: number): string {
  return `${expirySeconds}-${signatureOf(secret, signedPath, expirySeconds)}`;
}

export type SignCheck = { ok: true } | { ok: false; reason: 'malformed' | 'invalid' | 'expired' | 'scope' };

/** Verify `sign` for `path`, trying every secret; `prefix` is the signed prefix when given. */
export function verifySign(sign: string, path: string, prefix: string | undefined, secrets: readonly string[], nowSeconds: number): SignCheck {
  const match = /^(\d{1,12})-([0-9a-f]{64})$/.exec(sign);
  if (!match) return { ok: false, reason: 'malformed' };
  const expiry = Number(match[1]);
  const given = Buffer.from(match[2], 'hex');
  const signedPath = prefix ?? path;
  if (prefix !== undefined && (!prefix.startsWith('/') || !path.startsWith(prefix))) return { ok: false, reason: 'scope' };
  let valid = false;
  for (const secret of secrets) {
    const expected = Buffer.from(signatureOf(secret, signedPath, expiry), 'hex');
    if (timingSafeEqual(expected, given)) valid = true; // no early exit: same work for every key
  }
  if (!valid) return { ok: false, reason: 'invalid' };
  if (expiry < nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true };
}
