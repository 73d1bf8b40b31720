/**
 * The configuration schema: one JSON file, validated strictly (unknown keys rejected,
 * every error names its field path). Each setting's default and unit is documented here
 * and in the README's configuration reference.
 */
import {
  array,
  boolean,
  integer,
  object,
  oneOf,
  optional,
  partial,
  SchemaError,
  string,
  type Schema,
  withDefault,
  type Infer,
} from './schema.js';
import { parseCidr } from './cidr.js';
import { normalisePath, type NormalPath } from './request-path.js';

/** Default relay (viewer-facing) port. */
export const DEFAULT_RELAY_PORT = 8090;
/** Default admin API / UI port. */
export const DEFAULT_ADMIN_PORT = 8091;
/** Time allowed to open the TCP connection to a node, in ms (reference design: 30 s). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
/** Time allowed from request sent to the node's response headers, in ms (reference design: 10 s). */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
/** A proxied response that delivers no bytes for this long is ended, in ms. 0 disables. */
export const DEFAULT_IDLE_STREAM_TIMEOUT_MS = 20_000;
/** Most requests in flight on the relay port at once; further connections are refused. */
export const DEFAULT_MAX_SESSIONS = 10_000;
/** Most idle keep-alive connections kept open per node for reuse. */
export const DEFAULT_MAX_IDLE_UPSTREAM_SOCKETS = 64;
/** On shutdown, streams get this long to end cleanly before they are cut, in ms. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;
/** A draining node's live FLV streams that no other node could take are ended this long after the drain began, ms (0 = never). */
export const DEFAULT_DRAIN_DEADLINE_MS = 600_000;
/** Most finished requests kept in the in-memory request log (sessions API, traffic view). */
export const DEFAULT_REQUEST_LOG_ENTRIES = 1_000;
/** Largest admin API request body accepted, in bytes. */
export const DEFAULT_ADMIN_MAX_BODY_BYTES = 1_048_576;
/** Most nodes and routes a config may hold (bounds every per-node and per-route map). */
export const MAX_NODES = 256;
export const MAX_ROUTES = 1_024;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const id = () => string({ min: 1, max: 64, pattern: ID_PATTERN, patternName: 'an id of letters, digits, "_", "-" or "."' });
const port = () => integer(0, 65_535);
const host = () => string({ min: 1, max: 255, pattern: /^[A-Za-z0-9.:[\]-]+$/, patternName: 'a host name or IP address' });
const ms = (max: number) => integer(0, max);
/**
 * An IPv4/IPv6 address or CIDR ("10.0.0.0/8", "2001:db8::/32", "::ffff:10.0.0.0/104"), checked
 * by the parser the relay matches with (shared/cidr.ts), so every value that validates works.
 */
const cidr = (): Schema<string> => {
  const text = string({ min: 2, max: 64 });
  return {
    parse(value, path) {
      const parsed = text.parse(value, path);
      try {
        parseCidr(parsed);
      } catch (error) {
        throw new SchemaError(path, (error as Error).message);
      }
      return parsed;
    },
  };
};
const HOUR_MS = 3_600_000;

/** A viewer must send its request head within this long (slowloris), ms. */
export const DEFAULT_HEADER_READ_TIMEOUT_MS = 10_000;
/** A proxied request body that brings no bytes from the viewer for this long is answered 408 REQUEST_TIMEOUT (the viewer's fault, not the node's), ms. */
export const DEFAULT_REQUEST_BODY_IDLE_TIMEOUT_MS = 10_000;
/** Largest request head, bytes. */
export const DEFAULT_MAX_HEADER_BYTES = 16_384;
/** Most request header fields. */
export const DEFAULT_MAX_HEADER_COUNT = 100;
/** Pending connections queued by the kernel for the relay port. */
export const DEFAULT_LISTEN_BACKLOG = 4_096;
/** Liveness probe path on the relay port. */
export const DEFAULT_HEALTH_PATH = '/healthz';
/** Readiness probe path on the relay port. */
export const DEFAULT_READY_PATH = '/readyz';
/** A probe path: empty (off) or an absolute path without query, e.g. "/healthz". */
const probePath = () => string({ max: 256, pattern: /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/, patternName: 'an empty string or a path starting with "/" (no query)' });

