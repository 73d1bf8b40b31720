/**
 * Plain data objects that cross a process boundary (IPC, HTTP, the browser).
 * No classes, no functions: each survives structured clone and JSON.
 */
import type {
  AccessLogFormat,
  AdminSettings,
  AppSettings,
  FlvSettings,
  HlsSettings,
  LogsSettings,
  NodeConfig,
  RelaySettings,
  RouteConfig,
  RouteKind,
  RouteMode,
  TlsSettings,
  WebhookSettings,
} from './config.js';

/** The JSON error body every transport returns: `{ "error": { "code", "message" } }`. */
export interface ErrorBody {
  error: {
    /** Stable machine code, e.g. NO_ROUTE, BAD_CONFIG. */
    code: string;
    /** Human text; for validation errors it starts with the field path. */
    message: string;
  };
}

/**
 * How a viewer reads its bytes: "http" (an HTTP response: files, HLS, HTTP-FLV) or "ws"
 * (WebSocket-FLV: the same FLV stream as binary WebSocket messages, on an flv fan-out route).
 */
export type ViewerTransport = 'http' | 'ws';

/** A request in flight on the relay port. */
export interface SessionDto {
  id: string;
  routeId: string;
  mode: RouteMode;
  method: string;
  /**
   * "ws" for a WebSocket-FLV viewer (its method is the handshake's GET, its status 101 once
   * upgraded), else "http". A WebSocket handshake the relay refused is logged as "ws" too.
   */
  transport: ViewerTransport;
  /** Request path without the query (the query may carry credentials). */
  path: string;
  /** The node serving the session now (for a finished request: the node that served it last). */
  nodeId: string;
  /** Nodes the session was attributed to before `nodeId`, oldest first (a failover or a drain moved it; at most 16 kept); absent when it never moved. */
  movedFrom?: string[];
  clientAddress: string;
  userAgent: string;
  /** The viewer's auth label (a static token's, a JWT's or the admission webhook's), when it has one. */
  label?: string;
  /** Epoch ms when the request arrived. */
  startedAt: number;
  /** Bytes read from the node so far. */
  bytesIn: number;
  /** Bytes written to the viewer so far. */
  bytesOut: number;
  /** Upstream status once known, else 0. */
  status: number;
  /** FLV fan-out viewers: the stream this viewer watches. */
  streamId?: string;
  /** FLV fan-out viewers: ms from request to the first byte written (headers). */
  firstByteMs?: number;
  /** FLV fan-out viewers: ms from request to the first keyframe written. */
  firstKeyframeMs?: number;
  /** FLV fan-out viewers: frames (tags) dropped because the viewer fell behind. */
  framesDropped?: number;
  /** FLV fan-out viewers: bytes waiting in the relay for the viewer's socket (bounded by flv.viewerQueueMaxBytes). */
  queuedBytes?: number;
}

/** A finished request, as kept in the bounded request log. */
export interface RequestLogEntry extends SessionDto {
  /**
   * The entry's number in the engine's request log, counting from 1 at engine start: each
   * finished request gets the next. A client that has seen entry N knows every entry with a
   * higher number is new, and a jump says entries rolled out of the bounded log unseen.
   */
  seq: number;
  /** Status logged for the request: 499 when the viewer left first. */
  status: number;
  /** Error code when the relay produced or logged an error. */
  errorCode?: string;
  durationMs: number;
}

/** Counters for one route (or the totals over all routes). */
export interface RouteStatsDto {
  requests: number;
  redirects: number;
  proxied: number;
  /** Bytes read from nodes. */
  bytesIn: number;
  /** Bytes written to viewers. */
  bytesOut: number;
  /** Errors by code, e.g. { "DIAL": 2, "CLIENT_CLOSED": 5 }. */
  errors: Record<string, number>;
  /** Proxied requests in flight now. */
  active: number;
  /** Requests admitted per auth label: a static token's, a JWT's or the admission webhook's. */
  tokens: Record<string, number>;
  /** Requests refused by each viewer limit: maxViewers, maxViewersPerStream (routes[].limits), maxConnectionsPerAddress (relay). */
  limits: Record<string, number>;
}

