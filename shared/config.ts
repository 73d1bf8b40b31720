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
  withDefault,
  type Infer,
} from './schema.js';

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
const HOUR_MS = 3_600_000;

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
  /** Finished requests kept in memory. Default 1000. */
  requestLogEntries: withDefault(integer(0, 100_000), DEFAULT_REQUEST_LOG_ENTRIES),
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
});

export const ROUTE_KINDS = ['flv', 'hls', 'file'] as const;
export const ROUTE_MODES = ['redirect', 'proxy'] as const;

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
});

export const configSchema = object({
  relay: withDefault(relaySettingsSchema, relaySettingsSchema.parse({}, 'relay')),
  admin: withDefault(adminSettingsSchema, adminSettingsSchema.parse({}, 'admin')),
  nodes: withDefault(array(nodeSchema, MAX_NODES), []),
  routes: withDefault(array(routeSchema, MAX_ROUTES), []),
});

export const routePatchSchema = partial(routeSchema);
export const nodePatchSchema = partial(nodeSchema);

export type RelaySettings = Infer<typeof relaySettingsSchema>;
export type AdminSettings = Infer<typeof adminSettingsSchema>;
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
  config.routes.forEach((route, i) => {
    route.nodes?.forEach((nodeId, j) => {
      if (!nodeIds.has(nodeId)) throw new SchemaError(`routes[${i}].nodes[${j}]`, `no node with id "${nodeId}"`);
    });
  });
  const { relay, admin } = config;
  if (relay.port !== 0 && relay.port === admin.port && relay.host === admin.host) {
    throw new SchemaError('admin.port', `must differ from relay.port (${relay.port})`);
  }
}

/** Validate untrusted data as a full configuration, filling defaults. Throws SchemaError. */
export function parseConfig(value: unknown): RelayDeckConfig {
  const config = configSchema.parse(value, '');
  checkCrossFields(config);
  return config;
}
