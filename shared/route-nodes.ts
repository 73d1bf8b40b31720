/**
 * Which nodes a route may use, and what an operator should be told about a route before
 * viewers find out. Pure functions over configuration data, shared by the engine (route
 * table, API answers, the resolve check) and the UI (the route form warns as you type).
 *
 * The built-in demo node (electron/engine/demo/) serves only the routes that name it: a route
 * without `nodes` ("all nodes") means every node but the demo node while the demo is
 * installed, so a route the operator adds never sends viewers to the demo.
 */
import type { RouteConfig } from './config.js';

/** Id of the built-in demo node in the config (electron/engine/demo/config.ts installs it). */
export const DEMO_NODE_ID = 'demo';

/** What routeNodeIds needs of a config: node ids in config order, and whether the demo is installed. */
export interface NodeChoice {
  nodeIds: readonly string[];
  /** True while the demo node runs (config.demo.enabled): then the node "demo" is the demo's. */
  demoInstalled: boolean;
}

/** The choice of a whole config. */
export function nodeChoiceOf(config: { nodes: readonly { id: string }[]; demo?: { enabled: boolean } }): NodeChoice {
  return { nodeIds: config.nodes.map((n) => n.id), demoInstalled: config.demo?.enabled === true };
}

/** True when `nodeId` is the installed demo node (it serves only routes that name it). */
export function isDemoNode(choice: NodeChoice, nodeId: string): boolean {
  return choice.demoInstalled && nodeId === DEMO_NODE_ID;
}

/** The node ids a route may use, in order: its `nodes`, or every node but the demo node when it names none. */
export function routeNodeIds(route: Pick<RouteConfig, 'nodes'>, choice: NodeChoice): string[] {
  if (route.nodes) return route.nodes.filter((id) => choice.nodeIds.includes(id));
  return choice.nodeIds.filter((id) => !isDemoNode(choice, id));
}

/**
 * Plain-words warnings about a route as configured: a redirect whose locator cannot say
 * which node holds the stream ("first" over several nodes: a viewer sent to a node without
 * the stream gets that node's 404, and a redirect cannot fail over), and a route with no
 * node at all. Empty when there is nothing to say.
 */
export function routeWarnings(route: Pick<RouteConfig, 'id' | 'mode' | 'locate' | 'nodes'>, choice: NodeChoice): string[] {
  const ids = routeNodeIds(route, choice);
  const warnings: string[] = [];
  if (ids.length === 0) {
    const demo = !route.nodes && choice.demoInstalled ? ' (the demo node serves only routes that name it)' : '';
    warnings.push(`route "${route.id}" has no node${demo}: every request gets 503 NO_NODE until you add one`);
  } else if (route.mode === 'redirect' && route.locate === 'first' && ids.length > 1) {
    warnings.push(
      `route "${route.id}" redirects with locate "first" over ${ids.length} nodes (${ids.join(', ')}): every viewer is sent to the first usable node, ` +
        `and gets its 404 when that node does not hold the stream (a redirect cannot fail over). Use locate "probe", "static" or "hash", or proxy mode, unless every node carries every stream`,
    );
  }
  return warnings;
}