export interface StatsDto {
  /** Epoch ms when the engine started. */
  startedAt: number;
  totals: RouteStatsDto;
  routes: Record<string, RouteStatsDto>;
  /** Admission webhooks and HLS viewer sessions, over all routes. */
  admission: AdmissionStatsDto;
}

/** Admission webhooks (routes[].auth.webhook) and HLS viewer sessions, since the engine started. */
export interface AdmissionStatsDto {
  /** Webhook questions: calls made, answered from the cache, joined to a call in flight, calls failed (timeout, error, other status), viewers refused by a full queue. */
  webhook: { calls: number; cacheHits: number; coalesced: number; failures: number; queueFull: number };
  /** End-of-session records (stopUrl): delivered, retry attempts, dropped (queue full, retries spent, a final 4xx). */
  stop: { delivered: number; retried: number; dropped: number };
  /** HLS viewer sessions held now. */
  hlsViewerSessions: number;
  /** JWT viewer tokens: signatures checked, requests answered from the verified-token cache, JWKS fetches and failed ones. */
  jwt: { verifications: number; cacheHits: number; jwksFetches: number; jwksFailures: number };
}

/** A node as the API shows it: its configuration plus live state. */
export interface NodeDto extends NodeConfig {
  /** "up", "down", "draining" or "disabled"; only "up" nodes get new sessions. */
  status: 'up' | 'down' | 'draining' | 'disabled';
  /** Requests and viewers served by this node now (for a draining node: how many remain). */
  activeSessions: number;
  /** Upstream connections to the node now: FLV pulls plus plainly proxied requests. */
  activePulls: number;
  /** RTT of the last passed health check, ms (-1 before the first). */
  rttMs: number;
  consecutivePasses: number;
  consecutiveFails: number;
  /** Epoch ms of the last active check (0 = none yet). */
  lastCheckAt: number;
  /** Why the last check failed ("" when it passed). */
  lastError: string;
  /** Proxy failures within health.passiveWindowMs. */
  passiveFailures: number;
  /** Traffic over the last second, Mbit/s. */
  mbpsIn: number;
  mbpsOut: number;
  /** Streams the node holds: from its stream-list API when probed, else the live FLV streams pulled from it (at most 100). */
  streams: string[];
  /** While the node is draining: the live FLV streams still pulled from it, and why each stays. Absent otherwise. */
  drain?: DrainProgressDto;
}

/** Progress of a node's drain: what is left on it ("draining, N streams left"). */
export interface DrainProgressDto {
  /** Epoch ms when what is left is ended (relay.drainDeadlineMs); null = no deadline. */
  deadlineAt: number | null;
  /** Live FLV streams still pulled from the node. */
  streamsLeft: number;
  /** The first 100 of them, each with why it stays ("moving" while a move is under way). */
  streams: { id: string; path: string; viewers: number; reason: string }[];
}

/** The answer of the resolve check: where a request path goes now, and why. */
export interface ResolveDto {
  /** The checked request path (with its query). */
  path: string;
  /** Status the relay would answer: 302/307 (redirect) or 200 (proxied). */
  status: number;
  routeId: string;
  kind: RouteKind;
  mode: RouteMode;
  /** The chosen node. */
  nodeId: string;
  /** The final upstream URL (proxy) or the redirect Location. */
  url: string;
  /** Which locator chose: "first", "static", "probe", "hash" or "least-load". */
  locator: string;
  /** The stream key the locator used ("app/name"). */
  streamKey: string;
  /** Why, in words. */
  reason: string;
  /** Age of the cached location used, ms; null when nothing cached was used. */
  cacheAgeMs: number | null;
  /** The other usable nodes, in failover order. */
  fallbackNodeIds: string[];
  /** What the operator should know about the route, in words (shared/route-nodes.ts), e.g. a redirect with locate "first" over several nodes; empty when nothing. */
  warnings: string[];
}

