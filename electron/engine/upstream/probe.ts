/**
 * Which node holds a stream, by asking the nodes. Stream lists are refreshed in the
 * background per node (a slow node delays nobody else); a lookup uses a fresh cached
 * location, else the fresh lists, else asks every usable node at once and takes the
 * first yes. Concurrent lookups for one stream share one probe. Locations expire after
 * locator.probeTtlMs and are dropped when their node goes down or a pull from it fails.
 */
import type { LocatorSettings, NodeConfig } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import { canListStreams, holdsByHead, listStreams } from './adapters.js';
import type { UpstreamTransport } from './transport.js';
import type { NodeRegistry } from './registry.js';

export interface ProbeAnswer {
  /** Nodes holding the stream, in candidate order. */
  nodeIds: string[];
  /** Age of the information used, ms (0 when just asked). */
  ageMs: number;
  /** "cache", "list" (background lists) or "probe" (asked now). */
  source: 'cache' | 'list' | 'probe';
}

interface NodeList {
  keys: Set<string>;
  at: number;
}

export class StreamProbe {
  private readonly lists = new Map<string, NodeList>();
  private readonly locations = new Map<string, { nodeIds: string[]; at: number }>();
  private readonly inflight = new Map<string, Promise<ProbeAnswer>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly refreshing = new Set<string>();

  constructor(
    private readonly registry: NodeRegistry,
    private readonly settings: () => LocatorSettings,
    private readonly log: Logger,
    /** The engine's upstream transport (upstream/transport.ts): node API calls and HEAD probes go through it. */
    private readonly transport: UpstreamTransport,
  ) {
    registry.onStatusChange((change) => {
      if (change.to !== 'up') this.forgetNode(change.nodeId);
    });
  }

  /** Start the background refresh of every listing node's streams. */
  start(): void {
    const every = this.settings().probeRefreshMs;
    if (every === 0 || this.timer) return;
    this.timer = setInterval(() => this.refreshAll(), every);
    this.timer.unref();
    this.refreshAll();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private refreshAll(): void {
    for (const state of this.registry.all()) {
      if (state.usable && canListStreams(state.config) && !this.refreshing.has(state.config.id)) void this.refreshNode(state.config);
    }
  }

  private async refreshNode(node: NodeConfig): Promise<NodeList | undefined> {
    this.refreshing.add(node.id);
    try {
      const keys = await listStreams(node, this.settings().probeTimeoutMs, this.transport);
      const limit = this.settings().probeCacheEntries;
      const list = { keys: keys.size > limit ? new Set([...keys].slice(0, limit)) : keys, at: Date.now() };
      this.lists.set(node.id, list);
      return list;
    } catch (error) {
      this.log.debug(`stream list of node ${node.id} failed: ${(error as Error).message}`);
      this.lists.delete(node.id);
      return undefined;
    } finally {
      this.refreshing.delete(node.id);
    }
  }

  /** Where `key` is, among `candidates` (usable nodes, in preference order). */
  locate(key: string, candidates: NodeConfig[], nodePath: (node: NodeConfig) => string): Promise<ProbeAnswer> {
    const now = Date.now();
    const ttl = this.settings().probeTtlMs;
    const usableIds = new Set(candidates.map((n) => n.id));
    const cached = this.locations.get(key);
    if (cached && now - cached.at < ttl) {
      const nodeIds = cached.nodeIds.filter((id) => usableIds.has(id));
      if (nodeIds.length > 0) return Promise.resolve({ nodeIds, ageMs: now - cached.at, source: 'cache' });
    }
    const fromLists = this.fromFreshLists(key, candidates, now, ttl);
    if (fromLists) return Promise.resolve(fromLists);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.probeNow(key, candidates, nodePath).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** An answer from the background lists, when every candidate's list is fresh. */
  private fromFreshLists(key: string, candidates: NodeConfig[], now: number, ttl: number): ProbeAnswer | undefined {
    let oldest = now;
    const nodeIds: string[] = [];
    for (const node of candidates) {
      const list = this.lists.get(node.id);
      if (!list || now - list.at >= ttl) return undefined;
      oldest = Math.min(oldest, list.at);
      if (list.keys.has(key)) nodeIds.push(node.id);
    }
    if (nodeIds.length > 0) this.remember(key, nodeIds, oldest);
    return { nodeIds, ageMs: now - oldest, source: 'list' };
  }

  /** Ask every candidate at once; settle at the first yes, or when all have answered. */
  private probeNow(key: string, candidates: NodeConfig[], nodePath: (node: NodeConfig) => string): Promise<ProbeAnswer> {
    const timeoutMs = this.settings().probeTimeoutMs;
    return new Promise((resolve) => {
      const holders: string[] = [];
      let remaining = candidates.length;
      let settled = false;
      const finish = () => {
        if (settled) return;
        settled = true;
        const ordered = candidates.map((n) => n.id).filter((id) => holders.includes(id));
        if (ordered.length > 0) this.remember(key, ordered, Date.now());
        resolve({ nodeIds: ordered, ageMs: 0, source: 'probe' });
      };
      if (remaining === 0) finish();
      for (const node of candidates) {
        const ask = canListStreams(node)
          ? this.refreshNode(node).then((list) => list?.keys.has(key) ?? false)
          : holdsByHead(node, nodePath(node), timeoutMs, this.transport);
        void ask
          .catch(() => false)
          .then((holds) => {
            if (holds) holders.push(node.id);
            remaining -= 1;
            if (holds || remaining === 0) finish();
          });
      }
    });
  }

  private remember(key: string, nodeIds: string[], at: number): void {
    this.locations.delete(key);
    this.locations.set(key, { nodeIds, at });
    const limit = this.settings().probeCacheEntries;
    while (this.locations.size > limit) this.locations.delete(this.locations.keys().next().value as string);
  }

  /** A pull of `key` from `nodeId` failed: do not trust that location any more. */
  forget(key: string, nodeId: string): void {
    const cached = this.locations.get(key);
    if (cached?.nodeIds.includes(nodeId)) this.locations.delete(key);
    this.lists.get(nodeId)?.keys.delete(key);
  }

  /** The node went down or left: drop its list and every location naming it. */
  forgetNode(nodeId: string): void {
    this.lists.delete(nodeId);
    for (const [key, location] of this.locations) if (location.nodeIds.includes(nodeId)) this.locations.delete(key);
  }

  /** Streams a node holds per its last list (for the nodes page), or undefined. */
  streamsOn(nodeId: string): string[] | undefined {
    const list = this.lists.get(nodeId);
    return list ? [...list.keys].slice(0, 100) : undefined;
  }
}
