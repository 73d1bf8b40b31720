/**
 * The field types of a route's CORS settings (`routes[].corsOrigins`, `corsCredentials`,
 * `corsExposeHeaders`; their defaults and docs sit on the fields in routes.ts), and the one
 * rule between them that a per-field schema cannot express. The relay applies them in
 * electron/engine/relay/cors.ts.
 */
import { array, SchemaError, string, type Schema } from '../schema.js';

/** Most entries `routes[].corsOrigins` may hold. */
export const MAX_CORS_ORIGINS = 64;
/** Most names `routes[].corsExposeHeaders` may hold. */
export const MAX_CORS_EXPOSED_HEADERS = 32;
/** The corsOrigins entry that allows any origin (without credentials). */
export const ANY_ORIGIN = '*';

/** A header name as RFC 9110 defines a token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** scheme://host[:port], nothing after it. */
const ORIGIN_SHAPE = /^([a-z][a-z0-9+.-]*):\/\/([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/;

/** Why `text` is not an origin as a browser sends it in the Origin header, or undefined when it is. */
function originProblem(text: string): string | undefined {
  const shape = ORIGIN_SHAPE.exec(text);
  if (!shape) return `expected "*" or an origin "scheme://host[:port]" in lowercase, with no path or trailing "/", got "${text.slice(0, 80)}"`;
  if (shape[1] !== 'http' && shape[1] !== 'https') return undefined;
  // Browsers send http(s) origins in one form (no default port, punycode host): another form would never match.
  let sent: string;
  try {
    sent = new URL(text).origin;
  } catch {
    return `expected an origin "scheme://host[:port]", got "${text.slice(0, 80)}"`;
  }
  return sent === text ? undefined : `expected the origin as browsers send it, "${sent}", got "${text.slice(0, 80)}"`;
}

/** One corsOrigins entry: "*" or an origin as browsers send it. */
function corsOrigin(): Schema<string> {
  const text = string({ min: 1, max: 300 });
  return {
    parse(value, path) {
      const origin = text.parse(value, path);
      const problem = origin === ANY_ORIGIN ? undefined : originProblem(origin);
      if (problem) throw new SchemaError(path, problem);
      return origin;
    },
  };
}

/** `routes[].corsOrigins`: ["*"], or a list of origins (empty = no origin is allowed). */
export function corsOrigins(): Schema<string[]> {
  const list = array(corsOrigin(), MAX_CORS_ORIGINS);
  return {
    parse(value, path) {
      const origins = list.parse(value, path);
      if (origins.includes(ANY_ORIGIN) && origins.length > 1) throw new SchemaError(path, '"*" allows every origin: it must be the only entry');
      return origins;
    },
  };
}

/** `routes[].corsExposeHeaders`: response header names a cross-origin script may read. */
export function corsExposedHeaders(): Schema<string[]> {
  return array(string({ min: 1, max: 64, pattern: HEADER_NAME, patternName: 'a header name' }), MAX_CORS_EXPOSED_HEADERS);
}

/**
 * The rule between the fields (the Fetch standard: a credentialed answer must name its origin,
 * never "*"): the message for `corsCredentials`, or undefined when the route keeps it.
 */
export function corsCredentialsProblem(route: { corsOrigins: readonly string[]; corsCredentials: boolean }): string | undefined {
  if (!route.corsCredentials || !route.corsOrigins.includes(ANY_ORIGIN)) return undefined;
  return 'must be false when corsOrigins is ["*"]: a credentialed answer names the origin it allows, so list the origins';
}