export type RouteDto = RouteConfig;

/**
 * The answer of createRoute, replaceRoute and updateRoute: the route as saved plus its
 * warnings (shared/route-nodes.ts), e.g. a redirect whose locator cannot tell which node
 * holds the stream. `warnings` is not a route field: leave it out when sending the route back.
 */
export interface RouteSavedDto extends RouteConfig {
  warnings: string[];
}

/** Addresses the servers really listen on (ports resolved when configured as 0). */
export interface ServerInfoDto {
  relayUrl: string;
  adminUrl: string;
  /** relay.publicUrl, the relay's address for viewers; null when unset (then a client uses the address it reaches the relay by, with the relay port; never 0.0.0.0). */
  publicUrl: string | null;
  version: string;
  startedAt: number;
}

/** One certificate of the HTTPS listener, as loaded (GET /api/tls). */
export interface TlsCertificateDto {
  /** The files as configured (the self-signed one: its path in tls/ beside the config). */
  certFile: string;
  keyFile: string;
  /** Subject and issuer distinguished names, e.g. "CN=live.example.com". */
  subject: string;
  issuer: string;
  /** DNS names it serves (SNI), lowercase; "*.example.com" for a wildcard. */
  names: string[];
  /** IP addresses it covers. */
  addresses: string[];
  /** Validity, epoch ms. */
  validFrom: number;
  validTo: number;
  /** SHA-256 fingerprint, colon-separated hex: what a viewer compares before trusting a self-signed certificate. */
  fingerprint256: string;
  /** Generated by the relay (tls.selfSigned), not configured. */
  selfSigned: boolean;
  /** Obtained by the relay from its ACME certificate authority (tls.acme), not configured. */
  acme: boolean;
  /** Served to viewers that ask for no name, or a name no certificate covers. */
  default: boolean;
  /** When this version of the files was read, epoch ms. */
  loadedAt: number;
  /** Errors of the last check of the files (the version shown stays in use); on the first certificate, for every file. */
  errors: string[];
}

/** The HTTPS listener and its certificates (GET /api/tls, POST /api/tls/reload). */
export interface TlsStatusDto {
  /** tls.enabled as running now (a change applies after a restart). */
  enabled: boolean;
  /** The HTTPS listener's URL, "" when it is off. */
  url: string;
  minVersion: string;
  certificates: TlsCertificateDto[];
  /** When the files were last checked, epoch ms (0 = never). */
  lastCheckAt: number;
  /** Automatic certificates (tls.acme). */
  acme: TlsAcmeStatusDto;
}

/** Automatic certificates from an ACME certificate authority, as running now (GET /api/tls, POST /api/tls/renew). */
export interface TlsAcmeStatusDto {
  /** tls.acme.enabled with the HTTPS listener running. */
  enabled: boolean;
  directoryUrl: string;
  domains: string[];
  /**
   * off: ACME is not enabled (or HTTPS is off); requesting: an order is in flight; valid: its
   * certificate is served and the renewal scheduled at nextAttemptAt; retrying: the last attempt
   * failed (lastError), the next one is at nextAttemptAt, and any certificate in use stays.
   */
  status: 'off' | 'requesting' | 'valid' | 'retrying';
  /** The ACME certificate's issuer distinguished name, "" before the first one. */
  issuer: string;
  /** Its end of validity, epoch ms (0 = none yet). */
  validTo: number;
  /** When the certificate in use was obtained, epoch ms (0 = none yet). */
  lastRenewalAt: number;
  /** When the next order (renewal or retry) starts, epoch ms (0 = none planned). */
  nextAttemptAt: number;
  /** Why the last attempt failed, "" when it succeeded. */
  lastError: string;
  /** Failed attempts in a row (the backoff doubles with each). */
  failures: number;
}

