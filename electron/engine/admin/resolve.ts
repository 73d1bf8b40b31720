/**
 * "Where would this URL go?": the answer the relay would give to a GET of a path right
 * now, worked out with the same steps the relay server takes (target check, longest-prefix
 * route, the route's locator, upstream URL), without proxying anything. When the relay
 * would refuse the request, this throws the same error (404 NO_ROUTE, 503 NO_NODE, ...).
 * A successful answer carries the route's warnings (shared/route-nodes.ts), e.g. a redirect
 * with locate "first" over several nodes, whose node may not hold the stream.
 */
import type { ResolveDto } from '../../../shared/dto.js';
import { nodeChoiceOf, routeWarnings } from '../../../shared/route-nodes.js';
import { RelayError } from '../core/errors.js';
import type { RouteTable } from '../routing/route-table.js';
import { checkLenientRoute, checkRouteTarget, parseRequestTarget, upstreamTarget } from '../routing/target.js';
import type { StreamLocator } from '../upstream/locator.js';

/** Longest path (or URL) accepted by the check, characters. */
export const RESOLVE_MAX_PATH_CHARS = 4_096;

/** Accept a relay path ("/live/cam1.flv") or a whole URL ("http://relay:8090/live/cam1.flv?k=1"). */
export function requestTargetOf(input: string): string {
  const text = input.replace(/^ +| +$/g, ''); // spaces only: control characters must reach the check
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new RelayError('BAD_REQUEST', `path: not a valid URL: ${text.slice(0, 100)}`);
    }
    return url.pathname + url.search;
  }
  return text;
}

export interface ResolveContext {
  table: RouteTable;
  locator: StreamLocator;
  paused: boolean;
  /** Route lookup without the pause gate. */
  match: (path: string) => ReturnType<RouteTable['match']>;
}

/** Resolve `input` as the relay would answer it now. */
export async function resolvePath(ctx: ResolveContext, input: string): Promise<ResolveDto> {
  const target = parseRequestTarget(requestTargetOf(input));
  const path = target.path + target.query;
  const route = ctx.match(target.path);
  if (!route) throw new RelayError('NO_ROUTE', `no route's prefix matches ${target.path}`);
  checkRouteTarget(route, target);
  checkLenientRoute(ctx.table.config.routes, route, target);
  if (ctx.paused) throw new RelayError('OVERLOADED', `route "${route.id}" matches, but the relay is paused: new requests get 503 until it is resumed`);
  const location = await ctx.locator.locate(ctx.table, route, target);
  const [node, ...fallback] = location.nodes;
  const url = upstreamTarget(node, route, target).href;
  const how = route.mode === 'redirect' ? `answers ${route.status} with Location ${url}` : `streams ${url} through the relay`;
  return {
    path,
    status: route.mode === 'redirect' ? route.status : 200,
    routeId: route.id,
    kind: route.kind,
    mode: route.mode,
    nodeId: node.id,
    url,
    locator: location.locator,
    streamKey: location.streamKey,
    reason: `route "${route.id}" (prefix ${route.path}, ${route.kind}, ${route.mode}) ${how}; node ${node.id}: ${location.reason}`,
    cacheAgeMs: location.cacheAgeMs ?? null,
    fallbackNodeIds: fallback.map((n) => n.id),
    warnings: routeWarnings(route, nodeChoiceOf(ctx.table.config)),
  };
}
