/**
 * The relay's error taxonomy: every error the relay or admin API answers with has a code,
 * and the code maps to its HTTP status here and nowhere else.
 */
import type { ErrorBody } from '../../../shared/dto.js';

export const ERROR_STATUS = {
  /** The request is malformed: control characters, traversal, not origin-form; admin: bad percent-encoding in an id, a body nested too deep. */
  BAD_REQUEST: 400,
  /** The admin API request lacks a valid bearer token. */
  UNAUTHORIZED: 401,
  /** The route needs viewer credentials (a signed URL or a token) and none were given. */
  AUTH_MISSING: 401,
  /** The viewer's credentials are not valid for this route. */
  AUTH_INVALID: 403,
  /** The viewer's address is denied (or not allowed) on this route. */
  IP_DENIED: 403,
  /** The viewer's credentials were valid but have expired. */
  AUTH_EXPIRED: 410,
  /** Cross-origin call to the admin API (only the app's own origin may call it). */
  CORS_FORBIDDEN: 403,
  /** A WebSocket handshake from a web origin its route's corsOrigins does not allow (browsers apply no CORS to WebSocket, so the relay checks the Origin itself). */
  ORIGIN_DENIED: 403,
  /** The admin port was asked for a Host it is not reached by (DNS rebinding); see admin.allowedHosts. */
  MISDIRECTED: 421,
  /** Too many failed admin logins from this address; wait a minute. */
  RATE_LIMITED: 429,
  /** One client address has opened flv.maxStreamsPerClient streams still open, or new ones faster than flv.newStreamsPerClientPerMinute; Retry-After says when to try again. */
  CLIENT_STREAM_LIMIT: 429,
  /** The route's admission webhook (routes[].auth.webhook) answered 401 for this viewer. */
  WEBHOOK_UNAUTHORIZED: 401,
  /** The route's admission webhook answered 403 for this viewer. */
  WEBHOOK_FORBIDDEN: 403,
  /** The route's admission webhook timed out, could not be reached or answered another status, and its onError is "deny"; Retry-After says when to try again. */
  WEBHOOK_FAILED: 503,
  /** The route's admission webhook has routes[].auth.webhook.maxQueue calls waiting; Retry-After says when to try again (no call was made). */
  WEBHOOK_BUSY: 503,
  /** The route (routes[].limits.maxViewers) or the stream (routes[].limits.maxViewersPerStream) has as many viewers as allowed; the message names the limit, Retry-After says when to try again. */
  VIEWER_LIMIT: 503,
  /** The client address has relay.maxConnectionsPerAddress connections open; this one is answered and closed, Retry-After says when to try again. */
  ADDRESS_LIMIT: 429,
  /** The session reached the maximum duration its webhook answer gave (maxDurationMs) and was ended (logged, never sent). */
  SESSION_TIME_LIMIT: 499,
  /** No route matches the path. */
  NO_ROUTE: 404,
  /** No such route/node in an admin call. */
  NOT_FOUND: 404,
  /** The viewer took longer than the header deadline to send its request headers (slowloris), or its request body stalled for relay.requestBodyIdleTimeoutMs. */
  REQUEST_TIMEOUT: 408,
  /** Request headers larger than Node's limit. */
  HEADERS_TOO_LARGE: 431,
  /** The live stream is not on the node (it answered non-2xx, or sent no media in time). */
  STREAM_OFFLINE: 404,
  /** The node's FLV turned to garbage; the stream was ended for its viewers. */
  UPSTREAM_FORMAT: 502,
  /** The upstream was lost and no node took over within flv.failoverGraceMs. */
  UPSTREAM_LOST: 502,
  /** A viewer stayed behind for flv.slowViewerTimeoutMs and was disconnected (logged, never sent). */
  SLOW_VIEWER: 499,
  /** A viewer did not read a proxied response (its socket stayed full) for relay.idleStreamTimeoutMs and was disconnected (logged, never sent); the viewer's pace, not the node's fault. */
  CLIENT_STALLED: 499,
  /** A viewer was disconnected by the operator (logged, never sent). */
  KICKED: 499,
  /** A live FLV stream was still on a draining node at relay.drainDeadlineMs (no other node held it); its viewers were ended. */
  DRAINED: 503,
  /** Method not allowed on this route. */
  METHOD_NOT_ALLOWED: 405,
  /** Request body too large. */
  BODY_TOO_LARGE: 413,
  /** A config change or API input failed validation. */
  BAD_CONFIG: 400,
  /** A create call named an id that exists. */
  CONFLICT: 409,
  /** The viewer went away before the response finished (logged, never sent). */
  CLIENT_CLOSED: 499,
  /** Could not open a TCP connection to the node (refused, unreachable, connect timeout). */
  DIAL: 502,
  /** The node answered with something that is not valid HTTP, or reset the connection. */
  UPSTREAM_PROTOCOL: 502,
  /** The node reset the connection after the response started. */
  UPSTREAM_RESET: 502,
  /** The node sent no bytes for relay.idleStreamTimeoutMs. */
  IDLE_TIMEOUT: 504,
  /** No route has a usable node (none configured, all disabled). */
  NO_NODE: 503,
  /** The relay is at relay.maxSessions or shutting down. */
  OVERLOADED: 503,
  /** The node sent no response headers within relay.headerTimeoutMs. */
  UPSTREAM_TIMEOUT: 504,
  /** The node answered with a server error (5xx); HLS answers it when no other node could answer instead (hls.maxNodeAttempts). */
  UPSTREAM_STATUS: 502,
  /** HLS: the node's playlist is malformed (not UTF-8, no #EXTM3U, bad attribute list, ...); the message names the line. */
  HLS_BAD_PLAYLIST: 502,
  /** HLS: the node's playlist is larger than hls.playlistMaxBytes (it was cut off, never held whole). */
  HLS_PLAYLIST_TOO_LARGE: 502,
  /** HLS: a playlist URI points at a node path no hls route reaches (or at a foreign host while hls.foreignUris is "reject"). */
  HLS_UNMAPPABLE_URI: 502,
  /** HLS: the playlists being fetched and parsed are at hls.playlistWorkMaxBytes or hls.playlistWorkMaxCount; try again shortly (not the node's fault). */
  HLS_BUSY: 503,
  /** HLS: the node answered an HLS request with a redirect, which the relay does not follow (it would leak the node). */
  HLS_UPSTREAM_REDIRECT: 502,
  /** proxy mode: the node redirected to a node path no route reaches, or to another host while routes[].foreignRedirects is "refuse" (location-rewrite.ts). */
  UPSTREAM_REDIRECT: 502,
  /** The relay itself is out of file descriptors, sockets, buffers or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM, EADDRNOTAVAIL) while reaching a node; never the node's fault. */
  RELAY_RESOURCES: 503,
  /** Fleet mode: the fleet's Redis is unreachable, so a shared change (routes, nodes, shared settings) is refused; the relay keeps serving from its last good config. */
  FLEET_UNAVAILABLE: 503,
  /** Fleet mode: the shared config changed on another relay since this change was based on it (compare-and-set on its version); read the new version and try again. */
  CONFIG_CONFLICT: 409,
  /** A node's publish hook without its node's hookSecret (or for a node with none). */
  HOOK_UNAUTHORIZED: 401,
  /** An unexpected fault in the relay itself. */
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error with a code from the taxonomy; `cause` keeps the original error. */
export class RelayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RelayError';
    this.status = ERROR_STATUS[code];
  }
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** Turn any thrown value into a RelayError (unknown faults become INTERNAL). */
export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  if (error instanceof Error && error.name === 'SchemaError') return new RelayError('BAD_CONFIG', error.message, { cause: error });
  return new RelayError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * Failures that are the node's and count against it (passive health checks): it refused or
 * could not be reached, reset the connection, sent no headers in time after the whole request
 * was sent, went silent while the relay was reading, sent broken HTTP or FLV, or answered 5xx.
 * Everything else is the viewer's (CLIENT_CLOSED, CLIENT_STALLED, REQUEST_TIMEOUT), the relay's
 * own (RELAY_RESOURCES, HLS_BUSY, OVERLOADED) or the stream's (STREAM_OFFLINE).
 */