/** A live FLV stream shared by its viewers (one upstream pull). */
export interface StreamDto {
  /** Stable id: route id + upstream path, e.g. "live:/live/cam1.flv". */
  id: string;
  routeId: string;
  /** Upstream path (with query) requested from the node. */
  path: string;
  /** Node currently pulled from ("" while none). */
  nodeId: string;
  /** "connecting", "live", "reconnecting" or "closing". */
  state: string;
  viewers: number;
  /** Upstream bitrate over the last few seconds, kbit/s. */
  bitrateKbps: number;
  bytesIn: number;
  bytesOut: number;
  videoCodec: string;
  audioCodec: string;
  width: number;
  height: number;
  /** Frames per second (metadata, else measured). */
  fps: number;
  /** Frames between the last two keyframes. */
  gopFrames: number;
  /** ms between the last two keyframes. */
  gopMs: number;
  /** Upstream connections opened over the stream's life, and open now (0 or 1). */
  upstreamOpened: number;
  upstreamOpen: number;
  reconnects: number;
  framesDropped: number;
  gopCacheBytes: number;
  startedAt: number;
}

/**
 * An HLS stream seen by the relay (hls routes): its playlists and, in proxy mode, its
 * segments. Keyed by route and stream key ("app/name" of its top playlist).
 */
export interface HlsStreamDto {
  /** Opaque id (route id + stream key, hashed). */
  id: string;
  routeId: string;
  /** "app/name" of the playlist the stream was first seen by. */
  streamKey: string;
  /** Node of the last playlist fetched for it. */
  nodeId: string;
  /** Distinct viewers (client address + user agent + carried auth parameters) with a request within hls.viewerWindowMs. */
  viewers: number;
  requests: number;
  playlistRequests: number;
  /** Requests for anything else: segments, parts, init sections, keys. */
  segmentRequests: number;
  /** Answered from the cache. */
  cacheHits: number;
  /** Answered by joining a fetch already in flight (request coalescing). */
  coalesced: number;
  /** Requests that started a fetch from the node (cache misses). */
  upstreamRequests: number;
  /** Requests passed to the node uncached on purpose (LL-HLS blocking reloads). */
  bypassed: number;
  /** Node requests the cache and coalescing saved: cacheHits + coalesced. */
  upstreamRequestsSaved: number;
  /** (cacheHits + coalesced) / requests answered, 0..1 (0 before any request). */
  hitRatio: number;
  /** Bytes read from the node for the stream. */
  bytesIn: number;
  /** Bytes written to its viewers. */
  bytesOut: number;
  /** Requests that ended in an error (viewers leaving early not counted). */
  errors: number;
  startedAt: number;
  lastRequestAt: number;
}

/** The HLS cache as a whole (electron/engine/relay/hls/cache.ts). */
export interface HlsCacheDto {
  /** Bytes held by cached segments (with a fixed per-entry overhead), and the bound. */
  segmentBytes: number;
  segmentEntries: number;
  segmentMaxBytes: number;
  playlistBytes: number;
  playlistEntries: number;
  playlistMaxBytes: number;
  /** Node fetches in flight now, and the bytes the cacheable ones hold. */
  inflight: number;
  inflightBytes: number;
  /** Entries dropped to stay within the bounds. */
  evictions: number;
  hits: number;
  /** Requests that joined a fetch in flight. */
  shared: number;
  misses: number;
  /** Requests passed uncached (LL-HLS blocking reloads). */
  bypassed: number;
}

/** One sample of the throughput history (electron/engine/history/): counts over the interval, gauges at its end. */
export interface HistoryPointDto {
  /** Epoch ms at the end of the interval. */
  t: number;
  /** Bytes read from nodes during the interval. */
  bytesIn: number;
  /** Bytes written to viewers during the interval. */
  bytesOut: number;
  /** Requests that reached the relay during the interval. */
  requests: number;
  /** Of those, answered with a redirect. */
  redirects: number;
  /** Errors counted during the interval (viewers leaving and operator kicks are not errors). */
  errors: number;
  /** Requests in flight at the end (minute points: the highest second of the minute). */
  viewers: number;
  /** Live FLV fan-out streams at the end (minute points: the highest). */
  streams: number;
  /** Upstream connections open at the end: FLV pulls plus plain proxied requests (minute points: the highest). */
  pulls: number;
  /** Estimated bytes that redirect answers kept off the relay during the interval (see SavingsDto). */
  savedBytes: number;
}

