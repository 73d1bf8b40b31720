/**
 * "Where would this URL go?": the answer the relay would give to a GET of a path right
 * now, worked out with the same steps the relay server takes (target check, longest-prefix
 * route, node choice, upstream URL), without sending anything.
 */
import type { ResolveDto } from '../../shared/dto.js';
import { chooseNode } from '../relay/node-choice.js';
import { toRelayError } from '../relay/errors.js';
import type { RouteTable } from '../relay/route-table.js';
import { parseRequestTarget, upstreamUrl } from '../relay/target.js';

/** Longest path (or URL) accepted by the check, characters. */
export const RESOLVE_MAX_PATH_CHARS = 4_096;

/** Accept a relay path ("/live/cam1.flv") or a whole URL ("http://relay:8090/live/cam1.flv?k=1"). */
export function requestTargetOf(input: string): string {
  const text = input.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const url = new URL(text);
    return url.pathname + url.search;
  }
  return text;
}

/** Resolve `input` against `table`; `match` is the route lookup to use (the gate ignored). */
export function resolvePath(table: RouteTable, input: string, paused: boolean, match = (path: string) => table.match(path)): ResolveDto {
  let path = input;
  try {
    path = requestTargetOf(input);
    const target = parseRequestTarget(path);
    path = target.path + target.query;
    const route = match(target.path);
    if (!route) return { path, status: 404, errorCode: 'NO_ROUTE', reason: `no route's prefix matches ${target.path}` };
    const base = { path, routeId: route.id, kind: route.kind, mode: route.mode };
    if (paused) return { ...base, status: 503, errorCode: 'OVERLOADED', reason: `route "${route.id}" matches, but the relay is paused: new requests get 503 until it is resumed` };
    const choice = chooseNode(table, route, target);
    const url = upstreamUrl(choice.node, route, target).href;
    const how = route.mode === 'redirect' ? `answers ${route.status} with Location ${url}` : `streams ${url} through the relay`;
    return { ...base, nodeId: choice.node.id, url, status: route.mode === 'redirect' ? route.status : 200, reason: `route "${route.id}" (prefix ${route.path}, ${route.kind}, ${route.mode}) ${how}; node "${choice.node.id}": ${choice.reason}` };
  } catch (error) {
    const relayError = toRelayError(error);
    return { path, status: relayError.status, errorCode: relayError.code, reason: relayError.message };
  }
}
