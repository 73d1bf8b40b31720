/**
 * The single seam that picks the node for a route and request. Today: the first enabled
 * node in the route's list. Health checks and stream location plug in here.
 */
import type { NodeConfig, RouteConfig } from '../../shared/config.js';
import { RelayError } from './errors.js';
import type { RouteTable } from './route-table.js';
import type { RequestTarget } from './target.js';

/** Why a node was chosen, for logs and the resolve check. */
export interface NodeChoice {
  node: NodeConfig;
  reason: string;
}

/**
 * The nodes that may serve `target` on `route`, best first; a stream that loses its node
 * fails over along this list. Throws NO_NODE (503) when there is none.
 */
export function rankNodes(table: RouteTable, route: RouteConfig, _target: RequestTarget): NodeConfig[] {
  const candidates = table.candidateNodes(route);
  const usable = candidates.filter((n) => n.enabled);
  if (usable.length === 0) {
    const why = candidates.length === 0 ? 'it has no nodes' : 'all its nodes are disabled';
    throw new RelayError('NO_NODE', `no usable node for route "${route.id}": ${why}`);
  }
  return usable;
}

/** Pick the node that serves `target` on `route`; throws NO_NODE (503) when none can. */
export function chooseNode(table: RouteTable, route: RouteConfig, target: RequestTarget): NodeChoice {
  return { node: rankNodes(table, route, target)[0], reason: 'first enabled node of the route' };
}
