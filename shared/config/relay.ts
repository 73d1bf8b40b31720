/** The `relay` section: the viewer-facing relay server. */
import { array, object, oneOf, setting, string, integer } from '../schema.js';
import { cidr, host, HOUR_MS, ms, port } from './fields.js';

/** A probe path: empty (off) or an absolute path without query, e.g. "/healthz". */
const probePath = () =>
  string({ max: 256, pattern: /^(\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$/, patternName: 'an empty string or a path starting with "/" (no query)' });

/** Viewer-facing relay server settings. */
export const relaySettingsSchema = object({
  host: setting(host(), '127.0.0.1', { doc: 'Address the relay listens on.' }),
  port: setting(port(), 8090, { unit: 'port', doc: 'Port the relay listens on; 0 picks a free port.' }),
  connectTimeoutMs: setting(integer(1, HOUR_MS), 30_000, { unit: 'ms', doc: 'Time allowed to open the TCP connection to a node.' }),
  headerTimeoutMs: setting(integer(1, HOUR_MS), 10_000, { unit: 'ms', doc: "Time allowed from the request sent to the node's response headers." }),
  idleStreamTimeoutMs: setting(ms(HOUR_MS), 20_000, {
    unit: 'ms',
    doc: 'A proxied response that brings no bytes from the node for this long is ended; 0 = off.',
  }),
  proxyEngine: setting(oneOf(['native', 'http-proxy-3'] as const), 'native', { doc: 'Which proxy implementation streams proxied requests.' }),
  maxSessions: setting(integer(1, 1_000_000), 10_000, {
    unit: 'requests',
    doc: 'Most requests in flight on the relay port at once; further connections are refused.',
  }),
  maxConnectionsPerAddress: setting(integer(0, 1_000_000), 0, {
    unit: 'connections',
    doc:
      'Most connections open at once from one client address (IPv6: from one relay.addressLimitIpv6Prefix network), on the plain and HTTPS listeners together; a request on a ' +
      'connection past it gets 429 ADDRESS_LIMIT with Retry-After and the connection closes. Behind trusted proxies (relay.trustedProxies) the proxy is the client. 0 = no limit.',
  }),
  addressLimitIpv6Prefix: setting(integer(1, 128), 64, {
    unit: 'bits',
    doc: 'IPv6 clients are counted per network of this prefix length for relay.maxConnectionsPerAddress (one home or phone usually holds a whole /64).',
  }),
  maxIdleUpstreamSockets: setting(integer(0, 10_000), 64, { unit: 'sockets', doc: 'Idle keep-alive connections kept open per node for reuse.' }),
  shutdownGraceMs: setting(ms(600_000), 5_000, { unit: 'ms', doc: 'On shutdown, streams get this long to end cleanly before they are cut.' }),
  drainDeadlineMs: setting(ms(24 * HOUR_MS), 600_000, {
    unit: 'ms',
    doc: "Streams still on a draining node this long after the drain began (no other node took them) are ended, viewers' records say DRAINED; 0 = never.",
  }),
  requestLogEntries: setting(integer(0, 100_000), 1_000, {
    unit: 'entries',
    doc: 'Finished requests kept in the in-memory request log (sessions API, traffic view).',
  }),
  headerReadTimeoutMs: setting(integer(100, 600_000), 10_000, {
    unit: 'ms',
    doc: 'A viewer must send its whole request head within this long, else 408 (slowloris).',
  }),
  requestBodyIdleTimeoutMs: setting(integer(100, HOUR_MS), 10_000, {
    unit: 'ms',
    doc: "A proxied request body (an upload) that brings no bytes from the viewer for this long is answered 408 REQUEST_TIMEOUT (the viewer's fault, not the node's); the node's response-header timeout starts only once the whole body was sent.",
  }),
  maxHeaderBytes: setting(integer(1_024, 1_048_576), 16_384, { unit: 'bytes', doc: 'Largest request head accepted; larger gets 431.' }),
  maxHeaderCount: setting(integer(8, 2_000), 100, { unit: 'header fields', doc: 'Most request header fields accepted; more gets 431.' }),
  listenBacklog: setting(integer(1, 65_535), 4_096, {
    unit: 'connections',
    doc: 'Pending connections the kernel may queue for the relay port (flash crowds); capped by the OS (net.core.somaxconn).',
  }),
  trustedProxies: setting(array(cidr(), 256), [], {
    doc: "Proxies whose X-Forwarded-For is believed (CIDRs, at most 256); the viewer's address is the last one not in this list.",
  }),
  publicUrl: setting(string({ max: 2048 }), '', {
    doc:
      'The relay\'s address for viewers, when it is not the listening one: a host name, another port, or https behind a load balancer or CDN, e.g. "https://live.example.com" ' +
      "(an absolute http(s) URL, a path allowed, no query). Signed URLs (signUrl, `relaydeck sign`), the UI's copy buttons and its preview use it. " +
      'Empty = unset: the address the UI was loaded from with the relay port (127.0.0.1 in the desktop app when bound to 0.0.0.0 or ::), never 0.0.0.0.',
  }),
  healthPath: setting(probePath(), '/healthz', {
    doc:
      'Liveness probe on the relay port: GET/HEAD answers 200 {"status":"ok"} while the process runs, before any route (a route with the same path is shadowed), ' +
      'never counted in stats or the request log. Empty string = off.',
  }),
  readyPath: setting(probePath(), '/readyz', {
    doc: 'Readiness probe on the relay port: 200 {"status":"ready"} when listening with a config loaded, 503 {"status":"unready","reason":...} while paused or stopping; otherwise as healthPath. Empty string = off.',
  }),
});

const defaults = relaySettingsSchema.parse({}, 'relay');

// The values below are read from the schema (each is written once, on its field), under the names code imports.
export const DEFAULT_RELAY_PORT = defaults.port;
export const DEFAULT_CONNECT_TIMEOUT_MS = defaults.connectTimeoutMs;
export const DEFAULT_HEADER_TIMEOUT_MS = defaults.headerTimeoutMs;
export const DEFAULT_IDLE_STREAM_TIMEOUT_MS = defaults.idleStreamTimeoutMs;
export const DEFAULT_MAX_SESSIONS = defaults.maxSessions;
export const DEFAULT_MAX_IDLE_UPSTREAM_SOCKETS = defaults.maxIdleUpstreamSockets;
export const DEFAULT_SHUTDOWN_GRACE_MS = defaults.shutdownGraceMs;
export const DEFAULT_DRAIN_DEADLINE_MS = defaults.drainDeadlineMs;
export const DEFAULT_REQUEST_LOG_ENTRIES = defaults.requestLogEntries;
export const DEFAULT_HEADER_READ_TIMEOUT_MS = defaults.headerReadTimeoutMs;
export const DEFAULT_REQUEST_BODY_IDLE_TIMEOUT_MS = defaults.requestBodyIdleTimeoutMs;
export const DEFAULT_MAX_HEADER_BYTES = defaults.maxHeaderBytes;
export const DEFAULT_MAX_HEADER_COUNT = defaults.maxHeaderCount;
export const DEFAULT_LISTEN_BACKLOG = defaults.listenBacklog;
export const DEFAULT_HEALTH_PATH = defaults.healthPath;
export const DEFAULT_READY_PATH = defaults.readyPath;
