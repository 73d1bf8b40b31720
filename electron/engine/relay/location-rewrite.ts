/**
 * A node's redirect, in proxy mode, as the viewer gets it. A Location on a configured node
 * (relative, or absolute on a node's origin) becomes the relay path that reaches that node
 * path (the inverse mapping of hls/uri-map.ts), sent as an absolute path ("/live/x.flv"), so
 * the node's address never reaches the viewer; when no route reaches it the answer is 502
 * UPSTREAM_REDIRECT. A Location on any other host is refused the same way or passed
 * unchanged, as routes[].foreignRedirects says; one that is no URL, or that names a node's
 * host with another scheme or port, is refused either way (it would show the node's address).
 * Runs once per proxied response, before its headers go to the viewer.
 */
import type { IncomingMessage } from 'node:http';
import type { RouteConfig } from '../../../shared/config.js';
import { RelayError } from '../core/errors.js';
import { nodeOfUrl, relayPathFor } from './hls/uri-map.js';
import type { RouteTable } from '../routing/route-table.js';
import { nodeEndpoint } from '../routing/target.js';

/** The host names of a table's nodes (as URL parsing writes them), per table. */
const nodeHostsByTable = new WeakMap<RouteTable, ReadonlySet<string>>();

function nodeHosts(table: RouteTable): ReadonlySet<string> {
  let hosts = nodeHostsByTable.get(table);
  if (!hosts) {
    hosts = new Set(table.config.nodes.map((node) => nodeEndpoint(node).hostname));
    nodeHostsByTable.set(table, hosts);
  }
  return hosts;
}

/** What a Location is mapped through: the table and route the request was matched on. */
export interface RedirectScope {
  table: RouteTable;
  route: RouteConfig;
}

/**
 * The Location to send the viewer for the node's `location`, which answered a request for
 * `requestUrl` (the absolute node URL); throws UPSTREAM_REDIRECT when it is refused.
 */
export function viewerLocation(scope: RedirectScope, requestUrl: string, location: string): string {
  let url: URL | undefined;
  try {
    url = new URL(location, requestUrl);
  } catch {
    url = undefined;
  }
  if (!url) throw new RelayError('UPSTREAM_REDIRECT', 'the node sent a Location that is not a URL');
  const onNode = url.protocol === 'http:' || url.protocol === 'https:' ? nodeOfUrl(scope.table, url) : undefined;
  if (!onNode && nodeHosts(scope.table).has(url.hostname.replace(/^\[|\]$/g, ''))) {
    throw new RelayError('UPSTREAM_REDIRECT', 'the node redirected to its own host on another scheme or port, which no route of the relay reaches');
  }
  if (!onNode) {
    if (scope.route.foreignRedirects === 'pass') return location;
    throw new RelayError(
      'UPSTREAM_REDIRECT',
      `the node redirected to another host, which route "${scope.route.id}" refuses (routes[].foreignRedirects is "refuse")`,
    );
  }
  const relay = onNode.nodePath === undefined ? undefined : relayPathFor(scope.table, scope.route, onNode.node, onNode.nodePath);
  if (!relay) throw new RelayError('UPSTREAM_REDIRECT', `the node redirected to ${url.pathname}, which no route of the relay reaches`);
  return relay.path + url.search + url.hash;
}

/**
 * Rewrite the Location of a node's response in place (see above). Returns false when it
 * was refused: `refuse` was called with the error and the response must not be relayed.
 */
export function rewriteNodeLocation(
  response: IncomingMessage,
  scope: RedirectScope | undefined,
  requestUrl: string,
  refuse: (error: RelayError) => void,
): boolean {
  const location = response.headers.location;
  if (location === undefined || scope === undefined) return true;
  try {
    response.headers.location = viewerLocation(scope, requestUrl, location);
    return true;
  } catch (error) {
    refuse(error as RelayError);
    return false;
  }
}
