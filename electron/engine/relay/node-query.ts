/**
 * The query a shared upstream request (an FLV fan-out pull, an HLS fetch) sends to the node:
 * only the viewer's pieces whose names the route lists in `streamParams`, raw and in the
 * viewer's order. Everything else a viewer adds stays at the relay, so a thousand distinct
 * query strings still map to one node URL: one pull, one fetch, one parse.
 */
import type { RouteConfig } from '../../../shared/config.js';
import { AUTH_PARAMS } from './auth/signing.js';
import { pieceName, queryPieces } from './hls/query.js';

/** The node-bound query of `query` ("?a=1&b=2") for `route`: "?..." or "". */
export function nodeQuery(route: RouteConfig, query: string): string {
  if (!query || route.streamParams.length === 0) return '';
  const names = route.streamParams;
  const kept = queryPieces(query).filter((piece) => names.includes(pieceName(piece)));
  return kept.length > 0 ? `?${kept.join('&')}` : '';
}

/** The query of a shared FLV pull: what selects the stream (keyed) and what the node is sent. */
export interface PullQuery {
  /** The stream's identity: nodeQuery, "?..." or "". */
  keyed: string;
  /** Sent to the node: keyed, plus the viewer's auth pieces when the route passes them on. */
  sent: string;
}

/**
 * The query of an FLV fan-out pull opened by a viewer whose query (after viewer auth) is
 * `query`. With auth.passParams the opener's auth pieces (sign, sp, token) go to the node but
 * are not keyed (unless listed in streamParams): the relay has checked every viewer, and
 * keying them would give each fresh signature or token its own pull.
 */
export function pullQuery(route: RouteConfig, query: string): PullQuery {
  const keyed = nodeQuery(route, query);
  if (!query || !route.auth?.passParams) return { keyed, sent: keyed };
  const passed = queryPieces(query).filter((piece) => {
    const name = pieceName(piece);
    return AUTH_PARAMS.includes(name) && !route.streamParams.includes(name);
  });
  if (passed.length === 0) return { keyed, sent: keyed };
  return { keyed, sent: `?${[...queryPieces(keyed), ...passed].join('&')}` };
}
