/**
 * Which node holds a stream, by asking the nodes. Stream lists are refreshed in the
 * background per node (a slow node delays nobody else); a lookup uses a fresh cached
 * location, else the fresh lists, else asks every usable node at once and takes the
 * first yes. Concurrent lookups for one stream share one probe. Locations expire after
 * locator.probeTtlMs and are dropped when their node goes down or a pull from it fails.
 * In a fleet (fleet.shareProbes) a node's list is taken from another relay's fresh answer
 * when there is one (ProbeSharing); a list read from the node's API confirms the node's
 * stream registry entries it names (StreamProbeHooks.onListed).
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

/** A node's stream list as a relay of the fleet stored it (fleet.shareProbes), with its age. */
export interface SharedProbeList {
  keys: string[];
  /** Since the node was asked, ms. */
  ageMs: number;
}

/**
 * Probe answers shared between relays (fleet.shareProbes, fleet/shared-probes.ts): a relay
 * about to list a node's streams takes a fresh answer another relay stored; else it claims
 * the node for one probe (so N relays do not each ask every node) and stores its answer.
 * Every call settles: a failure reads as "nothing shared" / "not claimed" and the relay asks
 * the node itself, as alone.
 */
export interface ProbeSharing {
  /** The stored list of `nodeId`, if any. */
  read(nodeId: string): Promise<SharedProbeList | undefined>;
  /** Claim the next probe of `nodeId` for `forMs`; false when another relay holds the claim. */
  claim(nodeId: string, forMs: number): Promise<boolean>;
  /** Store this relay's fresh list of `nodeId` for `ttlMs`. */
  write(nodeId: string, keys: readonly string[], ttlMs: number): Promise<void>;
}

/** Optional parts the engine injects into the probe. */
export interface StreamProbeHooks {
  /** Shared probe answers (fleet mode with fleet.shareProbes), or undefined. */
  sharing?: () => ProbeSharing | undefined;
  /** A node's list was just read from its API: the stream registry confirms that node's entries it names. */
  onListed?: (nodeId: string, keys: ReadonlySet<string>) => void;
}

/** A claim on a node's probe outlasts the probe's own timeout by this much, ms. */
export const PROBE_CLAIM_MARGIN_MS = 500;

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
    /** Shared answers and the registry's confirmation (fleet mode); none when alone. */
    private readonly hooks: StreamProbeHooks = {},
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
      const settings = this.settings();
      const sharing = this.hooks.sharing?.();
      const limit = settings.probeCacheEntries;
      let list = sharing ? await this.sharedList(node, sharing, settings) : undefined;
      if (!list) {
        const keys = await listStreams(node, settings.probeTimeoutMs, this.transport);
        list = { keys: keys.size > limit ? new Set([...keys].slice(0, limit)) : keys, at: Date.now() };
        this.hooks.onListed?.(node.id, list.keys);
        if (sharing) void sharing.write(node.id, [...list.keys], settings.probeTtlMs);
      }
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

  /**
   * A list another relay stored, when fresh (younger than locator.probeRefreshMs, else
   * probeTtlMs); else undefined after claiming the node's probe for this relay. When another
   * relay holds the claim, its last answer within probeTtlMs serves; else this relay asks too.
   */
  private async sharedList(node: NodeConfig, sharing: ProbeSharing, settings: LocatorSettings): Promise<NodeList | undefined> {
    const fresh = settings.probeRefreshMs > 0 ? Math.min(settings.probeRefreshMs, settings.probeTtlMs) : settings.probeTtlMs;
    const asList = (stored: SharedProbeList): NodeList => ({ keys: new Set(stored.keys.slice(0, settings.probeCacheEntries)), at: Date.now() - stored.ageMs });
    const stored = await sharing.read(node.id);
    if (stored && stored.ageMs < fresh) return asList(stored);
    if (await sharing.claim(node.id, settings.probeTimeoutMs + PROBE_CLAIM_MARGIN_MS)) return undefined;
    return stored && stored.ageMs < settings.probeTtlMs ? asList(stored) : undefined;
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

  /**
   * Stream keys this relay knows each node holds, from lists and located probes younger than
   * locator.probeTtlMs (what a relay below this one may ask for: admin/tier-streams.ts).
   * Bounded as the lists and the location cache are (locator.probeCacheEntries).
   */
  knownKeys(): Map<string, Set<string>> {
    const now = Date.now();
    const ttl = this.settings().probeTtlMs;
    const known = new Map<string, Set<string>>();
    const keysOf = (nodeId: string) => {
      let keys = known.get(nodeId);
      if (!keys) known.set(nodeId, (keys = new Set()));
      return keys;
    };
    for (const [nodeId, list] of this.lists) if (now - list.at < ttl) for (const key of list.keys) keysOf(nodeId).add(key);
    for (const [key, location] of this.locations) if (now - location.at < ttl) for (const nodeId of location.nodeIds) keysOf(nodeId).add(key);
    return known;
  }

  /** Streams a node holds per its last list (for the nodes page), or undefined. */
  streamsOn(nodeId: string): string[] | undefined {
    const list = this.lists.get(nodeId);
    return list ? [...list.keys].slice(0, 100) : undefined;
  }
}