/** A history ring as columns, oldest first: every array has one entry per point. */
export type HistorySeriesDto = { [K in keyof HistoryPointDto]: number[] } & {
  /** Length of one interval, ms. */
  stepMs: number;
  /** Most points the ring keeps. */
  capacity: number;
};

/** The engine's throughput history: 1 s points (10 min) and 1 min points (24 h). */
export interface HistoryDto {
  seconds: HistorySeriesDto;
  minutes: HistorySeriesDto;
}

/**
 * Bandwidth that redirect routes kept off the relay, estimated: each redirected request is
 * counted as the mean bytes a finished proxied request of the same route kind (flv, hls,
 * file) sent to its viewer. A kind with no proxied sample yet adds nothing.
 */
export interface SavingsDto {
  /** Estimated bytes saved since the engine started. */
  bytes: number;
  /** Redirect answers since the engine started. */
  redirects: number;
  /** Redirects of a kind with no proxied sample (not in `bytes`). */
  unestimatedRedirects: number;
  /** Mean bytes per finished proxied request, by route kind (0 = no sample). */
  meanProxiedBytes: Record<RouteKind, number>;
  /** Finished proxied requests the means come from, by route kind. */
  samples: Record<RouteKind, number>;
}

/** The built-in demo node (electron/engine/demo/), when it is installed. */
export interface DemoStateDto {
  /** Id of the demo node in the config. */
  nodeId: string;
  /** Where the demo node listens (loopback). */
  nodeUrl: string;
  /** Relay path of the demo HTTP-FLV stream, e.g. "/demo/live.flv". */
  flvPath: string;
  /** Relay path of the demo HLS playlist, e.g. "/demo-hls/live.m3u8". */
  hlsPath: string;
  /** Ids of the routes that serve it. */
  routeIds: string[];
}

/** Relay-wide state the operator can change at run time. */
export interface RelayStateDto {
  /** True while the relay answers new requests 503 OVERLOADED (requests in flight continue). */
  paused: boolean;
  /** The demo node, or null when none is installed. */
  demo: DemoStateDto | null;
  /** True when a saved listen address (host or port), or a tls setting read when the HTTPS listener starts, differs from the running one. */
  restartNeeded: boolean;
}

/** Every setting, as stored (the admin token included: only an operator can read this). */
export interface SettingsDto {
  /** The `relay` section (viewer-facing server, timeouts, limits). */
  relay: RelaySettings;
  /** The `tls` section (HTTPS listener); enabled, port, http2 and HTTP/2's concurrent streams and session memory apply after a restart, the rest (certificates, acme) live. */
  tls: TlsSettings;
  /** The `admin` section (admin API and UI). */
  admin: AdminSettings;
  /** The `flv` section (HTTP-FLV fan-out); applies live. */
  flv: FlvSettings;
  /** The `hls` section (HLS cache, playlist rewriting, stream stats); applies live (see electron/engine/admin/settings.ts). */
  hls: HlsSettings;
  /** The `app` section (desktop app). */
  app: AppSettings;
  /** The `logs` section (access log and session records on disk); applies live: a changed file is closed and opened again with its new settings. */
  logs: LogsSettings;
  /** The `webhooks` section (bounds every admission webhook shares: answer cache, end-of-session queue and retries, TLS verification); applies live. */
  webhooks: WebhookSettings;
  /** Addresses the servers listen on now; host and port changes apply after a restart. */
  listening: { relayUrl: string; adminUrl: string };
  /** True when a saved host or port, or a tls setting read when the HTTPS listener starts, differs from the running one. */
  restartNeeded: boolean;
}

