/**
 * Request-target checks and upstream URL building. The node URL comes from config only;
 * no request header ever contributes to it (no open redirect).
 */
import type { NodeConfig, RouteConfig } from '../../shared/config.js';
import { RelayError } from './errors.js';

/** A parsed, checked request target. `path` stays percent-encoded as received. */
export interface RequestTarget {
  path: string;
  /** The query including its leading "?", or "". */
  query: string;
}

// Anything outside visible ASCII (controls, space, DEL, non-ASCII bytes), raw; and encoded controls.
const RAW_CONTROL = /[^\x21-\x7e]/;
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RelayError('BAD_REQUEST', 'request path has a malformed percent-encoding');
  }
}

/** Parse and check a raw request target; throws BAD_REQUEST (400) on anything unsafe. */
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
  const path = queryAt >= 0 ? url.slice(0, queryAt) : url;
  const query = queryAt >= 0 ? url.slice(queryAt) : '';
  if (path.includes('%') || path.includes('.') || path.includes('\\')) checkSegments(path);
  return { path, query };
}

function checkSegments(path: string): void {
  for (const segment of path.split('/')) {
    const decoded = segment.includes('%') ? decodeSegment(segment) : segment;
    if (decoded === '..' || decoded === '.' || decoded.includes('/') || decoded.includes('\\')) {
      throw new RelayError('BAD_REQUEST', 'request path contains a traversal segment');
    }
  }
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
 * was checked by parseRequestTarget (visible ASCII, no traversal), so plain concatenation
 * is safe and no request header takes part.
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