const NODE_FAULTS: ReadonlySet<string> = new Set<ErrorCode>([
  'DIAL',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_PROTOCOL',
  'UPSTREAM_RESET',
  'IDLE_TIMEOUT',
  'UPSTREAM_FORMAT',
  'UPSTREAM_STATUS',
]);

/** Whether a failure of this code is the node's fault: the one place every caller asks before counting it against the node. */
export function isNodeFault(code: string): boolean {
  return NODE_FAULTS.has(code);
}

/** Socket errors that mean the relay ran out of its own resources (descriptors, buffers, memory, local ports), not that the node failed. */
const RELAY_RESOURCE_ERRNOS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL']);

/** Whether a socket error code is the relay's own resource shortage (RELAY_RESOURCES). */
export function isRelayResourceError(errno: string | undefined): boolean {
  return errno !== undefined && RELAY_RESOURCE_ERRNOS.has(errno);
}

/** Map a Node socket/HTTP-parser error from the upstream request to the taxonomy. */
export function classifyUpstreamError(error: NodeJS.ErrnoException, responseStarted: boolean): RelayError {
  const code = error.code ?? '';
  if (isRelayResourceError(code)) return new RelayError('RELAY_RESOURCES', `the relay is out of resources reaching the node: ${code}`, { cause: error });
  if (!responseStarted && ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) {
    return new RelayError('DIAL', `cannot connect to node: ${code}`, { cause: error });
  }
  if (code.startsWith('HPE_')) return new RelayError('UPSTREAM_PROTOCOL', `node sent invalid HTTP: ${code}`, { cause: error });
  if (responseStarted) return new RelayError('UPSTREAM_RESET', `node connection lost mid-response: ${code || error.message}`, { cause: error });
  return new RelayError('UPSTREAM_PROTOCOL', `node closed the connection before answering: ${code || error.message}`, { cause: error });
}
