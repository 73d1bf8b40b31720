/**
 * What the `registry` locator reads: which nodes told the stream registry they publish a
 * stream (their publish hooks, relay/node-hooks.ts), with the age of that information. The
 * engine injects the fleet's registry (fleet/stream-registry.ts, shared through Redis) or,
 * for a relay alone, `MemoryStreamRegistry` below: the same rules, kept in this process.
 *
 * Entry rules (both implementations): a publish or refresh for (stream, node) sets the
 * entry to expire `fleet.registryTtlMs` later; an unpublish removes it; a probe that lists
 * a node's streams through its API confirms (extends) the entries of that node it lists, but
 * never creates one; an entry not confirmed within the TTL is gone.
 */
import { RelayError } from '../core/errors.js';

/** One node that holds a stream per the registry. */
export interface RegistryHolder {
  nodeId: string;
  /** Since the last publish, refresh or probe confirmation, ms. */
  ageMs: number;
  /** Until the entry expires unless confirmed again, ms. */
  expiresInMs: number;
  /** Since the node announced the stream (publish), ms: newest first is the locator's order. */
  publishedAgoMs: number;
}

/** A registry lookup. */
export interface RegistryAnswer {
  /** Holders, newest publish first. */
  holders: RegistryHolder[];
  /** "memory" (this relay alone), "cache" (the fleet registry's local read cache), "store" (read from Redis now), "stale" (Redis away: the cached entries still within their expiry). */
  source: 'memory' | 'cache' | 'store' | 'stale';
}

/** The registry as the locator reads it (upstream/locator.ts, locate "registry"). */
export interface StreamRegistryView {
  /** Holders of `streamKey`: synchronous when known locally, else one read of the store. Rejects (FLEET_UNAVAILABLE) when the store cannot answer and nothing is known. */
  holders(streamKey: string): RegistryAnswer | Promise<RegistryAnswer>;
  /** A probe listed `streamKeys` on `nodeId` through its API: their entries for that node are confirmed (never created). */
  confirm(nodeId: string, streamKeys: ReadonlySet<string>): void;
}

/** Most streams the in-memory registry keeps; past it, expired entries are swept, then the least recently announced stream is dropped. */
export const MEMORY_REGISTRY_STREAMS = 10_000;

interface MemoryEntry {
  expiresAt: number;
  confirmedAt: number;
  publishedAt: number;
}

/**
 * The registry of a relay alone (no fleet.redisUrl): hooks sent to this relay, kept in this
 * process with the same TTL rules as the fleet's, at most MEMORY_REGISTRY_STREAMS streams.
 */
export class MemoryStreamRegistry implements StreamRegistryView {
  private readonly streams = new Map<string, Map<string, MemoryEntry>>();

  /** `ttlMs`: fleet.registryTtlMs, read at each write. */
  constructor(private readonly ttlMs: () => number) {}

  /** Number of streams held (for tests and bounds). */
  get size(): number {
    return this.streams.size;
  }

  async publish(nodeId: string, streamKeys: readonly string[]): Promise<void> {
    this.write(nodeId, streamKeys, 'publish');
  }

  async refresh(nodeId: string, streamKeys: readonly string[]): Promise<void> {
    this.write(nodeId, streamKeys, 'refresh');
  }

  async unpublish(nodeId: string, streamKeys: readonly string[]): Promise<void> {
    for (const key of streamKeys) {
      const nodes = this.streams.get(key);
      if (!nodes) continue;
      nodes.delete(nodeId);
      if (nodes.size === 0) this.streams.delete(key);
    }
  }

  confirm(nodeId: string, streamKeys: ReadonlySet<string>): void {
    const now = Date.now();
    const ttl = this.ttlMs();
    for (const key of streamKeys) {
      const entry = this.streams.get(key)?.get(nodeId);
      if (entry && entry.expiresAt > now) {
        entry.confirmedAt = now;
        entry.expiresAt = now + ttl;
      }
    }
  }

  holders(streamKey: string): RegistryAnswer {
    const nodes = this.streams.get(streamKey);
    if (!nodes) return { holders: [], source: 'memory' };
    const now = Date.now();
    const holders: RegistryHolder[] = [];
    for (const [nodeId, entry] of nodes) {
      if (entry.expiresAt <= now) nodes.delete(nodeId);
      else holders.push({ nodeId, ageMs: now - entry.confirmedAt, expiresInMs: entry.expiresAt - now, publishedAgoMs: now - entry.publishedAt });
    }
    if (nodes.size === 0) this.streams.delete(streamKey);
    return { holders: newestFirst(holders), source: 'memory' };
  }

  private write(nodeId: string, streamKeys: readonly string[], how: 'publish' | 'refresh'): void {
    const now = Date.now();
    const ttl = this.ttlMs();
    for (const key of streamKeys) {
      let nodes = this.streams.get(key);
      if (nodes)
        this.streams.delete(key); // re-inserted last: the least recently announced stream is first to go
      else nodes = new Map();
      const old = nodes.get(nodeId);
      const live = old !== undefined && old.expiresAt > now;
      nodes.set(nodeId, { expiresAt: now + ttl, confirmedAt: now, publishedAt: how === 'refresh' && live ? old.publishedAt : now });
      this.streams.set(key, nodes);
    }
    if (this.streams.size > MEMORY_REGISTRY_STREAMS) this.trim(now);
  }

  private trim(now: number): void {
    for (const [key, nodes] of this.streams) {
      for (const [nodeId, entry] of nodes) if (entry.expiresAt <= now) nodes.delete(nodeId);
      if (nodes.size === 0) this.streams.delete(key);
    }
    while (this.streams.size > MEMORY_REGISTRY_STREAMS) this.streams.delete(this.streams.keys().next().value as string);
  }
}

/** Holders ordered newest publish first (a publisher that moved is found where it went). */
export function newestFirst(holders: RegistryHolder[]): RegistryHolder[] {
  return holders.sort((a, b) => a.publishedAgoMs - b.publishedAgoMs);
}

/** The registry could not be read and nothing is known of the stream. */
export function registryUnavailable(streamKey: string, cause: string): RelayError {
  return new RelayError('FLEET_UNAVAILABLE', `the stream registry cannot be read for "${streamKey}": ${cause}`);
}
