/**
 * The one operator contract. Electron IPC (preload, one method per call), the admin
 * HTTP API and the browser client are all derived from `API_CALLS`, so a call exists
 * on all three transports or on none.
 */
import type { NodeInput, RouteInput } from './config.js';
import type { NodeDto, RequestLogEntry, RouteDto, ServerInfoDto, SessionDto, StatsDto, StreamDto } from './dto.js';
import type { HistoryDto, RelayStateDto, ResolveDto, RouteSavedDto, SettingsDto, SettingsPatch, SignedUrlDto } from './dto.js';
import type { HlsCacheDto, HlsStreamDto, TlsStatusDto } from './dto.js';
import type { FleetDto, LogRecordsDto, LogRecordsQuery, LogsStatusDto, TierStreamsDto } from './dto.js';
import type { RelayDeckEventSource } from './events.js';

export type { RelayDeckEvent, RelayDeckEventListener, RelayDeckEventSource } from './events.js';

/** Input and output of every call. Inputs are `{ id?, body? }`: `id` fills `:id` in the HTTP path. */
export interface ApiSignatures {
  /** The relay and admin URLs as listening now, the version and start time. */
  getServerInfo: { input: Record<string, never>; output: ServerInfoDto };
  /** Every route as configured. */
  listRoutes: { input: Record<string, never>; output: RouteDto[] };
  /** Add a route (validated with the whole config; 409 when the id exists); answers the route with its `warnings`. Without `nodes` it uses every node but the demo node. */
  createRoute: { input: { body: RouteInput }; output: RouteSavedDto };
  /** Replace a route as a whole; answers the route with its `warnings`. */
  replaceRoute: { input: { id: string; body: RouteInput }; output: RouteSavedDto };
  /** Partial update, e.g. `{ mode: "redirect" }`; applies from the next request; answers the route with its `warnings` (e.g. a redirect that cannot tell which node holds the stream). */
  updateRoute: { input: { id: string; body: Partial<RouteInput> }; output: RouteSavedDto };
  /** Remove a route; streams in flight on it continue until they end. */
  deleteRoute: { input: { id: string }; output: { deleted: string } };
  /** Every node: its configuration and live state (health, RTT, sessions, pulls, Mbit/s, streams). */
  listNodes: { input: Record<string, never>; output: NodeDto[] };
  /** Add a node. */
  createNode: { input: { body: NodeInput }; output: NodeDto };
  /** Replace a node as a whole (the id cannot change: routes refer to it). */
  replaceNode: { input: { id: string; body: NodeInput }; output: NodeDto };
  /** Partial update, e.g. `{ draining: true }` or `{ enabled: false }`. */
  updateNode: { input: { id: string; body: Partial<NodeInput> }; output: NodeDto };
  /** Remove a node (409 while a route names it). */
  deleteNode: { input: { id: string }; output: { deleted: string } };
  /** Requests in flight, with their bytes so far. */
  listSessions: { input: Record<string, never>; output: SessionDto[] };
  /** A signed viewer URL for a route: `?sign=EXPIRY-HMAC`, optionally covering a path prefix (HLS); on relay.publicUrl when set. */
  signUrl: { input: { body: { routeId: string; path: string; ttl: string; prefix?: string } }; output: SignedUrlDto };
  /** Disconnect one viewer/request now. */
  kickSession: { input: { id: string }; output: { kicked: string } };
  /** Live FLV streams with their upstream and viewer counts. */
  listStreams: { input: Record<string, never>; output: StreamDto[] };
  /** End a live stream: its upstream pull and all its viewers. */
  closeStream: { input: { id: string }; output: { closed: string } };
  /** HLS streams seen by the relay, with viewers, cache hit ratio, node requests saved and bytes. */
  listHlsStreams: { input: Record<string, never>; output: HlsStreamDto[] };
  /** The HLS segment and playlist cache: bytes and entries against their bounds, hits, coalesced requests. */
  getHlsCache: { input: Record<string, never>; output: HlsCacheDto };
  /** The most recent finished requests, newest last (bounded by relay.requestLogEntries). */
  listRequestLog: { input: Record<string, never>; output: RequestLogEntry[] };
  /** The access log and session records files: where they are written, lines written, dropped (queue full: the disk slower than the traffic) and waiting, rotations, errors. */
  getLogs: { input: Record<string, never>; output: LogsStatusDto };
  /** Past records from disk, newest first, across the rotated files: `file` sessions (default) or access, `before` (epoch ms), `cursor` (from the last page), `limit` (at most logs.readMaxRecords), `search`; reads at most logs.readMaxBytes per call, skips and counts malformed lines. */
  listLogRecords: { input: { body?: LogRecordsQuery }; output: LogRecordsDto };
  /** Totals and per-route counters: requests, redirects, proxied, bytes in/out, errors by code, token uses by label. */
  getStats: { input: Record<string, never>; output: StatsDto };
  /** Throughput history: 1 s points for 10 min and 1 min points for 24 h (electron/engine/history/). */
  getHistory: { input: Record<string, never>; output: HistoryDto };
  /** Where a request path would go now (route, mode, node, URL, locator, why, and the route's warnings); fails as the relay would (404 NO_ROUTE, 503 NO_NODE). */
  resolvePath: { input: { body: { path: string } }; output: ResolveDto };
  /** Paused or not, the demo node, whether a listen change waits for a restart. */
  getRelayState: { input: Record<string, never>; output: RelayStateDto };
  /** New requests get 503 OVERLOADED until resumed; requests in flight continue. */
  pauseRelay: { input: Record<string, never>; output: RelayStateDto };
  resumeRelay: { input: Record<string, never>; output: RelayStateDto };
  /** Remove the built-in demo node and its routes, and stop it; it does not come back. */
  removeDemo: { input: Record<string, never>; output: RelayStateDto };
  /** Every setting (ports, bind addresses, admin token, relay and fan-out defaults, HLS cache and playlists, app, log files, admission webhooks). */
  getSettings: { input: Record<string, never>; output: SettingsDto };
  /** The HTTPS listener: its URL and each certificate (names, issuer, validity, SHA-256 fingerprint, last errors reading its files). */
  getTls: { input: Record<string, never>; output: TlsStatusDto };
  /** Read the certificate files again now (they are also checked every tls.reloadCheckMs); new connections get the new certificates. */
  reloadTls: { input: Record<string, never>; output: TlsStatusDto };
  /** Order the ACME certificate now (tls.acme; 409 when ACME is off) and answer when it is served or the order failed (then `acme.lastError`; the certificate in use stays). */
  renewTls: { input: Record<string, never>; output: TlsStatusDto };
  /** Change settings (relay, tls, admin, flv, hls, app, logs, webhooks); host and port changes (and tls.enabled, tls.http2 and HTTP/2's stream and memory limits) are saved and apply after a restart, the rest applies live. */
  updateSettings: { input: { body: SettingsPatch }; output: SettingsDto };
  /** The fleet (fleet mode): every relay with its load, version, config version and last heartbeat, streams across the fleet with viewers per relay, the Redis link; `enabled` false when this relay runs alone. */
  getFleet: { input: Record<string, never>; output: FleetDto };
  /** Relay tiers: the stream keys this relay can serve to a relay below it (its live FLV streams, recent HLS streams, and what its nodes' stream lists and probes say they hold); read by an edge's node API type "relaydeck". */
  listTierStreams: { input: Record<string, never>; output: TierStreamsDto };
}