/** A settings change: any subset of each section's fields. */
export interface SettingsPatch {
  relay?: Partial<RelaySettings>;
  /** HTTPS fields to change; `certificates` is replaced as a whole list, `acme` as a whole object (fields left out take their defaults). */
  tls?: Partial<TlsSettings>;
  admin?: Partial<AdminSettings>;
  flv?: Partial<FlvSettings>;
  /** HLS fields to change; `carryParams` is replaced as a whole list. */
  hls?: Partial<HlsSettings>;
  app?: Partial<AppSettings>;
  /** Log fields to change; `access` and `sessions` are each replaced as a whole object (fields left out take their defaults). */
  logs?: Partial<LogsSettings>;
  webhooks?: Partial<WebhookSettings>;
}

/** A signed viewer URL (admin API `signUrl`, `relaydeck sign`). */
export interface SignedUrlDto {
  /** The full viewer URL: relay.publicUrl when set, else the relay's listening address (a wildcard bind address given as 127.0.0.1). */
  url: string;
  /** The path and query of `url`, for a client that puts the address it reaches the relay by in front. */
  pathAndQuery: string;
  /** Unix seconds after which the relay answers 410. */
  expiresAt: number;
  /** Id of the route key that signed it. */
  keyId: string;
}

/** The two files the relay writes (electron/engine/logs/): the access log and the session records. */
export type LogFileName = 'access' | 'sessions';

/** One log file as it is being written: where, and its counters since the engine started. */
export interface LogFileStatusDto {
  /** logs.access.enabled / logs.sessions.enabled, with a folder to write in. */
  enabled: boolean;
  /** The file written now ("" when off). */
  path: string;
  /** "json" or "combined" for the access log; the session records are always "json". */
  format: AccessLogFormat;
  /** Lines written to disk. */
  written: number;
  /** Lines dropped: the queue was full (the disk slower than the traffic), or a write failed. */
  dropped: number;
  /** Lines waiting to be written now, the batch in flight included, and the bound (queueLines). */
  queued: number;
  queueLimit: number;
  /** Rotations done, and rotated files deleted by retention (maxFiles). */
  rotations: number;
  removed: number;
  /** Failed opens or writes; the file is opened again a few seconds after one. */
  errors: number;
  /** The last failure in words, "" when none. */
  lastError: string;
}

/** The log files (getLogs): the folder and each file's counters. */
export interface LogsStatusDto {
  /** The folder the files are written in, "" when there is none (an engine without a config file and a relative logs.dir). */
  dir: string;
  access: LogFileStatusDto;
  sessions: LogFileStatusDto;
}

/** Longest path and stream a log line holds, characters (longer ones are cut): keeps a line well under the reader's 64 KiB line bound. */
export const MAX_LOGGED_PATH_CHARS = 4_096;
/** Longest user agent a log line holds, characters. */
export const MAX_LOGGED_USER_AGENT_CHARS = 1_024;
/** Longest auth label, client address, method, route or node id a log line holds, characters. */
export const MAX_LOGGED_NAME_CHARS = 256;

/**
 * A finished request or viewer session as read back from disk (listLogRecords): a line of the
 * access log or of the session records. A combined-format access log line carries fewer
 * fields: the route, mode, node and byte counts from the node are then absent or empty.
 */
export interface LogRecordDto {
  /** Epoch ms when it ended, and when it started. */
  endedAt: number;
  startedAt: number;
  durationMs: number;
  /** The session's id while it was live (SessionDto.id); absent for redirects and refusals. */
  sessionId?: string;
  routeId: string;
  mode?: RouteMode;
  method: string;
  transport: ViewerTransport;
  /** Request path without the query. */
  path: string;
  /** Session records: the stream (FLV stream id, else the path). */
  stream?: string;
  status: number;
  errorCode?: string;
  nodeId: string;
  movedFrom?: string[];
  clientAddress: string;
  userAgent: string;
  label?: string;
  /** Bytes read from the node, and written to the viewer. */
  bytesIn: number;
  bytesOut: number;
  firstByteMs?: number;
  firstKeyframeMs?: number;
  framesDropped?: number;
}

