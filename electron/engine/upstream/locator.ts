/**
 * Stream location: which nodes can serve a request, best first, per the route's `locate`
 * setting. A lookup never hands out a node that is disabled, down or draining. Every
 * answer says why (which locator, and the age of the information used).
 */
import type { Locator, NodeConfig, RouteConfig } from '../../../shared/config.js';
import { RelayError } from '../core/errors.js';
import type { RouteTable } from '../routing/route-table.js';
import { nodePath, type RequestTarget } from '../routing/target.js';
import { rankByHash } from './hash.js';
import type { StreamProbe } from './probe.js';
import type { NodeRegistry } from './registry.js';
import { patternToRegExp, streamKey } from './stream-key.js';
import type { RegistryAnswer, StreamRegistryView } from './stream-registry-view.js';

/** The answer of a lookup. */
export interface Location {
  /** Usable nodes, best first (the first serves; the rest are failover order). */
  nodes: NodeConfig[];
  locator: Locator;
  streamKey: string;
  reason: string;
  /** Age of cached information used, ms; undefined when none was cached. */
  cacheAgeMs?: number;
}

export interface LocatorDeps {
  registry: NodeRegistry;
  probe: StreamProbe;
  /** Active sessions per node id (viewers). */
  sessionsByNode: () => ReadonlyMap<string, number>;
  /** The stream registry locate "registry" reads (stream-registry-view.ts): the fleet's, or this relay's own when alone; undefined = none. */
  streams?: () => StreamRegistryView | undefined;
}

const patternCache = new Map<string, RegExp>();
/** Most compiled static patterns kept. */
const MAX_CACHED_PATTERNS = 4_096;

function compiled(pattern: string): RegExp {
  let regexp = patternCache.get(pattern);
  if (!regexp) {
    if (patternCache.size >= MAX_CACHED_PATTERNS) patternCache.clear();
    regexp = patternToRegExp(pattern);
    patternCache.set(pattern, regexp);
  }
  return regexp;
}

export class StreamLocator {
  constructor(private readonly deps: LocatorDeps) {}

  /** A pull of this stream from `nodeId` failed: a probed location naming it is dropped. */
  forgetLocation(route: RouteConfig, target: RequestTarget, nodeId: string): void {
    this.deps.probe.forget(streamKey(nodePath(route, target.path)), nodeId);
  }

  /** The route's nodes that may take new sessions, in configured order. */
  usableNodes(table: RouteTable, route: RouteConfig): { usable: NodeConfig[]; all: NodeConfig[] } {
    const all = table.candidateNodes(route);
    return { all, usable: all.filter((n) => this.deps.registry.get(n.id)?.usable ?? n.enabled) };
  }

  private noNode(route: RouteConfig, why: string): RelayError {
    return new RelayError('NO_NODE', `no usable node for route "${route.id}": ${why}`);
  }

  private statusSummary(nodes: NodeConfig[]): string {
    if (nodes.length === 0) return 'it has no nodes';
    return nodes.map((n) => `${n.id} is ${this.deps.registry.get(n.id)?.status ?? (n.enabled ? 'up' : 'disabled')}`).join(', ');
  }

  /**
   * Locate; synchronous for every locator but "probe" (which may ask the nodes). `exclude`:
   * nodes this request already tried (a failover asking again), never offered.
   */
  locate(table: RouteTable, route: RouteConfig, target: RequestTarget, exclude?: ReadonlySet<string>): Location | Promise<Location> {
    const key = streamKey(nodePath(route, target.path));
    const nodes = this.usableNodes(table, route);
    const usable = exclude ? nodes.usable.filter((n) => !exclude.has(n.id)) : nodes.usable;
    const all = nodes.all;
    if (usable.length === 0) throw this.noNode(route, this.statusSummary(all));
    switch (route.locate) {
      case 'static':
        return this.locateStatic(route, key, usable, all);
      case 'hash':
        return { nodes: rankByHash(key, usable), locator: 'hash', streamKey: key, reason: `rendezvous hash of "${key}" over ${usable.length} usable node(s)` };
      case 'least-load':
        return this.locateLeastLoad(route, key, usable);
      case 'probe':
        return this.locateProbe(route, target, key, usable);
      case 'registry':
        return this.locateRegistry(route, key, usable);
      default:
        return { nodes: usable, locator: 'first', streamKey: key, reason: 'first usable node of the route' };
    }
  }

