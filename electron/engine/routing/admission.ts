/**
 * Admission: the one decision whether a new request on the relay port is served, taken once
 * per request by the relay server for all its entry paths (redirect, proxy, FLV fan-out, HLS).
 * Rules run in a fixed order and the first that refuses answers:
 *
 *   1. paused    the operator paused the relay (pause-switch.ts): 503 OVERLOADED, any path
 *   2. route     a route matches and the target passes its checks (target.ts): 404 NO_ROUTE, 400
 *                (a CORS preflight is admitted here: the relay answers it itself)
 *   3. headers   at most relay.maxHeaderCount header fields: 431 HEADERS_TOO_LARGE
 *   4. method    GET or HEAD on a stream route (a file route takes any): 405 METHOD_NOT_ALLOWED
 *   5. viewer    the route's viewer auth (passed in by the relay): 403 IP_DENIED, 401, 403, 410
 *                (a JWT is only found here; the relay verifies it after admission, jwt.ts)
 *   6. stopping  the relay is shutting down: 503 OVERLOADED
 *   7. sessions  fewer than relay.maxSessions live sessions: 503 OVERLOADED
 *
 * Rules 6 and 7 apply only to a request that will open a session (proxy mode, and what the
 * HLS handler answers); a redirect holds nothing, so it is answered even at the limit.
 * Pause comes first so a paused relay answers every path alike; the session rules come last
 * so a request that would be refused anyway (unknown path, bad credentials) says why.
 */
import type { RouteConfig } from '../../../shared/config.js';
import { RelayError } from '../core/errors.js';
import type { PauseState } from './pause-switch.js';
import type { RouteTable } from './route-table.js';
import { checkLenientRoute, checkRouteTarget, type RequestTarget } from './target.js';

/** Methods a stream route (flv, hls) accepts; file routes pass any method through. */
export const STREAM_METHODS: readonly string[] = ['GET', 'HEAD'];

/** The rules, in the order admit() runs them. */
export const ADMISSION_RULES = ['paused', 'route', 'headers', 'method', 'viewer', 'stopping', 'sessions'] as const;
export type AdmissionRule = (typeof ADMISSION_RULES)[number];

/** The facts of one request that admission looks at. */
export interface AdmissionRequest {
  /** The parsed target (parseRequestTarget). */
  target: RequestTarget;
  method: string;
  /** Header fields as received. */
  headerCount: number;
  /** The viewer's address (the socket's, or from X-Forwarded-For behind a trusted proxy). */
  viewerAddress: string;
  /** A CORS preflight (cors.ts isPreflight): admitted once its route matches. */
  preflight: boolean;
  /** The Authorization header (a JWT may come as `Bearer`). */
  authorization?: string;
}

/** What viewer auth passed: the query to use from here on, the static token's label when one was used, and a JWT still to verify. */
export interface ViewerPass {
  query: string;
  tokenLabel?: string;
  jwt?: string;
}

/** The live state and checks admission needs from the relay. */
export interface AdmissionContext {
  pause: PauseState;
  /** True once the relay is shutting down. */
  stopping: () => boolean;
  /** Live sessions now (relay.maxSessions bounds them). */
  liveSessions: () => number;
  /** Whether the request will open a session (proxy mode, or answered by the HLS handler). */
  opensSession: (route: RouteConfig, target: RequestTarget) => boolean;
  /** Viewer auth for the route (relay/auth/viewer-auth.ts): throws the refusing RelayError. */
  checkViewer: (route: RouteConfig, target: RequestTarget, viewerAddress: string, authorization?: string) => ViewerPass;
}

/** A request to serve: its route, its target after auth (credentials removed unless passed on). */
export interface Admitted {
  admitted: true;
  route: RouteConfig;
  target: RequestTarget;
  /** A CORS preflight, for the relay to answer (no later rule ran). */
  preflight: boolean;
  tokenLabel?: string;
  /** A JWT the relay must verify before serving (relay/auth/jwt.ts). */
  jwt?: string;
}

/** A refused request: the rule that refused, the error to answer with, and headers to add (Allow). */
export interface Refused {
  admitted: false;
  rule: AdmissionRule;
  error: RelayError;
  /** The matched route, once rule "route" found one (counted against it). */
  route?: RouteConfig;
  headers?: Record<string, string>;
}

export type Admission = Admitted | Refused;

function refused(rule: AdmissionRule, error: RelayError, route?: RouteConfig, headers?: Record<string, string>): Refused {
  return { admitted: false, rule, error, route, headers };
}

/** A RelayError thrown by a check, as a refusal; anything else is a bug and propagates. */
function refusedBy(rule: AdmissionRule, route: RouteConfig, check: () => void): Refused | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (error instanceof RelayError) return refused(rule, error, route);
    throw error;
  }
}

/** Run the rules in order (see the file comment) against the current table. */
export function admit(table: RouteTable, request: AdmissionRequest, context: AdmissionContext): Admission {
  if (context.pause.paused) return refused('paused', new RelayError('OVERLOADED', 'the relay is paused by the operator'));
  let target = request.target;
  const route = table.match(target.path);
  if (!route) return refused('route', new RelayError('NO_ROUTE', `no route matches ${target.path}`));
  const badTarget = refusedBy('route', route, () => {
    checkRouteTarget(route, target);
    checkLenientRoute(table.config.routes, route, target);
  });
  if (badTarget) return badTarget;
  if (request.preflight) return { admitted: true, route, target, preflight: true };
  const settings = table.config.relay;
  if (request.headerCount > settings.maxHeaderCount) {
    return refused('headers', new RelayError('HEADERS_TOO_LARGE', `more than relay.maxHeaderCount (${settings.maxHeaderCount}) header fields`), route);
  }
  if (route.kind !== 'file' && !STREAM_METHODS.includes(request.method)) {
    const error = new RelayError('METHOD_NOT_ALLOWED', `method ${request.method} is not allowed on ${route.kind} route "${route.id}"`);
    return refused('method', error, route, { allow: STREAM_METHODS.join(', ') });
  }
  let pass: ViewerPass = { query: target.query };
  const denied = refusedBy('viewer', route, () => (pass = context.checkViewer(route, target, request.viewerAddress, request.authorization)));
  if (denied) return denied;
  if (pass.query !== target.query) target = { path: target.path, query: pass.query };
  if (context.opensSession(route, target)) {
    if (context.stopping()) return refused('stopping', new RelayError('OVERLOADED', 'relay is shutting down'), route);
    if (context.liveSessions() >= settings.maxSessions) {
      return refused('sessions', new RelayError('OVERLOADED', `relay is at relay.maxSessions (${settings.maxSessions})`), route);
    }
  }
  return { admitted: true, route, target, preflight: false, tokenLabel: pass.tokenLabel, jwt: pass.jwt };
}