/** Viewer-facing relay server settings. */
export const relaySettingsSchema = object({
  /** Address the relay listens on. Default 127.0.0.1. */
  host: withDefault(host(), '127.0.0.1'),
  /** Port the relay listens on; 0 picks a free port. Default 8090. */
  port: withDefault(port(), DEFAULT_RELAY_PORT),
  /** TCP connect timeout to a node, ms. Default 30000. */
  connectTimeoutMs: withDefault(integer(1, HOUR_MS), DEFAULT_CONNECT_TIMEOUT_MS),
  /** Response-header timeout, ms. Default 10000. */
  headerTimeoutMs: withDefault(integer(1, HOUR_MS), DEFAULT_HEADER_TIMEOUT_MS),
  /** Idle-stream timeout (no bytes from the node), ms; 0 = off. Default 20000. */
  idleStreamTimeoutMs: withDefault(ms(HOUR_MS), DEFAULT_IDLE_STREAM_TIMEOUT_MS),
  /** Which proxy implementation streams proxied requests. Default "native". */
  proxyEngine: withDefault(oneOf(['native', 'http-proxy-3'] as const), 'native'),
  /** Most requests in flight at once. Default 10000. */
  maxSessions: withDefault(integer(1, 1_000_000), DEFAULT_MAX_SESSIONS),
  /** Idle keep-alive sockets kept per node. Default 64. */
  maxIdleUpstreamSockets: withDefault(integer(0, 10_000), DEFAULT_MAX_IDLE_UPSTREAM_SOCKETS),
  /** Clean-stop grace on shutdown, ms. Default 5000. */
  shutdownGraceMs: withDefault(ms(600_000), DEFAULT_SHUTDOWN_GRACE_MS),
  /** Streams still on a draining node this long after the drain began are ended (viewers' records say DRAINED), ms; 0 = never. Default 600000. */
  drainDeadlineMs: withDefault(ms(24 * HOUR_MS), DEFAULT_DRAIN_DEADLINE_MS),
  /** Finished requests kept in memory. Default 1000. */
  requestLogEntries: withDefault(integer(0, 100_000), DEFAULT_REQUEST_LOG_ENTRIES),
  /** A viewer must send its whole request head within this long, else 408 (slowloris), ms. Default 10000. */
  headerReadTimeoutMs: withDefault(integer(100, 600_000), DEFAULT_HEADER_READ_TIMEOUT_MS),
  /** A proxied request body (an upload) that brings no bytes from the viewer for this long is answered 408, ms; the node's response-header timeout starts only once the whole body was sent. Default 10000. */
  requestBodyIdleTimeoutMs: withDefault(integer(100, HOUR_MS), DEFAULT_REQUEST_BODY_IDLE_TIMEOUT_MS),
  /** Largest request head accepted, bytes; larger gets 431. Default 16384. */
  maxHeaderBytes: withDefault(integer(1_024, 1_048_576), DEFAULT_MAX_HEADER_BYTES),
  /** Most request header fields accepted; more gets 431. Default 100. */
  maxHeaderCount: withDefault(integer(8, 2_000), DEFAULT_MAX_HEADER_COUNT),
  /** Pending connections the kernel may queue for the relay (flash crowds); capped by the OS (net.core.somaxconn). Default 4096. */
  listenBacklog: withDefault(integer(1, 65_535), DEFAULT_LISTEN_BACKLOG),
  /** Proxies whose X-Forwarded-For is believed (CIDRs); the viewer's address is the last one not in this list. Default none. */
  trustedProxies: withDefault(array(cidr(), 256), []),
  /**
   * The relay's address for viewers, when it is not the listening one: a host name, another
   * port, or https behind a load balancer or CDN, e.g. "https://live.example.com" (an
   * absolute http(s) URL, a path allowed, no query). Signed URLs (signUrl, `relaydeck sign`),
   * the UI's copy buttons and its preview use it. Empty = unset: the address the UI was
   * loaded from with the relay port (127.0.0.1 in the desktop app when bound to 0.0.0.0 or
   * ::), never 0.0.0.0. Default "" (unset).
   */
  publicUrl: withDefault(string({ max: 2048 }), ''),
  /**
   * Liveness probe on the relay port: GET/HEAD answers 200 {"status":"ok"} while the process
   * runs, before any route (a route with the same path is shadowed), never counted in stats or
   * the request log. Empty string = off. Default "/healthz".
   */
  healthPath: withDefault(probePath(), DEFAULT_HEALTH_PATH),
  /**
   * Readiness probe on the relay port: 200 {"status":"ready"} when listening with a config
   * loaded, 503 {"status":"unready","reason":...} while paused or stopping; otherwise as
   * healthPath. Empty string = off. Default "/readyz".
   */
  readyPath: withDefault(probePath(), DEFAULT_READY_PATH),
});

/** Failed admin logins allowed per client address per minute before 429. */
export const DEFAULT_ADMIN_MAX_FAILED_AUTH_PER_MINUTE = 10;
/** The admin audit log rolls over (to audit.log.1) past this size, bytes. */
export const DEFAULT_AUDIT_LOG_MAX_BYTES = 5 * 1_048_576;
/** Most names in admin.allowedHosts. */
export const MAX_ADMIN_ALLOWED_HOSTS = 64;
/** A host name or IP literal without a port: "relay.lan", "192.168.1.20", "[fe80::1]". */
const ALLOWED_HOST_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

/** Default GOP cache bound in bytes (per stream). */
export const DEFAULT_GOP_CACHE_MAX_BYTES = 8 * 1_048_576;
/** Default GOP cache bound in tags (video + audio frames, per stream). */
export const DEFAULT_GOP_CACHE_MAX_TAGS = 4_096;
/** Default bound of one viewer's outgoing queue, bytes. */
export const DEFAULT_VIEWER_QUEUE_MAX_BYTES = 2 * 1_048_576;
/** A viewer still dropping frames after this long is disconnected, ms. */
export const DEFAULT_SLOW_VIEWER_TIMEOUT_MS = 15_000;
/** The upstream pull closes this long after the last viewer leaves, ms (0 = at once). */
export const DEFAULT_IDLE_CLOSE_MS = 1_500;
/** After a 200 from the node, media must start within this long or the stream counts as offline, ms. */
export const DEFAULT_FIRST_MEDIA_TIMEOUT_MS = 1_500;
/** Viewers stay connected this long while the upstream is lost and retried, ms. */
export const DEFAULT_FAILOVER_GRACE_MS = 10_000;
/** Reconnect backoff: first delay and cap, ms. */
export const DEFAULT_RECONNECT_MIN_MS = 100;
export const DEFAULT_RECONNECT_MAX_MS = 2_000;
/** Most live FLV streams (upstream pulls) at once. */
export const DEFAULT_MAX_STREAMS = 1_000;
/** Most FLV streams one client address may have opened that are still open, streams. */
export const DEFAULT_FLV_MAX_STREAMS_PER_CLIENT = 50;
/** Rate at which one client address may open new FLV streams, streams per minute (a burst of this many, then refilled evenly). */
export const DEFAULT_FLV_NEW_STREAMS_PER_CLIENT_PER_MINUTE = 120;