  private locateStatic(route: RouteConfig, key: string, usable: NodeConfig[], all: NodeConfig[]): Location {
    const rule = route.static?.find((r) => compiled(r.match).test(key));
    if (!rule) throw this.noNode(route, `no static rule matches "${key}"`);
    const node = usable.find((n) => n.id === rule.node);
    if (!node) {
      const known = all.find((n) => n.id === rule.node);
      throw this.noNode(
        route,
        `static rule "${rule.match}" maps "${key}" to node ${rule.node}, which is ${known ? (this.deps.registry.get(known.id)?.status ?? 'unusable') : 'not a node of the route'}`,
      );
    }
    return { nodes: [node], locator: 'static', streamKey: key, reason: `static rule "${rule.match}" → ${node.id}` };
  }

  private locateLeastLoad(route: RouteConfig, key: string, usable: NodeConfig[]): Location {
    const byMbps = route.leastLoadBy === 'mbps';
    const sessions = this.deps.sessionsByNode();
    const load = (n: NodeConfig) => (byMbps ? (this.deps.registry.get(n.id)?.mbpsOut ?? 0) : (sessions.get(n.id) ?? 0)) / n.weight;
    const nodes = [...usable].sort((a, b) => load(a) - load(b));
    const unit = byMbps ? 'Mbit/s out' : 'viewers';
    return {
      nodes,
      locator: 'least-load',
      streamKey: key,
      reason: `least ${unit} per weight: ${nodes.map((n) => `${n.id}=${Math.round(load(n) * 100) / 100}`).join(', ')}`,
    };
  }

  /** locate "registry": the usable nodes the stream registry names for the key, newest publish first. */
  private locateRegistry(route: RouteConfig, key: string, usable: NodeConfig[]): Location | Promise<Location> {
    const view = this.deps.streams?.();
    if (!view) throw this.noNode(route, `no stream registry to look "${key}" up in`);
    let answer: RegistryAnswer | Promise<RegistryAnswer>;
    try {
      answer = view.holders(key);
    } catch (error) {
      throw this.noNode(route, (error as Error).message);
    }
    if (!(answer instanceof Promise)) return this.fromRegistry(route, key, usable, answer);
    return answer.then(
      (found) => this.fromRegistry(route, key, usable, found),
      (error: Error) => {
        throw this.noNode(route, error.message);
      },
    );
  }

  private fromRegistry(route: RouteConfig, key: string, usable: NodeConfig[], answer: RegistryAnswer): Location {
    const holders = answer.holders.filter((h) => usable.some((n) => n.id === h.nodeId));
    if (holders.length === 0) {
      const named = answer.holders.map((h) => h.nodeId);
      throw this.noNode(
        route,
        named.length > 0
          ? `"${key}" is registered on ${named.join(', ')}, none of them usable for this route now`
          : `no node has registered "${key}" in the stream registry (${answer.source})`,
      );
    }
    const nodes = holders.map((h) => usable.find((n) => n.id === h.nodeId)).filter((n): n is NodeConfig => n !== undefined);
    const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
    const described = holders.map((h) => `${h.nodeId} (confirmed ${seconds(h.ageMs)} ago, expires in ${seconds(h.expiresInMs)})`).join(', ');
    return {
      nodes,
      locator: 'registry',
      streamKey: key,
      reason: `"${key}" registered on ${described}; newest publish first (${answer.source})`,
      cacheAgeMs: holders[0].ageMs,
    };
  }

  private async locateProbe(route: RouteConfig, target: RequestTarget, key: string, usable: NodeConfig[]): Promise<Location> {
    const answer = await this.deps.probe.locate(key, usable, () => nodePath(route, target.path) + target.query);
    if (answer.nodeIds.length === 0) throw this.noNode(route, `no node holds "${key}" (asked ${usable.map((n) => n.id).join(', ')})`);
    const holders = answer.nodeIds.map((id) => usable.find((n) => n.id === id)).filter((n): n is NodeConfig => n !== undefined);
    return {
      nodes: holders,
      locator: 'probe',
      streamKey: key,
      reason: `"${key}" found on ${holders.map((n) => n.id).join(', ')} (${answer.source})`,
      cacheAgeMs: answer.source === 'probe' ? undefined : answer.ageMs,
    };
  }
}
