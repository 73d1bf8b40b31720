/**
 * Request-target checks and upstream URL building. The node URL comes from config only;
 * no request header ever contributes to it (no open redirect).
 */
import type { NodeConfig, RouteConfig } from '../../../shared/config.js';
import { lenientPath, normalisePath, type NormalPath } from '../../../shared/request-path.js';
import { RelayError } from '../core/errors.js';

/** A parsed, checked request target. */
export interface RequestTarget {
  /** The path in normal form (shared/request-path.ts): matched, checked and forwarded as is. */
  path: string;
  /** The query including its leading "?", or "" (as received). */
  query: string;
  /** The path holds an encoded "/" or "\\" (%2F, %5C): refused unless the route allows it (checkRouteTarget). */
  encodedSlash?: boolean;
}

// Anything outside visible ASCII (controls, space, DEL, non-ASCII bytes), raw; and encoded controls.
const RAW_CONTROL = /[^\x21-\x7e]/;
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;

/**
 * Parse and check a raw request target, putting its path in normal form (the one place
 * this happens: every later step, from route match to the node URL, sees that form);
 * throws BAD_REQUEST (400) on anything unsafe.
 */
export function parseRequestTarget(rawUrl: string | undefined): RequestTarget {
  if (!rawUrl || !rawUrl.startsWith('/') || rawUrl.startsWith('//')) {
    throw new RelayError('BAD_REQUEST', 'request target must be an origin-form path starting with "/"');
  }
  if (RAW_CONTROL.test(rawUrl) || ENCODED_CONTROL.test(rawUrl)) {
    throw new RelayError('BAD_REQUEST', 'request target contains control characters or bytes outside ASCII');
  }
  const hashAt = rawUrl.indexOf('#');
  const url = hashAt >= 0 ? rawUrl.slice(0, hashAt) : rawUrl;
  const queryAt = url.indexOf('?');
  const query = queryAt >= 0 ? url.slice(queryAt) : '';
  let normal: NormalPath;
  try {
    normal = normalisePath(queryAt >= 0 ? url.slice(0, queryAt) : url);
  } catch (error) {
    throw new RelayError('BAD_REQUEST', `request path refused: ${(error as Error).message}`);
  }
  return normal.encodedSlash ? { path: normal.path, query, encodedSlash: true } : { path: normal.path, query };
}

/** Refuse (400) a path with an encoded "/" or "\\" unless `route` allows it (routes[].allowEncodedSlash). */
export function checkRouteTarget(route: RouteConfig, target: RequestTarget): void {
  if (target.encodedSlash && !route.allowEncodedSlash) {
    throw new RelayError(
      'BAD_REQUEST',
      `request path holds an encoded "/" or "\\" (%2F, %5C), which route "${route.id}" does not allow (routes[].allowEncodedSlash)`,
    );
  }
}

/** lenientPath of each route prefix, per route object (routes are replaced, never changed, on a config change). */
const lenientPrefixes = new WeakMap<RouteConfig, string>();

function lenientPrefix(route: RouteConfig): string {
  let prefix = lenientPrefixes.get(route);
  if (prefix === undefined) {
    prefix = lenientPath(route.path);
    lenientPrefixes.set(route, prefix);
  }
  return prefix;
}

/**
 * Refuse (400) a path that a lenient node (shared/request-path.ts lenientPath: ";" parameters
 * dropped, letter case and Unicode forms folded, trailing dots and spaces dropped) would read
 * as under a longer route than `route`, the one it matched: "/p/sec;x/y", "/p/SEC/y" or
 * "/p/sec./y" would otherwise reach such a node's /p/sec/y past the auth of route "/p/sec/".
 */
export function checkLenientRoute(routes: readonly RouteConfig[], route: RouteConfig, target: RequestTarget): void {
  const longer = longerLenientRoutes(routes, route);
  if (longer.length === 0) return; // the common case: nothing a lenient reading could reach
  const path = lenientPath(target.path);
  for (const other of longer) {
    if (path.startsWith(lenientPrefix(other))) {
      throw new RelayError(
        'BAD_REQUEST',
        `request path refused: a node that ignores ";" parameters, letter case or trailing dots would read it as under route "${other.id}" (${other.path}), not route "${route.id}"`,
      );
    }
  }
}

/** Per routes list (replaced on every config change): for each route, the longer routes under its lenient prefix. */
const longerByRoutes = new WeakMap<readonly RouteConfig[], Map<RouteConfig, RouteConfig[]>>();

/**
 * The routes a path that matched `route` could reach when read leniently: longer ones whose
 * lenient prefix starts with `route`'s (a lenient reading of the path starts with the lenient
 * reading of the prefix it matched, so no other route can be reached). Worked out once per list.
 */
function longerLenientRoutes(routes: readonly RouteConfig[], route: RouteConfig): RouteConfig[] {
  let byRoute = longerByRoutes.get(routes);
  if (!byRoute) {
    byRoute = new Map();
    longerByRoutes.set(routes, byRoute);
  }
  let longer = byRoute.get(route);
  if (!longer) {
    const own = lenientPrefix(route);
    longer = routes.filter((other) => other.path.length > route.path.length && lenientPrefix(other).startsWith(own));
    byRoute.set(route, longer);
  }
  return longer;
}

/** The path to request on the node: the route prefix removed when the route says so. */
export function nodePath(route: RouteConfig, path: string): string {
  if (!route.stripPrefix) return path;
  const rest = path.slice(route.path.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** A node's URL taken apart once (per config object) for building upstream URLs cheaply. */
export interface NodeEndpoint {
  protocol: 'http:' | 'https:';
  /** Host name or IP, without IPv6 brackets (for sockets). */
  hostname: string;
  port: number;
  /** host[:port] as configured (the Host header sent to the node). */
  host: string;
  /** scheme://host[:port] */
  origin: string;
  /** The node URL's own path without a trailing "/" ("" for the root). */
  basePath: string;
}

const endpoints = new WeakMap<NodeConfig, NodeEndpoint>();

export function nodeEndpoint(node: NodeConfig): NodeEndpoint {
  let endpoint = endpoints.get(node);
  if (!endpoint) {
    const url = new URL(node.url);
    const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
    endpoint = {
      protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port) || (protocol === 'https:' ? 443 : 80),
      host: url.host,
      origin: url.origin,
      basePath: url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname,
    };
    endpoints.set(node, endpoint);
  }
  return endpoint;
}

/** Where a request goes on a node: the path (with query) to request there, and the absolute URL. */
export interface UpstreamTarget {
  endpoint: NodeEndpoint;
  /** Path and query on the node, e.g. "/live/cam1.flv?k=1". */
  path: string;
  /** Absolute URL: the redirect Location, or the proxied URL. */
  href: string;
}

/**
 * The upstream target: node URL (its own path kept) + node path + query. The request path
 * was normalised by parseRequestTarget (visible ASCII, no dot segments), so plain
 * concatenation is safe and no request header takes part.
 */
export function upstreamTarget(node: NodeConfig, route: RouteConfig, target: RequestTarget): UpstreamTarget {
  const endpoint = nodeEndpoint(node);
  const path = endpoint.basePath + nodePath(route, target.path) + target.query;
  return { endpoint, path, href: endpoint.origin + path };
}

/** The absolute upstream URL as a URL object. */
export function upstreamUrl(node: NodeConfig, route: RouteConfig, target: RequestTarget): URL {
  return new URL(upstreamTarget(node, route, target).href);
}