/** Live HTTP-FLV fan-out settings (flv routes in proxy mode). */
export const flvSettingsSchema = object({
  /** GOP cache bound per stream, bytes. Default 8388608 (8 MiB). */
  gopCacheMaxBytes: withDefault(integer(0, 256 * 1_048_576), DEFAULT_GOP_CACHE_MAX_BYTES),
  /** GOP cache bound per stream, tags (frames). Default 4096. */
  gopCacheMaxTags: withDefault(integer(0, 100_000), DEFAULT_GOP_CACHE_MAX_TAGS),
  /** One viewer's queue bound, bytes; over it the viewer skips to the next keyframe. Default 2097152 (2 MiB). */
  viewerQueueMaxBytes: withDefault(integer(16_384, 256 * 1_048_576), DEFAULT_VIEWER_QUEUE_MAX_BYTES),
  /** A viewer still behind after this long is disconnected, ms. Default 15000. */
  slowViewerTimeoutMs: withDefault(integer(100, HOUR_MS), DEFAULT_SLOW_VIEWER_TIMEOUT_MS),
  /** Upstream closes this long after the last viewer leaves, ms; 0 = at once. Default 1500. */
  idleCloseMs: withDefault(ms(HOUR_MS), DEFAULT_IDLE_CLOSE_MS),
  /** Media must start this long after the node's 200, else the stream is offline, ms. Default 1500. */
  firstMediaTimeoutMs: withDefault(integer(50, 600_000), DEFAULT_FIRST_MEDIA_TIMEOUT_MS),
  /** Viewers are kept this long while the upstream is lost, ms. Default 10000. */
  failoverGraceMs: withDefault(ms(HOUR_MS), DEFAULT_FAILOVER_GRACE_MS),
  /** First reconnect delay, ms (doubles per failed attempt). Default 100. */
  reconnectMinMs: withDefault(integer(10, 60_000), DEFAULT_RECONNECT_MIN_MS),
  /** Longest reconnect delay, ms. Default 2000. */
  reconnectMaxMs: withDefault(integer(10, 600_000), DEFAULT_RECONNECT_MAX_MS),
  /** Write batching for large audiences, ms; 0 = off (each upstream chunk goes out at once). Default 0, at most 100. */
  writeBatchMs: withDefault(integer(0, 100), 0),
  /** Most live streams at once. Default 1000. */
  maxStreams: withDefault(integer(1, 100_000), DEFAULT_MAX_STREAMS),
  /**
   * Most streams one client address (an IPv6 address by its /64) may have opened, that is
   * pulled first, and that are still open; a further new stream from it gets 429
   * CLIENT_STREAM_LIMIT. Joining a stream already open is never limited. Behind a proxy or
   * CDN list it in relay.trustedProxies, or every viewer counts as the proxy. 0 = no limit.
   * Default 50 (a twentieth of flv.maxStreams' default).
   */
  maxStreamsPerClient: withDefault(integer(0, 100_000), DEFAULT_FLV_MAX_STREAMS_PER_CLIENT),
  /**
   * Rate of new streams (pulls, offline ones included) one client address may open, per
   * minute: this many at once, then one more each 60/N s as the allowance refills; past it
   * 429 CLIENT_STREAM_LIMIT with Retry-After. Joins are never limited. 0 = no limit. Default 120.
   */
  newStreamsPerClientPerMinute: withDefault(integer(0, 100_000), DEFAULT_FLV_NEW_STREAMS_PER_CLIENT_PER_MINUTE),
});

/** HLS segment cache bound, bytes (all segments of all streams together). */
export const DEFAULT_HLS_SEGMENT_CACHE_MAX_BYTES = 128 * 1_048_576;
/** HLS segment cache bound, entries. */
export const DEFAULT_HLS_SEGMENT_CACHE_MAX_ENTRIES = 10_000;
/** Largest single object (segment, part, key, error body) the HLS cache keeps, bytes; larger ones stream through uncached. */
export const DEFAULT_HLS_SEGMENT_MAX_BYTES = 16 * 1_048_576;
/** A cached segment is served this long, ms (a live encoder that restarts may reuse segment names). */
export const DEFAULT_HLS_SEGMENT_TTL_MS = 60_000;
/** A live media playlist is cached for this percentage of its target duration (of its part target for LL-HLS). */
export const DEFAULT_HLS_PLAYLIST_CACHE_PERCENT = 50;
/** Master playlists and ended (VOD / EXT-X-ENDLIST) playlists are cached this long, ms. */
export const DEFAULT_HLS_STATIC_PLAYLIST_CACHE_MS = 5_000;
/** Largest playlist accepted from a node, bytes; a larger one is cut off and answered 502 HLS_PLAYLIST_TOO_LARGE. */
export const DEFAULT_HLS_PLAYLIST_MAX_BYTES = 4 * 1_048_576;
/** Playlists being fetched from nodes (held whole until parsed) may hold this much together, bytes. */
export const DEFAULT_HLS_PLAYLIST_WORK_MAX_BYTES = 16 * 1_048_576;
/** Most playlist fetches (held whole until parsed) in flight at once, fetches. */
export const DEFAULT_HLS_PLAYLIST_WORK_MAX_COUNT = 32;
/** HLS playlist cache bound, bytes (raw playlists from nodes). */
export const DEFAULT_HLS_PLAYLIST_CACHE_MAX_BYTES = 32 * 1_048_576;
/** HLS playlist cache bound, entries. */
export const DEFAULT_HLS_PLAYLIST_CACHE_MAX_ENTRIES = 1_000;
/** Node errors (non-2xx answers, failed fetches) are cached this long, ms. */
export const DEFAULT_HLS_ERROR_CACHE_MS = 1_000;
/** Query parameters of a viewer's playlist request carried into every relay URI of the playlist: the viewer auth parameters (signature, signed prefix, token). */
export const DEFAULT_HLS_CARRY_PARAMS: readonly string[] = ['sign', 'sp', 'token'];
/** An HLS viewer counts as watching while it made a request within this long, ms. */
export const DEFAULT_HLS_VIEWER_WINDOW_MS = 15_000;
/** Most HLS streams with stats at once (the least recently active is dropped). */
export const DEFAULT_HLS_MAX_STREAMS = 1_000;
/** Most HLS viewers tracked at once, over all streams. */
export const DEFAULT_HLS_MAX_TRACKED_VIEWERS = 100_000;
/** An HLS stream's stats are dropped after no request for this long, ms. */
export const DEFAULT_HLS_STREAM_IDLE_MS = 120_000;
/**
 * Most nodes one HLS request (playlist or segment) is tried on, the first included: when a
 * node fails before anything was sent to the viewer (no connection, reset, timeout, a 5xx
 * answer, or a 404 while the locator offered other nodes) the next node that can serve the
 * stream is asked, up to this many in all; 1 = no failover (electron/relay/hls/failover.ts).
 */
