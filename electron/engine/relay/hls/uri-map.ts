/**
 * From a URL on a node back to a relay path: which configured node an absolute URL points
 * at (by origin and the node URL's own path), and the relay path whose route sends that
 * request to that node path. The inverse of target.ts's upstreamTarget.
 */
import type { NodeConfig, RouteConfig } from '../../../../shared/config.js';
import type { RouteTable } from '../../routing/route-table.js';
import { nodeEndpoint } from '../../routing/target.js';

/** Nodes by URL origin, longest node base path first; built once per route table. */
const originsByTable = new WeakMap<RouteTable, Map<string, NodeConfig[]>>();

function nodesByOrigin(table: RouteTable): Map<string, NodeConfig[]> {
  let map = originsByTable.get(table);
  if (!map) {
    map = new Map();
    for (const node of table.config.nodes) {
      const origin = nodeEndpoint(node).origin;
      const list = map.get(origin) ?? [];
      list.push(node);
      map.set(origin, list);
    }
    for (const list of map.values()) list.sort((a, b) => nodeEndpoint(b).basePath.length - nodeEndpoint(a).basePath.length);
    originsByTable.set(table, map);
  }
  return map;
}

export interface NodeUrl {
  node: NodeConfig;
  /** The path on the node below the node URL's own path, starting with "/"; undefined when the URL is on the node's host but outside that path. */
  nodePath: string | undefined;
}

/** The configured node an absolute http(s) URL points at (by origin); undefined for any other host. */
export function nodeOfUrl(table: RouteTable, url: Pick<URL, 'origin' | 'pathname'>): NodeUrl | undefined {
  const candidates = nodesByOrigin(table).get(url.origin);
  if (!candidates) return undefined;
  for (const node of candidates) {
    const base = nodeEndpoint(node).basePath;
    if (base === '' || url.pathname === base || url.pathname.startsWith(`${base}/`)) {
      return { node, nodePath: url.pathname.slice(base.length) || '/' };
    }
  }
  return { node: candidates[0], nodePath: undefined };
}

/** The route whose prefix is the longest match for `path`, ignoring the pause gate. */
function longestRoute(table: RouteTable, path: string): RouteConfig | undefined {
  let best: RouteConfig | undefined;
  for (const route of table.config.routes) {
    if (path.startsWith(route.path) && (!best || route.path.length > best.path.length)) best = route;
  }
  return best;
}

/** The relay path that `route` would send to `nodePath` (the inverse of nodePath()), or undefined. */
export function pathVia(route: RouteConfig, nodePath: string): string | undefined {
  if (route.stripPrefix) return route.path + nodePath.slice(1);
  return nodePath.startsWith(route.path) ? nodePath : undefined;
}

/** The relay path through `route` that reaches `nodePath` on `node`, if the route can. */
function throughRoute(table: RouteTable, route: RouteConfig, node: NodeConfig, nodePath: string): string | undefined {
  if (route.nodes && !route.nodes.includes(node.id)) return undefined;
  const path = pathVia(route, nodePath);
  return path !== undefined && longestRoute(table, path) === route ? path : undefined;
}

export interface RelayPath {
  path: string;
  route: RouteConfig;
}

/**
 * The relay path for `nodePath` on `node`: through `preferred` (the playlist's route) when
 * it reaches it, else through any other hls route that may use the node; undefined when
 * no route does. Route prefixes end with "/", so the answer depends only on the
 * directory of `nodePath` (callers may memoize by directory).
 */
export function relayPathFor(table: RouteTable, preferred: RouteConfig, node: NodeConfig, nodePath: string): RelayPath | undefined {
  const direct = throughRoute(table, preferred, node, nodePath);
  if (direct !== undefined) return { path: direct, route: preferred };
  for (const route of table.config.routes) {
    if (route === preferred || route.kind !== 'hls') continue;
    const path = throughRoute(table, route, node, nodePath);
    if (path !== undefined) return { path, route };
  }
  return undefined;
}
