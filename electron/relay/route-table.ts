/**
 * The live routing state built from one validated config: longest-prefix route match and
 * node lookup. A new table is built on every config change and swapped in atomically;
 * requests in flight keep the route and node objects they started with.
 */
import type { NodeConfig, RelayDeckConfig, RouteConfig } from '../../shared/config.js';

export class RouteTable {
  /** Routes sorted by prefix length, longest first. */
  private readonly routesByLength: readonly RouteConfig[];
  private readonly nodesById: ReadonlyMap<string, NodeConfig>;

  constructor(readonly config: RelayDeckConfig) {
    this.routesByLength = [...config.routes].sort((a, b) => b.path.length - a.path.length);
    this.nodesById = new Map(config.nodes.map((node) => [node.id, node]));
  }

  /** The route whose prefix is the longest match for `path`, if any. */
  match(path: string): RouteConfig | undefined {
    for (const route of this.routesByLength) {
      if (path.startsWith(route.path)) return route;
    }
    return undefined;
  }

  node(id: string): NodeConfig | undefined {
    return this.nodesById.get(id);
  }

  /** The nodes a route may use, in its configured order (all nodes when it names none). */
  candidateNodes(route: RouteConfig): NodeConfig[] {
    if (!route.nodes) return [...this.config.nodes];
    return route.nodes.map((id) => this.nodesById.get(id)).filter((n): n is NodeConfig => n !== undefined);
  }
}
