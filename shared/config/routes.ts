/** `routes[]`: what the relay serves, with each route's viewer auth (`routes[].auth`) and static location rules (`routes[].static[]`). */
import { array, boolean, defaultOf, documented, integer, object, oneOf, optional, partial, setting, string } from '../schema.js';
import { cidr, id, MAX_NODES } from './fields.js';
import { corsExposedHeaders, corsOrigins } from './cors.js';
import { routeLimitsSchema, routeWebhookSchema } from './webhook.js';
import { jwtAuthSchema } from './jwt.js';

export const ROUTE_KINDS = ['flv', 'hls', 'file'] as const;
export const ROUTE_MODES = ['redirect', 'proxy'] as const;
export const LOCATORS = ['first', 'static', 'probe', 'hash', 'least-load', 'registry'] as const;
/** What a proxy route does with a node's redirect to another host (routes[].foreignRedirects). */
export const FOREIGN_REDIRECTS = ['refuse', 'pass'] as const;

/** Viewer auth of a route: IP lists, and signed URLs or static tokens (either is enough). */
export const viewerAuthSchema = object({
  keys: documented(optional(array(object({ id: id(), secret: string({ min: 16, max: 512 }) }), 16)), {
    doc:
      'HMAC secrets for `?sign=EXPIRY-HMAC`, at most 16; several may be active at once (rotation). Each item: `{ "id": "k1", "secret": "<16 to 512 characters>" }`; ' +
      'the id names the key in `relaydeck sign --key` and the signUrl call.',
  }),
  tokens: documented(
    optional(
      array(
        object({
          token: string({ min: 8, max: 512, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII' }),
          label: id(),
          expiresAt: optional(string({ min: 1, max: 64 })),
        }),
        1_000,
      ),
    ),
    {
      doc:
        'Static tokens (`?token=`), at most 1,000. Each item: `{ "token": "<8 to 512 printable ASCII>", "label": "partner-a", "expiresAt": "2027-01-31T00:00:00Z" }`; ' +
        'the label is counted in the stats; `expiresAt` (an ISO date or epoch ms) is optional.',
    },
  ),
  allow: documented(optional(array(cidr(), 1_000)), { doc: 'Only these client addresses (CIDRs) may watch; empty = any.' }),
  deny: documented(optional(array(cidr(), 1_000)), { doc: 'These client addresses (CIDRs) may not watch.' }),
  passParams: setting(boolean(), false, { doc: 'Pass the auth parameters on to the node and into redirects (false: they are stripped).' }),
  webhook: documented(optional(routeWebhookSchema), {
    doc: "The operator's service decides who may watch (see `routes[].auth.webhook`); checked after the IP lists and credentials, once per viewer session.",
  }),
  jwt: documented(optional(jwtAuthSchema), {
    doc: 'JWT viewer tokens (`?jwt=` or `Authorization: Bearer`), signed with shared secrets or keys of a JWKS (see `routes[].auth.jwt`).',
  }),
});

/** One static location rule: streams whose key matches `match` ("*" = any characters) go to `node`. */
export const staticRuleSchema = object({
  match: documented(string({ min: 1, max: 512, pattern: /^[\x21-\x7e]+$/, patternName: 'a pattern of visible ASCII, "*" as wildcard' }), {
    doc:
      'A stream-key pattern ("live/cam*"); "*" matches any characters. A stream key is the first two segments of the path on the node, extension removed: ' +
      '`/live/cam1.flv` and `/live/cam1/index.m3u8` both have the key `live/cam1`.',
  }),
  node: documented(id(), { doc: "The id of the node that holds the matching streams (it must be one of the route's nodes)." }),
});

/** A route: requests whose path starts with `path` (longest prefix wins). */
export const routeSchema = object({
  id: documented(id(), { doc: 'Unique id.' }),
  path: documented(
    string({ min: 1, max: 1024, pattern: /^\/([A-Za-z0-9._~!$&'()*+,;=:@%-]+\/)*$/, patternName: 'a path prefix that starts and ends with "/"' }),
    {
      doc: 'Path prefix, starting and ending with "/", e.g. "/live/".',
    },
  ),
  kind: documented(oneOf(ROUTE_KINDS), { doc: 'What the route carries: "flv", "hls" or "file".' }),
  mode: documented(oneOf(ROUTE_MODES), { doc: '"redirect" answers 302/307 to the node; "proxy" streams through the relay.' }),
  nodes: documented(optional(array(id(), MAX_NODES)), { doc: 'Node ids that may serve the route; omitted means all nodes.' }),
  stripPrefix: setting(boolean(), false, { doc: 'Remove `path` from the front of the request path before building the node URL.' }),
  status: setting(oneOf([302, 307] as const), 302, { doc: 'Redirect status, 302 or 307.' }),
  fanout: setting(boolean(), true, { doc: 'flv proxy routes: share one upstream pull per stream among its viewers.' }),
  gopCache: setting(boolean(), true, { doc: 'flv fan-out: keep the last GOP so late joiners start at once.' }),
  offlineWaitMs: setting(integer(0, 600_000), 0, {
    unit: 'ms',
    doc: 'flv fan-out: how long a viewer of an offline stream waits for it to come online; 0 = fast 404.',
  }),
  locate: setting(oneOf(LOCATORS), 'first', {
    doc: 'How the node for a stream is found: "first", "static", "probe", "hash", "least-load" or "registry" (what the nodes\' publish hooks told the stream registry, confirmed by probes).',
  }),
  static: documented(optional(array(staticRuleSchema, 1_000)), { doc: 'locate "static": stream-key patterns ("live/cam*") to node ids, first match wins.' }),
  leastLoadBy: setting(oneOf(['viewers', 'mbps'] as const), 'viewers', { doc: 'locate "least-load": balance on active "viewers" or on outgoing "mbps".' }),
  auth: documented(optional(viewerAuthSchema), { doc: 'Viewer auth for this route; absent = open.' }),
  limits: setting(routeLimitsSchema, routeLimitsSchema.parse({}, 'limits'), { doc: 'Viewer caps and pacing of this route (see `routes[].limits`).' }),
  streamParams: setting(array(string({ min: 1, max: 64, pattern: /^[A-Za-z0-9._~!$'()*+,;:@-]+$/, patternName: 'a query parameter name' }), 32), [], {
    doc:
      'flv fan-out and hls proxy: the viewer query parameters (by name) that select a different stream on the node; they are sent to the node and are part of the stream identity. ' +
      'Every other viewer parameter stays at the relay, so distinct query strings share one pull or fetch. Auth parameters passed on (auth.passParams) reach the node but are ' +
      'not part of the identity unless listed here: a shared pull or fetch carries those of the viewer who started it. At most 32 names.',
  }),
  allowEncodedSlash: setting(boolean(), false, {
    doc:
      'Accept request paths holding an encoded "/" or "\\" (%2F, %5C): they are then kept encoded and forwarded as received. When false such a request gets 400 BAD_REQUEST ' +
      '(a node that decodes them would see another path than the one the route was matched on).',
  }),
  foreignRedirects: setting(oneOf(FOREIGN_REDIRECTS), 'refuse', {
    doc:
      'proxy mode: a node\'s redirect (Location) to another host than a configured node: "refuse" answers 502 UPSTREAM_REDIRECT, "pass" hands it to the viewer unchanged. ' +
      "A redirect to a node is always rewritten to the relay path that reaches it (or refused when no route does), so the node's address never reaches the viewer.",
  }),
  corsOrigins: setting(corsOrigins(), ['*'], {
    doc:
      'CORS: the web origins whose scripts may read this route\'s answers (redirects, streams, playlists, segments and errors alike): ["*"] for any origin, or up to 64 ' +
      'origins as browsers send them ("https://player.example.com", "http://localhost:8080"); an empty list allows none. With a list the relay echoes an allowed Origin ' +
      "and adds `Vary: Origin`. A request from another origin is still answered, without any allowance (browsers enforce CORS). The node's own CORS headers are replaced. " +
      'WebSocket-FLV gets no CORS from browsers, so the relay enforces this list on the handshake: an Origin it does not allow gets 403 ORIGIN_DENIED before the upgrade (no Origin, as from ffplay, passes).',
  }),
  corsCredentials: setting(boolean(), false, {
    doc: 'CORS: allow credentialed requests (cookies, HTTP auth; `Access-Control-Allow-Credentials: true`). Needs a list in corsOrigins, never "*": the allowed Origin is echoed.',
  }),
  corsExposeHeaders: setting(corsExposedHeaders(), ['content-length', 'content-range', 'accept-ranges', 'location', 'retry-after', 'allow'], {
    doc: 'CORS: response headers a cross-origin script may read besides the CORS-safelisted ones (Access-Control-Expose-Headers), at most 32 names; empty = none.',
  }),
});

export const routePatchSchema = partial(routeSchema);

// Read from the schema, under the names code imports.
export const DEFAULT_ALLOW_ENCODED_SLASH = defaultOf(routeSchema.shape.allowEncodedSlash);
export const DEFAULT_FOREIGN_REDIRECTS = defaultOf(routeSchema.shape.foreignRedirects);
export const DEFAULT_CORS_ORIGINS = defaultOf(routeSchema.shape.corsOrigins);
export const DEFAULT_CORS_CREDENTIALS = defaultOf(routeSchema.shape.corsCredentials);
export const DEFAULT_CORS_EXPOSE_HEADERS = defaultOf(routeSchema.shape.corsExposeHeaders);