export type ApiCallName = keyof ApiSignatures;
export type ApiInput<K extends ApiCallName> = ApiSignatures[K]['input'];
export type ApiOutput<K extends ApiCallName> = ApiSignatures[K]['output'];

/** The contract as an interface: what the engine implements and every client exposes. */
export type RelayDeckApi = {
  [K in ApiCallName]: (input: ApiInput<K>) => Promise<ApiOutput<K>>;
};

/** A client of both halves of the contract: every call plus the pushed events (shared/events.ts). */
export type RelayDeckClient = RelayDeckApi & RelayDeckEventSource;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** How each call travels over HTTP. `body` says whether input.body is sent as JSON. */
export interface HttpBinding {
  method: HttpMethod;
  path: string;
  body: boolean;
  /** Success status when it is not the default (201 for POST, else 200). */
  okStatus?: 200 | 201;
  /** GET calls: the fields of input.body travel as the query string (e.g. /api/resolve?path=...). */
  query?: boolean;
}

export const API_CALLS: { readonly [K in ApiCallName]: HttpBinding } = {
  getServerInfo: { method: 'GET', path: '/api/info', body: false },
  listRoutes: { method: 'GET', path: '/api/routes', body: false },
  createRoute: { method: 'POST', path: '/api/routes', body: true },
  replaceRoute: { method: 'PUT', path: '/api/routes/:id', body: true },
  updateRoute: { method: 'PATCH', path: '/api/routes/:id', body: true },
  deleteRoute: { method: 'DELETE', path: '/api/routes/:id', body: false },
  listNodes: { method: 'GET', path: '/api/nodes', body: false },
  createNode: { method: 'POST', path: '/api/nodes', body: true },
  replaceNode: { method: 'PUT', path: '/api/nodes/:id', body: true },
  updateNode: { method: 'PATCH', path: '/api/nodes/:id', body: true },
  deleteNode: { method: 'DELETE', path: '/api/nodes/:id', body: false },
  listSessions: { method: 'GET', path: '/api/sessions', body: false },
  signUrl: { method: 'POST', path: '/api/sign', body: true, okStatus: 200 },
  kickSession: { method: 'DELETE', path: '/api/sessions/:id', body: false },
  listStreams: { method: 'GET', path: '/api/streams', body: false },
  closeStream: { method: 'DELETE', path: '/api/streams/:id', body: false },
  listHlsStreams: { method: 'GET', path: '/api/hls/streams', body: false },
  getHlsCache: { method: 'GET', path: '/api/hls/cache', body: false },
  listRequestLog: { method: 'GET', path: '/api/requests', body: false },
  getLogs: { method: 'GET', path: '/api/logs', body: false },
  listLogRecords: { method: 'GET', path: '/api/logs/records', body: false, query: true },
  getStats: { method: 'GET', path: '/api/stats', body: false },
  getHistory: { method: 'GET', path: '/api/history', body: false },
  resolvePath: { method: 'GET', path: '/api/resolve', body: false, query: true },
  getRelayState: { method: 'GET', path: '/api/relay', body: false },
  pauseRelay: { method: 'PUT', path: '/api/relay/pause', body: false },
  resumeRelay: { method: 'DELETE', path: '/api/relay/pause', body: false },
  removeDemo: { method: 'DELETE', path: '/api/demo', body: false },
  getSettings: { method: 'GET', path: '/api/settings', body: false },
  getTls: { method: 'GET', path: '/api/tls', body: false },
  reloadTls: { method: 'POST', path: '/api/tls/reload', body: false, okStatus: 200 },
  renewTls: { method: 'POST', path: '/api/tls/renew', body: false, okStatus: 200 },
  updateSettings: { method: 'PATCH', path: '/api/settings', body: true },
  getFleet: { method: 'GET', path: '/api/fleet', body: false },
  listTierStreams: { method: 'GET', path: '/api/tier/streams', body: false },
};

export const API_CALL_NAMES = Object.keys(API_CALLS) as ApiCallName[];

/** IPC channel for a call: one channel per call, nothing generic. */
export function ipcChannel(name: ApiCallName): string {
  return `relaydeck:${name}`;
}

/** The error an API client throws: carries the JSON error code and the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
