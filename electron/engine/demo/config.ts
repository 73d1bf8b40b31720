/**
 * The demo's place in the configuration: one node ("demo") and two routes, an FLV route
 * in proxy mode (so the dashboard shows a fanned-out stream at once) and an HLS route.
 * The demo routes name the demo node: a route without `nodes` never uses it.
 * Pure functions on a config draft, used through Engine.changeConfig so every change is
 * validated and saved like any other.
 */
import { DEFAULT_DEMO_PORT, nodeSchema, routeSchema, type RelayDeckConfig, type RouteConfig } from '../../../shared/config.js';
import type { DemoStateDto } from '../../../shared/dto.js';
import { DEMO_NODE_ID } from '../../../shared/route-nodes.js';
import { RelayError } from '../core/errors.js';
import { DEMO_FLV_PATH, DEMO_HLS_DIR, DEMO_HLS_PLAYLIST_PATH } from './server.js';

/** The demo node's id (shared/route-nodes.ts: a route that does not name it never uses it). */
export { DEMO_NODE_ID };

/** The demo routes, as installed, every other field at its default (ids are how removeDemo finds them again). */
export const DEMO_ROUTES: readonly RouteConfig[] = [
  routeSchema.parse({ id: 'demo-flv', path: '/demo/', kind: 'flv', mode: 'proxy', nodes: [DEMO_NODE_ID] }, 'demo.routes[0]'),
  routeSchema.parse({ id: 'demo-hls', path: DEMO_HLS_DIR, kind: 'hls', mode: 'proxy', nodes: [DEMO_NODE_ID] }, 'demo.routes[1]'),
];

const DEMO_ROUTE_IDS = new Set(DEMO_ROUTES.map((r) => r.id));

/**
 * True on a first run: the config was made from nothing (no nodes, no routes) and has
 * never had a demo section. Only for a config kept in a file: in-memory configs (tests,
 * embedding) never get a demo they did not ask for.
 */
export function isFirstRun(config: RelayDeckConfig, persisted: boolean): boolean {
  return persisted && config.demo === undefined && config.nodes.length === 0 && config.routes.length === 0;
}

/** True when the demo node should run. */
export function demoWanted(config: RelayDeckConfig): boolean {
  return config.demo?.enabled === true;
}

/**
 * Put the demo into a draft: the demo section, the node at `nodeUrl` (its URL updated when
 * it exists), and each demo route whose id and path are free.
 */
export function installDemo(draft: RelayDeckConfig, nodeUrl: string, port = draft.demo?.port ?? DEFAULT_DEMO_PORT): void {
  draft.demo = { enabled: true, port };
  const node = draft.nodes.find((n) => n.id === DEMO_NODE_ID);
  if (node) {
    node.url = nodeUrl;
    return;
  }
  draft.nodes.push(nodeSchema.parse({ id: DEMO_NODE_ID, url: nodeUrl }, 'demo.node'));
  for (const route of DEMO_ROUTES) {
    if (!draft.routes.some((r) => r.id === route.id || r.path === route.path)) draft.routes.push(structuredClone(route) as RouteConfig);
  }
}

/** Take the demo out of a draft: its routes, its node, and switch it off for good. */
export function uninstallDemo(draft: RelayDeckConfig): string[] {
  const users = draft.routes.filter((r) => !DEMO_ROUTE_IDS.has(r.id) && r.nodes?.includes(DEMO_NODE_ID)).map((r) => r.id);
  if (users.length) throw new RelayError('CONFLICT', `route(s) ${users.join(', ')} use the demo node; change them first`);
  const removed = draft.routes.filter((r) => DEMO_ROUTE_IDS.has(r.id)).map((r) => r.id);
  draft.routes = draft.routes.filter((r) => !DEMO_ROUTE_IDS.has(r.id));
  draft.nodes = draft.nodes.filter((n) => n.id !== DEMO_NODE_ID);
  draft.demo = { enabled: false, port: draft.demo?.port ?? DEFAULT_DEMO_PORT };
  return removed;
}

/** The demo as the API shows it, or null when it is not installed. */
export function demoState(config: RelayDeckConfig): DemoStateDto | null {
  const node = config.nodes.find((n) => n.id === DEMO_NODE_ID);
  if (!demoWanted(config) || !node) return null;
  return {
    nodeId: DEMO_NODE_ID,
    nodeUrl: node.url,
    flvPath: DEMO_FLV_PATH,
    hlsPath: DEMO_HLS_PLAYLIST_PATH,
    routeIds: config.routes.filter((r) => DEMO_ROUTE_IDS.has(r.id)).map((r) => r.id),
  };
}
