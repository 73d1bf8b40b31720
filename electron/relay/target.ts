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

// Control characters (C0 and DEL), raw or percent-encoded.
const RAW_CONTROL = /[\u0000-\u001f\u007f]/;
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
    throw new RelayError('BAD_REQUEST', 'request target contains control characters');
  }
  const hashAt = rawUrl.indexOf('#');
  const url = hashAt >= 0 ? rawUrl.slice(0, hashAt) : rawUrl;
  const queryAt = url.indexOf('?');
  const path = queryAt >= 0 ? url.slice(0, queryAt) : url;
  const query = queryAt >= 0 ? url.slice(queryAt) : '';
  for (const segment of path.split('/')) {
    const decoded = decodeSegment(segment);
    if (decoded === '..' || decoded === '.' || decoded.includes('/') || decoded.includes('\\')) {
      throw new RelayError('BAD_REQUEST', 'request path contains a traversal segment');
    }
  }
  return { path, query };
}

/** The path to request on the node: the route prefix removed when the route says so. */
export function nodePath(route: RouteConfig, path: string): string {
  if (!route.stripPrefix) return path;
  const rest = path.slice(route.path.length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** The absolute URL on the node: node URL (its own path kept) + node path + query. */
export function upstreamUrl(node: NodeConfig, route: RouteConfig, target: RequestTarget): URL {
  const base = new URL(node.url);
  const basePath = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  const result = new URL(base.origin);
  result.pathname = basePath + nodePath(route, target.path);
  result.search = target.query;
  return result;
}
