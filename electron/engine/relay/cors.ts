/**
 * CORS on the relay port, per route (`routes[].corsOrigins`, `corsCredentials`,
 * `corsExposeHeaders`; defaults and meaning on the fields, shared/config/routes.ts). A web
 * player on an allowed origin must be able to read every answer of its route: redirects (a
 * fetch that follows a 302 needs the allowance on the 302), proxied files, FLV, HLS
 * playlists and segments, and the relay's own JSON errors (else it sees only "Failed to
 * fetch"). The route's policy is the only source: the relay server sets its headers on the
 * response as soon as the route is known (applyCors), and a node's own access-control-*
 * headers are dropped from what it forwards (underRouteCors). A request from an origin the
 * route does not allow is answered as usual, without any allowance: browsers enforce CORS.
 * Preflights are answered here, never forwarded to a node. A request that matches no route
 * gets the default policy. The admin port never sends CORS allowances (it does not use this file).
 */
import type { IncomingMessage, OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { ANY_ORIGIN, DEFAULT_CORS_CREDENTIALS, DEFAULT_CORS_EXPOSE_HEADERS, DEFAULT_CORS_ORIGINS, type RouteConfig } from '../../../shared/config.js';

/** How long a browser may cache a preflight answer, seconds. */
export const CORS_PREFLIGHT_MAX_AGE_S = 600;
/** Most request header names echoed in access-control-allow-headers. */
export const CORS_MAX_ALLOWED_HEADERS = 32;

/** A route's CORS settings (a RouteConfig is one). */
export type CorsPolicy = Pick<RouteConfig, 'corsOrigins' | 'corsCredentials' | 'corsExposeHeaders'>;

/** The policy of a route that sets none, and of answers outside any route. */
export const DEFAULT_CORS_POLICY: CorsPolicy = {
  corsOrigins: DEFAULT_CORS_ORIGINS,
  corsCredentials: DEFAULT_CORS_CREDENTIALS,
  corsExposeHeaders: DEFAULT_CORS_EXPOSE_HEADERS,
};

/** A header name as RFC 9110 defines a token (a "simple" name that is safe to echo). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** A method name that may be echoed. */
const METHOD = /^[A-Z]{1,16}$/;
const CORS_HEADER_PREFIX = 'access-control-';

/** True when the answer depends on the request's Origin (a list of origins, or credentials): it then carries `Vary: Origin`. */
export function dependsOnOrigin(policy: CorsPolicy): boolean {
  return policy.corsCredentials || !policy.corsOrigins.includes(ANY_ORIGIN);
}

/**
 * The access-control-allow-origin value for a request from `origin`: "*" when the route
 * allows any origin without credentials, the Origin echoed when the route lists it, else
 * undefined (no allowance). With credentials the answer always names the origin, never "*"
 * (a "*" with credentials, which validation refuses, allows nothing).
 */
export function allowedOrigin(policy: CorsPolicy, origin: string | undefined): string | undefined {
  if (policy.corsOrigins.includes(ANY_ORIGIN)) return policy.corsCredentials ? undefined : ANY_ORIGIN;
  return origin !== undefined && policy.corsOrigins.includes(origin) ? origin : undefined;
}

/** The CORS headers of an answer (not a preflight) on a route with `policy` to a request from `origin`. */
export function corsHeaders(policy: CorsPolicy = DEFAULT_CORS_POLICY, origin?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const allowed = allowedOrigin(policy, origin);
  if (allowed !== undefined) {
    headers['access-control-allow-origin'] = allowed;
    if (policy.corsCredentials) headers['access-control-allow-credentials'] = 'true';
    if (policy.corsExposeHeaders.length > 0) headers['access-control-expose-headers'] = policy.corsExposeHeaders.join(', ');
  }
  if (dependsOnOrigin(policy)) headers.vary = 'Origin';
  return headers;
}

/** `current` (a Vary value, maybe absent) with the names of `added` it lacks appended; "*" stays alone. */
export function mergeVary(current: OutgoingHttpHeader | undefined, added: OutgoingHttpHeader): string {
  const names = (value: OutgoingHttpHeader | undefined) =>
    String(Array.isArray(value) ? value.join(',') : (value ?? ''))
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
  const merged = names(current);
  if (merged.includes('*')) return '*';
  for (const name of names(added)) if (!merged.some((have) => have.toLowerCase() === name.toLowerCase())) merged.push(name);
  return merged.join(', ');
}

/** The request's Origin header, when it has one. */
function originOf(req: IncomingMessage): string | undefined {
  return typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
}

/** The CORS headers of one answer, ready to set on a response. */
interface CorsAnswer {
  /** The access-control-* fields, as [name, value] pairs. */
  readonly allowance: ReadonlyArray<readonly [string, string]>;
  /** The Vary field names the answer adds, if any. */
  readonly vary: string | undefined;
}

function answerOf(headers: Record<string, string>): CorsAnswer {
  const { vary, ...allowance } = headers;
  return { allowance: Object.entries(allowance), vary };
}

/** True when two answers set the same fields (the same object, or equal ones from another policy). */
function sameAnswer(a: CorsAnswer, b: CorsAnswer): boolean {
  if (a === b) return true;
  if (a.vary !== b.vary || a.allowance.length !== b.allowance.length) return false;
  return a.allowance.every(([name, value], i) => b.allowance[i][0] === name && b.allowance[i][1] === value);
}

/** The answers of policies that do not depend on the request's Origin, one per policy object (a route's lives as long as its config). */
const fixedAnswers = new WeakMap<CorsPolicy, CorsAnswer>();

function corsAnswer(policy: CorsPolicy, origin: string | undefined): CorsAnswer {
  if (dependsOnOrigin(policy)) return answerOf(corsHeaders(policy, origin));
  let answer = fixedAnswers.get(policy);
  if (!answer) {
    answer = answerOf(corsHeaders(policy));
    fixedAnswers.set(policy, answer);
  }
  return answer;
}

/** The answer applyCors last set on a response. */
const APPLIED = Symbol('relaydeck.corsApplied');
type CorsResponse = ServerResponse & { [APPLIED]?: CorsAnswer };

/**
 * Set the route's CORS headers on `res` before anything is written, replacing any set before
 * (the default policy, until the route is known; only this file sets access-control-* fields).
 * Every later answer on `res` keeps them: writeHead merges its own fields with those set here.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, policy: CorsPolicy = DEFAULT_CORS_POLICY): void {
  const answer = corsAnswer(policy, originOf(req));
  const marked = res as CorsResponse;
  const applied = marked[APPLIED];
  // The route's policy says what the default already said (the usual case): nothing to change.
  if (applied !== undefined && sameAnswer(applied, answer)) return;
  if (applied !== undefined) for (const name of res.getHeaderNames()) if (name.startsWith(CORS_HEADER_PREFIX)) res.removeHeader(name);
  for (const [name, value] of answer.allowance) res.setHeader(name, value);
  if (answer.vary) res.setHeader('vary', mergeVary(res.getHeader('vary'), answer.vary));
  marked[APPLIED] = answer;
}

/** True for an access-control-* field name, in any case (checked per header of every answer: the first letter decides most). */
function isCorsField(name: string): boolean {
  return name.length > CORS_HEADER_PREFIX.length && (name.charCodeAt(0) | 0x20) === 0x61 && name.toLowerCase().startsWith(CORS_HEADER_PREFIX);
}

/**
 * A node's answer headers as the viewer gets them on a route: the node's access-control-*
 * dropped (the route's, set on `res` by applyCors, are the only ones) and its Vary joined
 * with the route's, so neither is lost when writeHead merges them. Always a new object,
 * which the caller may add to.
 */
export function underRouteCors(res: ServerResponse, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) if (!isCorsField(name)) out[name] = headers[name];
  const routeVary = res.getHeader('vary');
  if (routeVary !== undefined && out.vary !== undefined) out.vary = mergeVary(out.vary, routeVary);
  return out;
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

/**
 * The headers of a preflight answer: the route's allowance with the methods, the requested
 * simple headers and max-age when the Origin is allowed; no access-control-* at all when it is not.
 * `methods` are the route's methods, or 'any' (file routes pass every method through).
 */
export function preflightHeaders(policy: CorsPolicy, methods: readonly string[] | 'any', request: PreflightRequest): Record<string, string | number> {
  const vary = [
    ...(dependsOnOrigin(policy) ? ['Origin'] : []),
    ...(methods === 'any' ? ['Access-Control-Request-Method'] : []),
    'Access-Control-Request-Headers',
  ];
  const headers: Record<string, string | number> = { 'content-length': 0, 'cache-control': 'no-store', vary: vary.join(', ') };
  const allowance = corsHeaders(policy, request.origin);
  delete allowance.vary;
  if (allowance['access-control-allow-origin'] === undefined) return headers;
  const requested = request.method;
  const allowed = methods === 'any' ? ['GET', 'HEAD', ...(METHOD.test(requested) && requested !== 'GET' && requested !== 'HEAD' ? [requested] : [])] : methods;
  Object.assign(headers, allowance, { 'access-control-allow-methods': allowed.join(', '), 'access-control-max-age': CORS_PREFLIGHT_MAX_AGE_S });
  const allowHeaders = allowedHeaders(request.headers);
  if (allowHeaders) headers['access-control-allow-headers'] = allowHeaders;
  return headers;
}

/** What a preflight asks: its Origin, Access-Control-Request-Method and -Headers. */
export interface PreflightRequest {
  origin: string | undefined;
  method: string;
  headers: string | undefined;
}

/** Answer a preflight with 204 under the route's policy (preflightHeaders); it is never forwarded. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, methods: readonly string[] | 'any', policy: CorsPolicy = DEFAULT_CORS_POLICY): void {
  for (const name of res.getHeaderNames()) if (name.startsWith(CORS_HEADER_PREFIX)) res.removeHeader(name);
  const request = {
    origin: originOf(req),
    method: String(req.headers['access-control-request-method']),
    headers: req.headers['access-control-request-headers'],
  };
  res.writeHead(204, preflightHeaders(policy, methods, request));
  res.end();
}