export const DEFAULT_HLS_MAX_NODE_ATTEMPTS = 3;

/** The relay's own query parameter in rewritten HLS URIs (stream and node hint; electron/relay/hls/hint.ts). */
export const HLS_HINT_PARAM = '_rdh';

/** HLS through the relay (hls routes): playlist rewriting, segment and playlist cache, stats. */
export const hlsSettingsSchema = object({
  /** Segment cache bound over all streams, bytes; fetches in flight that may be cached count against it too; 0 turns segment caching off. Default 134217728 (128 MiB). */
  segmentCacheMaxBytes: withDefault(integer(0, 64 * 1_073_741_824), DEFAULT_HLS_SEGMENT_CACHE_MAX_BYTES),
  /** Segment cache bound, entries. Default 10000. */
  segmentCacheMaxEntries: withDefault(integer(1, 1_000_000), DEFAULT_HLS_SEGMENT_CACHE_MAX_ENTRIES),
  /** Largest object cached, bytes; larger ones stream through uncached. Default 16777216 (16 MiB). */
  segmentMaxBytes: withDefault(integer(1_024, 1_073_741_824), DEFAULT_HLS_SEGMENT_MAX_BYTES),
  /** How long a cached segment is served, ms. Default 60000. */
  segmentTtlMs: withDefault(integer(100, 24 * HOUR_MS), DEFAULT_HLS_SEGMENT_TTL_MS),
  /** Live media playlists are cached for this percentage of the target duration (part target for LL-HLS), percent; 0 = not cached (concurrent requests still share one fetch). Default 50. */
  playlistCachePercent: withDefault(integer(0, 100), DEFAULT_HLS_PLAYLIST_CACHE_PERCENT),
  /** Master and ended (VOD) playlists are cached this long, ms. Default 5000. */
  staticPlaylistCacheMs: withDefault(ms(HOUR_MS), DEFAULT_HLS_STATIC_PLAYLIST_CACHE_MS),
  /** Largest playlist accepted from a node, bytes; over it: 502 HLS_PLAYLIST_TOO_LARGE. Default 4194304 (4 MiB). */
  playlistMaxBytes: withDefault(integer(1_024, 256 * 1_048_576), DEFAULT_HLS_PLAYLIST_MAX_BYTES),
  /** Bytes all playlist fetches in flight may hold together (a playlist is held whole until parsed); a fetch that would pass it is refused 503 HLS_BUSY, never counted against the node. At least hls.playlistMaxBytes. Default 16777216 (16 MiB). */
  playlistWorkMaxBytes: withDefault(integer(1_024, 4 * 1_073_741_824), DEFAULT_HLS_PLAYLIST_WORK_MAX_BYTES),
  /** Most playlist fetches in flight at once (distinct playlists; viewers of one share its fetch), fetches; past it: 503 HLS_BUSY, never counted against the node. Default 32. */
  playlistWorkMaxCount: withDefault(integer(1, 10_000), DEFAULT_HLS_PLAYLIST_WORK_MAX_COUNT),
  /** Playlist cache bound, bytes. Default 33554432 (32 MiB). */
  playlistCacheMaxBytes: withDefault(integer(0, 4 * 1_073_741_824), DEFAULT_HLS_PLAYLIST_CACHE_MAX_BYTES),
  /** Playlist cache bound, entries. Default 1000. */
  playlistCacheMaxEntries: withDefault(integer(1, 100_000), DEFAULT_HLS_PLAYLIST_CACHE_MAX_ENTRIES),
  /** Node errors (non-2xx, failed fetches) are cached this long, ms; 0 = not cached. Default 1000. */
  errorCacheMs: withDefault(ms(60_000), DEFAULT_HLS_ERROR_CACHE_MS),
  /** Query parameters carried from a viewer's playlist request into the playlist's relay URIs (never into node URLs). Default ["sign", "sp", "token"]. */
  carryParams: withDefault(
    array(string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_.~-]+$/, patternName: 'a query parameter name of letters, digits, "_", ".", "~" or "-"' }), 16),
    [...DEFAULT_HLS_CARRY_PARAMS],
  ),
  /** An http(s) URI on a host that is no configured node: "keep" it as written, or "reject" the playlist (502). Default "keep". */
  foreignUris: withDefault(oneOf(['keep', 'reject'] as const), 'keep'),
  /** A viewer counts as watching while it made a request within this long, ms. Default 15000. */
  viewerWindowMs: withDefault(integer(1_000, HOUR_MS), DEFAULT_HLS_VIEWER_WINDOW_MS),
  /** Most streams with stats at once. Default 1000. */
  maxStreams: withDefault(integer(1, 100_000), DEFAULT_HLS_MAX_STREAMS),
  /** Most viewers tracked at once over all streams. Default 100000. */
  maxTrackedViewers: withDefault(integer(1, 10_000_000), DEFAULT_HLS_MAX_TRACKED_VIEWERS),
  /** A stream's stats are dropped after no request for this long, ms. Default 120000. */
  streamIdleMs: withDefault(integer(1_000, 24 * HOUR_MS), DEFAULT_HLS_STREAM_IDLE_MS),
  /** Most nodes one request is tried on, the first included, nodes: a node that fails before the viewer got a byte (no connection, reset, timeout, 5xx, or 404 while the locator offered others) hands over to the next; 1 = no failover. Default 3. */
  maxNodeAttempts: withDefault(integer(1, MAX_NODES), DEFAULT_HLS_MAX_NODE_ATTEMPTS),
});

