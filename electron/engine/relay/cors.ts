/**
 * CORS on the relay port: a web player on another origin must be able to read every answer
 * of a route, the relay's own JSON errors included (else it sees only "Failed to fetch"), and
 * its preflights are answered here, never forwarded to a node. Today every route allows any
 * origin without credentials; per-route CORS settings will grow in this file. The admin port
 * never sends CORS allowances (it does not use this file).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How long a browser may cache a preflight answer, seconds. */
export const CORS_PREFLIGHT_MAX_AGE_S = 600;
/** Most request header names echoed in access-control-allow-headers. */
export const CORS_MAX_ALLOWED_HEADERS = 32;

/** Headers of the relay's own answers a cross-origin script may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'content-length, content-range, accept-ranges, location, retry-after, allow';
/** A header name as RFC 9110 defines a token (a "simple" name that is safe to echo). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** A method name that may be echoed. */
const METHOD = /^[A-Z]{1,16}$/;

/** The CORS headers on every relay answer of a route (errors and redirects included). */
export function corsHeaders(): Record<string, string> {
  return { 'access-control-allow-origin': '*', 'access-control-expose-headers': EXPOSED_HEADERS };
}

/** True for a CORS preflight: OPTIONS with Access-Control-Request-Method. */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && typeof req.headers['access-control-request-method'] === 'string';
}

/** The requested header names if every one is a plain header name (at most CORS_MAX_ALLOWED_HEADERS), else none. */
function allowedHeaders(requested: string | undefined): string | undefined {
  if (!requested) return undefined;
  const names = requested
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0 || names.length > CORS_MAX_ALLOWED_HEADERS || !names.every((name) => HEADER_NAME.test(name))) return undefined;
  return names.join(', ');
}

/** Answer a preflight with 204: `methods` are the route's methods, or 'any' (file routes pass every method through). */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, methods: readonly string[] | 'any'): void {
  const requested = String(req.headers['access-control-request-method']);
  const allowed = methods === 'any' ? ['GET', 'HEAD', ...(METHOD.test(requested) && requested !== 'GET' && requested !== 'HEAD' ? [requested] : [])] : methods;
  const headers: Record<string, string | number> = {
    ...corsHeaders(),
    'access-control-allow-methods': allowed.join(', '),
    'access-control-max-age': CORS_PREFLIGHT_MAX_AGE_S,
    'content-length': 0,
    'cache-control': 'no-store',
    vary: 'Access-Control-Request-Headers',
  };
  const allowHeaders = allowedHeaders(req.headers['access-control-request-headers']);
  if (allowHeaders) headers['access-control-allow-headers'] = allowHeaders;
  res.writeHead(204, headers);
  res.end();
}
