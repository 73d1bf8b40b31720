/**
 * The query an HLS request sends to its node, and the part of it its fetch is keyed by.
 * Arbitrary viewer parameters never reach the node, so any number of distinct query
 * strings on one playlist (or segment) share one fetch, one parse and one cache entry:
 *   - node pieces: the pieces the node itself wrote on the URI (`seg1.ts?t=abc`), when the
 *     request's hint vouches for exactly them (hint.ts: MAC); otherwise only the pieces
 *     the route lists in `streamParams` (node-query.ts, as for FLV pulls). Sent and keyed.
 *   - LL-HLS directives (`_HLS_msn`, `_HLS_part`, `_HLS_skip`): the player's, sent and
 *     keyed (blocking reloads bypass the cache anyway).
 *   - the viewer's auth pieces (sign, sp, token), only when the route's auth says
 *     passParams: sent, NOT keyed. The relay has already checked each viewer, so viewers
 *     with different valid credentials share one fetch (the node sees the first one's);
 *     keying them would let every fresh signature cost a node fetch and a parse.
 * The relay's hint and the carried parameters (hls.carryParams) are never sent otherwise.
 */
import type { RouteConfig } from '../../../../shared/config.js';
import { AUTH_PARAMS } from '../auth/signing.js';
import { nodeQuery } from '../node-query.js';
import type { RequestTarget } from '../../routing/target.js';
import { HLS_HINT_PARAM, hintVouches, type StreamHint } from './hint.js';
import { pieceName, queryPieces } from './query.js';

/** Prefix of the LL-HLS delivery directives a player adds to playlist requests (RFC 8216bis §6.2.5). */
const LLHLS_PREFIX = '_HLS_';

export interface UpstreamQuery {
  /** Sent to the node: "?..." or "". */
  sent: string;
  /** What the fetch is keyed by (sent, less passed-on credentials): "?..." or "". */
  keyed: string;
}

/**
 * Whether a query piece may be a node piece that a hint vouches for: not the relay's hint,
 * not a carried or auth parameter (those names are the viewer's), not an LL-HLS directive.
 * The rewriter signs exactly the node's pieces that pass, the request side checks the same.
 */
export function isNodePiece(piece: string, carryNames: ReadonlySet<string>): boolean {
  const name = pieceName(piece);
  return name !== HLS_HINT_PARAM && !carryNames.has(name) && !AUTH_PARAMS.includes(name) && !name.startsWith(LLHLS_PREFIX);
}

/** The node query of one request of `route` (target.query is after viewer auth). */
export function upstreamQuery(route: RouteConfig, target: RequestTarget, hint: StreamHint | undefined, carryNames: ReadonlySet<string>): UpstreamQuery {
  if (!target.query) return { sent: '', keyed: '' };
  const pieces = queryPieces(target.query);
  const nodePieces = pieces.filter((piece) => isNodePiece(piece, carryNames));
  const vouched = hint !== undefined && nodePieces.length > 0 && hintVouches(hint, target.path, nodePieces);
  const keyed = vouched ? nodePieces : queryPieces(nodeQuery(route, target.query)).filter((piece) => pieceName(piece) !== HLS_HINT_PARAM);
  for (const piece of pieces) if (pieceName(piece).startsWith(LLHLS_PREFIX)) keyed.push(piece);
  const passed = route.auth?.passParams ? pieces.filter((piece) => AUTH_PARAMS.includes(pieceName(piece))) : [];
  const keyedQuery = keyed.length > 0 ? `?${keyed.join('&')}` : '';
  if (passed.length === 0) return { sent: keyedQuery, keyed: keyedQuery };
  return { sent: `?${[...keyed, ...passed].join('&')}`, keyed: keyedQuery };
}