/** Active health check: time between checks of one node, ms. */
export const DEFAULT_HEALTH_INTERVAL_MS = 5_000;
/** Active health check: time allowed for one check, ms. */
export const DEFAULT_HEALTH_TIMEOUT_MS = 2_000;
/** Consecutive passed checks that bring a down node up. */
export const DEFAULT_HEALTH_PASSES = 2;
/** Consecutive failed checks that take a node down. */
export const DEFAULT_HEALTH_FAILS = 3;
/** Passive checks: proxy failures within this window count against a node, ms. */
export const DEFAULT_PASSIVE_WINDOW_MS = 30_000;
/** Passive checks: this many proxy failures within the window take a node down. */
export const DEFAULT_PASSIVE_MAX_FAILS = 5;
/** Stream location by probe: a cached location is trusted this long, ms. */
export const DEFAULT_PROBE_TTL_MS = 5_000;
/** Stream location by probe: nodes' stream lists are refreshed in the background this often, ms. */
export const DEFAULT_PROBE_REFRESH_MS = 2_000;
/** Stream location by probe: time allowed for one node's answer, ms. */
export const DEFAULT_PROBE_TIMEOUT_MS = 1_500;
/** Stream location by probe: most stream locations kept in the cache. */
export const DEFAULT_PROBE_CACHE_ENTRIES = 10_000;

/** Health checks and stream location defaults, set in one place (nodes may override health). */
export const healthSettingsSchema = object({
  /** Path requested by the active check (GET); any HTTP answer below 500 passes. Default "/". */
  path: withDefault(string({ min: 1, max: 1024, pattern: /^\/[\x21-\x7e]*$/, patternName: 'a path starting with "/"' }), '/'),
  /** Time between active checks, ms; 0 disables active checks. Default 5000. */
  intervalMs: withDefault(ms(HOUR_MS), DEFAULT_HEALTH_INTERVAL_MS),
  /** Time allowed for one check, ms. Default 2000. */
  timeoutMs: withDefault(integer(10, 600_000), DEFAULT_HEALTH_TIMEOUT_MS),
  /** Consecutive passes to bring a node up. Default 2. */
  passes: withDefault(integer(1, 100), DEFAULT_HEALTH_PASSES),
  /** Consecutive fails to take a node down. Default 3. */
  fails: withDefault(integer(1, 100), DEFAULT_HEALTH_FAILS),
  /** Window in which passive (proxy) failures count, ms. Default 30000. */
  passiveWindowMs: withDefault(integer(100, HOUR_MS), DEFAULT_PASSIVE_WINDOW_MS),
  /** Proxy failures within the window that take a node down; 0 disables passive checks. Default 5. */
  passiveMaxFails: withDefault(integer(0, 10_000), DEFAULT_PASSIVE_MAX_FAILS),
});

export const locatorSettingsSchema = object({
  /** A probed stream location is trusted this long, ms. Default 5000. */
  probeTtlMs: withDefault(integer(100, HOUR_MS), DEFAULT_PROBE_TTL_MS),
  /** Background refresh of nodes' stream lists, ms; 0 = only on demand. Default 2000. */
  probeRefreshMs: withDefault(ms(HOUR_MS), DEFAULT_PROBE_REFRESH_MS),
  /** Time allowed for one node's probe answer, ms. Default 1500. */
  probeTimeoutMs: withDefault(integer(10, 60_000), DEFAULT_PROBE_TIMEOUT_MS),
  /** Most cached stream locations. Default 10000. */
  probeCacheEntries: withDefault(integer(1, 1_000_000), DEFAULT_PROBE_CACHE_ENTRIES),
});

export const NODE_API_TYPES = ['nms', 'srs', 'mediamtx', 'zlm', 'head'] as const;

/** How to ask a node which streams it holds. */
export const nodeApiSchema = object({
  /** "nms" (node-media-server v4), "srs", "mediamtx", "zlm" (ZLMediaKit) or "head" (HEAD the stream URL). */
  type: oneOf(NODE_API_TYPES),
  /** Base URL of the API when it is not the node URL (e.g. MediaMTX's API port). */
  url: optional(string({ min: 1, max: 2048 })),
  /** nms: API user name. */
  username: optional(string({ min: 1, max: 256 })),
  /** nms: API password. */
  password: optional(string({ min: 1, max: 256 })),
  /** zlm: the API secret. */
  secret: optional(string({ min: 1, max: 256 })),
});