/** What listLogRecords is asked: which file, from where, how many, and an optional search. */
export interface LogRecordsQuery {
  /** "sessions" (the default) or "access". */
  file?: LogFileName;
  /** Only records that ended before this epoch ms (e.g. the oldest one the page holds). */
  before?: number;
  /** Go on from a previous answer's `cursor` (newest first); `before` still applies. */
  cursor?: string;
  /** Most records answered (1 to logs.readMaxRecords; default 100). */
  limit?: number;
  /** Case-insensitive text every record answered holds in its path, stream, route, node, client, user agent, label, error code or status. */
  search?: string;
}

/** A page of past records, newest first (listLogRecords). */
export interface LogRecordsDto {
  file: LogFileName;
  records: LogRecordDto[];
  /** Pass as `cursor` to read older records; null when the oldest file was read to its start. */
  cursor: string | null;
  /** Bytes of log files read for this page (at most logs.readMaxBytes). */
  scannedBytes: number;
  /** Lines that were not a record (malformed, cut, or longer than 64 KiB): skipped and counted, never an error. */
  skippedLines: number;
  /** Files (current and rotated) the page read from. */
  filesRead: number;
}

/** One relay of the fleet as the fleet store last heard it (getFleet). */
export interface FleetRelayDto {
  /** Its fleet.relayId (or host-port). */
  id: string;
  /** Its admin URL as it advertises it (fleet.advertiseUrl). */
  url: string;
  /** True for the relay answering this call. */
  self: boolean;
  /** "up": heard within fleet.expiryMs; "gone": its heartbeat expired (shown until it is forgotten, FLEET_GONE_KEEP_MS). */
  state: 'up' | 'gone';
  /** Epoch ms of its last heartbeat. */
  lastSeenAt: number;
  /** Epoch ms it started. */
  startedAt: number;
  /** RelayDeck version it runs. */
  version: string;
  /** The shared config version it serves. */
  configVersion: number;
  viewers: number;
  streams: number;
  mbpsIn: number;
  mbpsOut: number;
  /** Its process CPU over the last heartbeat, percent of one core. */
  cpuPercent: number;
}

/** One stream across the fleet: which relays serve how many of its viewers, through which node. */
export interface FleetStreamDto {
  routeId: string;
  streamKey: string;
  /** Viewers summed over the live relays. */
  viewers: number;
  relays: { relayId: string; viewers: number; nodeId: string }[];
}

/** The fleet this relay belongs to (getFleet); `enabled` false when it runs alone. */
export interface FleetDto {
  enabled: boolean;
  /** fleet.name */
  name: string;
  /** This relay's id in the fleet. */
  relayId: string;
  /** The link to the fleet's Redis: state and the last error while it is down. */
  redis: { state: 'connecting' | 'up' | 'down'; lastError: string };
  /** The shared config version this relay serves (0 alone). */
  configVersion: number;
  /** Where that config came from: the fleet's store, the last good copy on disk (Redis was away at start), or the local file (alone). */
  configSource: 'fleet' | 'last-good' | 'local';
  relays: FleetRelayDto[];
  streams: FleetStreamDto[];
  /** Sums over the live relays. */
  totals: { relays: number; viewers: number; streams: number; mbpsIn: number; mbpsOut: number };
}

/**
 * Relay tiers: the streams a relay can serve to a relay below it (listTierStreams; an edge's
 * node with `api.type` "relaydeck" reads it). Keys are "app/name" of the path the edge asks
 * this relay for: its live FLV streams, HLS streams requested lately, and what its nodes'
 * stream lists and probes say they hold, through the routes that use them.
 */
export interface TierStreamsDto {
  /** This relay's id (fleet.relayId, or host-port). */
  relayId: string;
  /** Epoch ms of the answer. */
  at: number;
  keys: string[];
  /** True when keys were left out past the answer's bound (admin/tier-streams.ts TIER_STREAMS_MAX_KEYS). */
  truncated: boolean;
}
