/**
 * The live routing state built from one validated config: longest-prefix route match and
 * node lookup. A new table is built on every config change and swapped in atomically;
 * requests in flight keep the route and node objects they started with.
 */
import type { NodeConfig, RelayDeckConfig, RouteConfig } from '../../../shared/config.js';
import { nodeChoiceOf, routeNodeIds } from '../../../shared/route-nodes.js';

export class RouteTable {
  /** Routes sorted by prefix length, longest first. */
  private readonly routesByLength: readonly RouteConfig[];
  private readonly nodesById: ReadonlyMap<string, NodeConfig>;
  /** The nodes of a route that names none: every node but the demo node. */
  private readonly defaultNodes: readonly NodeConfig[];

  constructor(readonly config: RelayDeckConfig) {
    this.routesByLength = [...config.routes].sort((a, b) => b.path.length - a.path.length);
    this.nodesById = new Map(config.nodes.map((node) => [node.id, node]));
    this.defaultNodes = routeNodeIds({}, nodeChoiceOf(config)).map((id) => this.nodesById.get(id)!);
  }

  /**
   * The route whose prefix is the longest match for `path`, if any. `path` must be in normal
   * form (parseRequestTarget), as route prefixes are (config check), so "/p/%73ec/x" and
   * "/p//sec/x" meet the route of "/p/sec/" and cannot slip past it to a shorter prefix.
   */
  match(path: string): RouteConfig | undefined {
    for (const route of this.routesByLength) {
      if (path.startsWith(route.path)) return route;
    }
    return undefined;
  }

  node(id: string): NodeConfig | undefined {
    return this.nodesById.get(id);
  }

  /** The nodes a route may use, in its configured order (all nodes but the demo node when it names none: shared/route-nodes.ts). */
  candidateNodes(route: RouteConfig): NodeConfig[] {
    if (!route.nodes) return [...this.defaultNodes];
    return route.nodes.map((id) => this.nodesById.get(id)).filter((n): n is NodeConfig => n !== undefined);
  }
}