/** Admin API (and UI) server settings. */
export const adminSettingsSchema = object({
  /** Address the admin API listens on. Default 127.0.0.1 (loopback). */
  host: withDefault(host(), '127.0.0.1'),
  /** Admin port; 0 picks a free port. Default 8091. */
  port: withDefault(port(), DEFAULT_ADMIN_PORT),
  /** Bearer token for the admin API; generated and saved when absent. */
  token: optional(string({ min: 16, max: 256, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII without spaces' })),
  /** Largest request body, bytes. Default 1048576. */
  maxBodyBytes: withDefault(integer(1_024, 64 * 1_048_576), DEFAULT_ADMIN_MAX_BODY_BYTES),
  /** Must be true to bind the admin API to a non-loopback address (a warning is printed). Default false. */
  allowRemote: withDefault(boolean(), false),
  /** Failed logins allowed per client address per minute; more get 429. Default 10. */
  maxFailedAuthPerMinute: withDefault(integer(1, 10_000), DEFAULT_ADMIN_MAX_FAILED_AUTH_PER_MINUTE),
  /** Audit log size before it rolls over to audit.log.1, bytes. Default 5242880 (5 MiB). */
  auditLogMaxBytes: withDefault(integer(4_096, 1_073_741_824), DEFAULT_AUDIT_LOG_MAX_BYTES),
  /**
   * Further names (no port; any port matches) the admin port answers in the Host header, e.g.
   * the name a reverse proxy or the LAN's DNS gives it. Besides these it answers only the
   * address it is reached by (421 to any other Host: DNS rebinding). At most 64. Default none.
   */
  allowedHosts: withDefault(array(string({ min: 1, max: 253, pattern: ALLOWED_HOST_PATTERN, patternName: 'a host name or IP address without port' }), MAX_ADMIN_ALLOWED_HOSTS), []),
});

/** Default bound of the Traffic page's in-memory list, entries. */
export const DEFAULT_TRAFFIC_LOG_ENTRIES = 10_000;
/** Default port of the built-in demo node (electron/demo/); when taken, a free port is used. */
export const DEFAULT_DEMO_PORT = 8092;

/** Desktop app and operator UI settings. */
export const appSettingsSchema = object({
  /** Closing the window keeps RelayDeck, and the relay, running in the tray (where the desktop has one). Default true. */
  closeToTray: withDefault(boolean(), true),
  /** Most requests the Traffic page keeps in memory, entries; older ones are dropped. Default 10000. */
  trafficLogEntries: withDefault(integer(100, 100_000), DEFAULT_TRAFFIC_LOG_ENTRIES),
});

/**
 * The built-in demo node: a looping test stream served in-process on 127.0.0.1. Written on
 * the first run (no config file yet) with its node and routes; "remove demo" sets enabled
 * to false. Absent in configs that never had it.
 */
export const demoSettingsSchema = object({
  /** Serve the demo node. Default true. */
  enabled: withDefault(boolean(), true),
  /** Port of the demo node (loopback only); 0 picks a free port, as does a taken port. Default 8092. */
  port: withDefault(port(), DEFAULT_DEMO_PORT),
});

/** A media node: configuration only (live state lives in the engine). */
export const nodeSchema = object({
  /** Unique id, referenced by routes. */
  id: id(),
  /** Base URL of the node, http or https, no query or fragment, e.g. http://10.0.0.5:8000. */
  url: string({ min: 1, max: 2048 }),
  /** A disabled node is never chosen. Default true. */
  enabled: withDefault(boolean(), true),
  /** Relative weight for balancing locators. Default 1. */
  weight: withDefault(integer(1, 1_000), 1),
  /** Draining: no new sessions go to the node; its live FLV streams move to other nodes that hold them (what no node takes ends at relay.drainDeadlineMs), other sessions continue. Default false. */
  draining: withDefault(boolean(), false),
  /** Per-node overrides of the `health` defaults. */
  health: optional(partial(healthSettingsSchema)),
  /** The node's stream-list API, for routes with locate "probe". */
  api: optional(nodeApiSchema),
});

export const ROUTE_KINDS = ['flv', 'hls', 'file'] as const;
export const ROUTE_MODES = ['redirect', 'proxy'] as const;

/** Viewer auth of a route: IP lists, and signed URLs or static tokens (either is enough). */
export const viewerAuthSchema = object({
  /**
   * HMAC secrets for `?sign=EXPIRY-HMAC`, at most 16; several may be active at once (rotation).
   * Each item: `{ "id": "k1", "secret": "<16 to 512 characters>" }`; the id names the key in
   * `relaydeck sign --key` and the signUrl call.
   */
  keys: optional(array(object({ id: id(), secret: string({ min: 16, max: 512 }) }), 16)),
  /**
   * Static tokens (`?token=`), at most 1,000. Each item: `{ "token": "<8 to 512 printable
   * ASCII>", "label": "partner-a", "expiresAt": "2027-01-31T00:00:00Z" }`; the label is counted
   * in the stats; `expiresAt` (an ISO date or epoch ms) is optional.
   */
  tokens: optional(array(object({ token: string({ min: 8, max: 512, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII' }), label: id(), expiresAt: optional(string({ min: 1, max: 64 })) }), 1_000)),
  /** Only these client addresses (CIDRs) may watch; empty = any. */
  allow: optional(array(cidr(), 1_000)),
  /** These client addresses (CIDRs) may not watch. */
  deny: optional(array(cidr(), 1_000)),
  /** Pass the auth parameters on to the node and into redirects. Default false (stripped). */
  passParams: withDefault(boolean(), false),
});

export const LOCATORS = ['first', 'static', 'probe', 'hash', 'least-load'] as const;

/** One static location rule: streams whose key matches `match` ("*" = any characters) go to `node`. */
export const staticRuleSchema = object({
  /** A stream-key pattern ("live/cam*"); "*" matches any characters. A stream key is the first two segments of the path on the node, extension removed: `/live/cam1.flv` and `/live/cam1/index.m3u8` both have the key `live/cam1`. */
  match: string({ min: 1, max: 512, pattern: /^[\x21-\x7e]+$/, patternName: 'a pattern of visible ASCII, "*" as wildcard' }),
  /** The id of the node that holds the matching streams (it must be one of the route's nodes). */
  node: id(),
});

/** Whether routes accept an encoded "/" or "\\" in a request path (routes[].allowEncodedSlash). */
export const DEFAULT_ALLOW_ENCODED_SLASH = false;
/** What a proxy route does with a node's redirect to another host (routes[].foreignRedirects). */
export const FOREIGN_REDIRECTS = ['refuse', 'pass'] as const;
export const DEFAULT_FOREIGN_REDIRECTS: (typeof FOREIGN_REDIRECTS)[number] = 'refuse';

/** A route: requests whose path starts with `path` (longest prefix wins). */
export const routeSchema = object({
  /** Unique id. */
  id: id(),
  /** Path prefix, starting and ending with "/", e.g. "/live/". */
  path: string({ min: 1, max: 1024, pattern: /^\/([A-Za-z0-9._~!$&'()*+,;=:@%-]+\/)*$/, patternName: 'a path prefix that starts and ends with "/"' }),
  /** What the route carries: "flv", "hls" or "file". */
  kind: oneOf(ROUTE_KINDS),
  /** "redirect" answers 302/307 to the node; "proxy" streams through the relay. */
  mode: oneOf(ROUTE_MODES),
  /** Node ids that may serve the route; omitted means all nodes. */
  nodes: optional(array(id(), MAX_NODES)),
  /** Remove `path` from the front of the request path before building the node URL. Default false. */
  stripPrefix: withDefault(boolean(), false),
  /** Redirect status, 302 or 307. Default 302. */
  status: withDefault(oneOf([302, 307] as const), 302),
  /** flv proxy routes: share one upstream pull per stream among its viewers. Default true. */
  fanout: withDefault(boolean(), true),
  /** flv fan-out: keep the last GOP so late joiners start at once. Default true. */
  gopCache: withDefault(boolean(), true),
  /** flv fan-out: how long a viewer of an offline stream waits for it to come online, ms; 0 = fast 404. Default 0. */
  offlineWaitMs: withDefault(integer(0, 600_000), 0),
  /** How the node for a stream is found: "first", "static", "probe", "hash" or "least-load". Default "first". */
  locate: withDefault(oneOf(LOCATORS), 'first'),
  /** locate "static": stream-key patterns ("live/cam*") to node ids, first match wins. */
  static: optional(array(staticRuleSchema, 1_000)),
  /** locate "least-load": balance on active "viewers" or on outgoing "mbps". Default "viewers". */
  leastLoadBy: withDefault(oneOf(['viewers', 'mbps'] as const), 'viewers'),
  /** Viewer auth for this route; absent = open. */
  auth: optional(viewerAuthSchema),
  /**
   * flv fan-out and hls proxy: the viewer query parameters (by name) that select a different
   * stream on the node; they are sent to the node and are part of the stream identity. Every
   * other viewer parameter stays at the relay, so distinct query strings share one pull or
   * fetch. Auth parameters passed on (auth.passParams) reach the node but are not part of the
   * identity unless listed here: a shared pull or fetch carries those of the viewer who
   * started it. At most 32 names. Default none.
   */
  streamParams: withDefault(array(string({ min: 1, max: 64, pattern: /^[A-Za-z0-9._~!$'()*+,;:@-]+$/, patternName: 'a query parameter name' }), 32), []),
  /**
   * Accept request paths holding an encoded "/" or "\\" (%2F, %5C): they are then kept encoded
   * and forwarded as received. When false such a request gets 400 BAD_REQUEST (a node that
   * decodes them would see another path than the one the route was matched on). Default false.
   */
  allowEncodedSlash: withDefault(boolean(), DEFAULT_ALLOW_ENCODED_SLASH),
  /**
   * proxy mode: a node's redirect (Location) to another host than a configured node:
   * "refuse" answers 502 UPSTREAM_REDIRECT, "pass" hands it to the viewer unchanged. A
   * redirect to a node is always rewritten to the relay path that reaches it (or refused
   * when no route does), so the node's address never reaches the viewer. Default "refuse".
   */
  foreignRedirects: withDefault(oneOf(FOREIGN_REDIRECTS), DEFAULT_FOREIGN_REDIRECTS),
});

export const configSchema = object({
  relay: withDefault(relaySettingsSchema, relaySettingsSchema.parse({}, 'relay')),
  admin: withDefault(adminSettingsSchema, adminSettingsSchema.parse({}, 'admin')),
  flv: withDefault(flvSettingsSchema, flvSettingsSchema.parse({}, 'flv')),
  hls: withDefault(hlsSettingsSchema, hlsSettingsSchema.parse({}, 'hls')),
  health: withDefault(healthSettingsSchema, healthSettingsSchema.parse({}, 'health')),
  locator: withDefault(locatorSettingsSchema, locatorSettingsSchema.parse({}, 'locator')),
  nodes: withDefault(array(nodeSchema, MAX_NODES), []),
  routes: withDefault(array(routeSchema, MAX_ROUTES), []),
  app: withDefault(appSettingsSchema, appSettingsSchema.parse({}, 'app')),
  /** Undefined unless the demo was ever installed (see demoSettingsSchema). */
  demo: optional(demoSettingsSchema) as Schema<DemoSettings | undefined>,
});

export const routePatchSchema = partial(routeSchema);
export const nodePatchSchema = partial(nodeSchema);

export type RelaySettings = Infer<typeof relaySettingsSchema>;
export type AdminSettings = Infer<typeof adminSettingsSchema>;
export type FlvSettings = Infer<typeof flvSettingsSchema>;
export type HlsSettings = Infer<typeof hlsSettingsSchema>;
export type HealthSettings = Infer<typeof healthSettingsSchema>;
export type LocatorSettings = Infer<typeof locatorSettingsSchema>;
export type NodeApiConfig = Infer<typeof nodeApiSchema>;
export type Locator = (typeof LOCATORS)[number];
export type AppSettings = Infer<typeof appSettingsSchema>;
export type DemoSettings = Infer<typeof demoSettingsSchema>;
/** A media node as configured. */
export type NodeConfig = Infer<typeof nodeSchema>;
/** A route as configured. */
export type RouteConfig = Infer<typeof routeSchema>;
export type RouteKind = (typeof ROUTE_KINDS)[number];
export type RouteMode = (typeof ROUTE_MODES)[number];
/** The whole configuration file. */
export type RelayDeckConfig = Infer<typeof configSchema>;

function checkNodeUrl(url: string, path: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SchemaError(path, `expected an absolute http:// or https:// URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SchemaError(path, `expected http:// or https://, got "${parsed.protocol}"`);
  if (parsed.search || parsed.hash || url.includes('#')) throw new SchemaError(path, 'must not have a query or fragment');
  if (parsed.username || parsed.password) throw new SchemaError(path, 'must not hold credentials');
}

/** relay.publicUrl: a node-style URL (http/https, no query, fragment or credentials) viewers can reach. */
function checkPublicUrl(url: string, path: string): void {
  checkNodeUrl(url, path);
  const host = new URL(url).hostname;
  if (host === '0.0.0.0' || host === '[::]') throw new SchemaError(path, `"${host}" is a bind address, not one viewers can reach: give the host name or address they use`);
}

function checkUnique<T>(items: T[], key: (item: T) => string, listPath: string, field: string): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const value = key(item);
    if (seen.has(value)) throw new SchemaError(`${listPath}[${index}].${field}`, `duplicate ${field} "${value}"`);
    seen.add(value);
  });
}

/** Cross-field rules that a per-field schema cannot express. */
function checkCrossFields(config: RelayDeckConfig): void {
  config.nodes.forEach((node, i) => checkNodeUrl(node.url, `nodes[${i}].url`));
  checkUnique(config.nodes, (n) => n.id, 'nodes', 'id');
  checkUnique(config.routes, (r) => r.id, 'routes', 'id');
  checkUnique(config.routes, (r) => r.path, 'routes', 'path');
  const nodeIds = new Set(config.nodes.map((n) => n.id));
  config.nodes.forEach((node, i) => {
    if (node.api?.url) checkNodeUrl(node.api.url, `nodes[${i}].api.url`);
    if (node.api?.type === 'nms' && (!node.api.username || !node.api.password)) {
      throw new SchemaError(`nodes[${i}].api`, `'username' and 'password' are required when type is 'nms'`);
    }
  });
  config.routes.forEach((route, i) => {
    route.nodes?.forEach((nodeId, j) => {
      if (!nodeIds.has(nodeId)) throw new SchemaError(`routes[${i}].nodes[${j}]`, `no node with id "${nodeId}"`);
    });
    route.static?.forEach((rule, j) => {
      if (!nodeIds.has(rule.node)) throw new SchemaError(`routes[${i}].static[${j}].node`, `no node with id "${rule.node}"`);
    });
    if (route.locate === 'static' && !route.static?.length) {
      throw new SchemaError(`routes[${i}].static`, `is required when locate is 'static'`);
    }
    if (route.static && route.locate !== 'static') {
      throw new SchemaError(`routes[${i}].static`, `is useless when locate is '${route.locate}'`);
    }
  });
  config.routes.forEach((route, i) => checkRoutePath(route.path, `routes[${i}].path`));
  if (config.relay.publicUrl) checkPublicUrl(config.relay.publicUrl, 'relay.publicUrl');
  if (config.relay.readyPath && config.relay.readyPath === config.relay.healthPath) throw new SchemaError('relay.readyPath', `must differ from relay.healthPath ("${config.relay.healthPath}")`);
  config.routes.forEach((route, i) => {
    const auth = route.auth;
    if (!auth) return;
    auth.tokens?.forEach((token, j) => {
      if (token.expiresAt !== undefined && Number.isNaN(parseExpiry(token.expiresAt))) {
        throw new SchemaError(`routes[${i}].auth.tokens[${j}].expiresAt`, `expected an ISO date or epoch ms, got "${token.expiresAt}"`);
      }
    });
  });
  if (!isLoopbackHost(config.admin.host) && !config.admin.allowRemote) {
    throw new SchemaError('admin.host', `"${config.admin.host}" is not a loopback address: set admin.allowRemote to true to expose the admin API`);
  }
  if (config.flv.reconnectMinMs > config.flv.reconnectMaxMs) {
    throw new SchemaError('flv.reconnectMinMs', `must not exceed flv.reconnectMaxMs (${config.flv.reconnectMaxMs})`);
  }
  if (config.hls.playlistWorkMaxBytes < config.hls.playlistMaxBytes) {
    throw new SchemaError('hls.playlistWorkMaxBytes', `must be at least hls.playlistMaxBytes (${config.hls.playlistMaxBytes}), or no playlist of that size could be fetched`);
  }
  config.hls.carryParams.forEach((name, i) => {
    if (name === HLS_HINT_PARAM || name.startsWith('_HLS_')) throw new SchemaError(`hls.carryParams[${i}]`, `"${name}" is reserved by the relay and LL-HLS`);
  });
  const { relay, admin } = config;
  if (relay.port !== 0 && relay.port === admin.port && relay.host === admin.host) {
    throw new SchemaError('admin.port', `must differ from relay.port (${relay.port})`);
  }
}

/** A token expiry as epoch ms: an ISO date or a number of ms; NaN when neither. */
export function parseExpiry(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
}

/** True for loopback host names and addresses (the admin API's safe default). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** Requests are matched on their normal form (shared/request-path.ts), so a prefix in another form would never match. */
function checkRoutePath(path: string, field: string): void {
  let normal: NormalPath;
  try {
    normal = normalisePath(path);
  } catch (error) {
    throw new SchemaError(field, (error as Error).message);
  }
  if (normal.encodedSlash) throw new SchemaError(field, 'must not hold an encoded "/" or "\\" (%2F, %5C)');
  if (normal.path !== path) throw new SchemaError(field, `must be in normal form (requests are matched on it): write "${normal.path}"`);
}


/** Validate untrusted data as a full configuration, filling defaults. Throws SchemaError. */
export function parseConfig(value: unknown): RelayDeckConfig {
  const config = configSchema.parse(value, '');
  checkCrossFields(config);
  return config;
}
