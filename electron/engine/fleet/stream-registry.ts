/**
 * The fleet's stream registry: which node publishes which stream, as the nodes' hooks told
 * any relay of the fleet (relay/node-hooks.ts), shared through Redis, read by the `registry`
 * locator (upstream/locator.ts through upstream/stream-registry-view.ts).
 *
 * In Redis: one hash per stream, `relaydeck:{fleet}:reg:<streamKey>`, field = node id, value
 * = "<expiresAt> <confirmedAt> <publishedAt>" (Redis server clock, ms: relays need not agree on
 * the time). A publish or refresh sets the entry to expire fleet.registryTtlMs later, an
 * unpublish removes it, a probe listing the node's streams confirms the entries it names (and
 * creates none). Expired fields are dropped when read; the hash itself expires with its last
 * entry (PEXPIRE). Writes are Lua scripts (one round trip, atomic per call); a write that
 * changes who holds a stream is announced on the `registry` channel, and every relay drops its
 * cached answer for it.
 *
 * Reads go through a local cache (REGISTRY_CACHE_MS, at most REGISTRY_CACHE_ENTRIES streams):
 * a viewer join costs at most one Redis call, on a cache miss (concurrent misses for a stream
 * share it), a media chunk none. While Redis is away a lookup answers from the cached entries
 * still within their own expiry ("stale"), else fails with FLEET_UNAVAILABLE (the locator
 * turns it into NO_NODE naming the stream).
 */
import type { Redis } from 'ioredis';
import type { FleetSettings } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import type { StreamRegistrySink } from '../relay/node-hooks.js';
import { newestFirst, registryUnavailable, type RegistryAnswer, type RegistryHolder, type StreamRegistryView } from '../upstream/stream-registry-view.js';
import type { FleetLink } from './link.js';

/** A cached registry answer is used without asking Redis for this long, ms (pub/sub drops it sooner when the stream's holders change). */
export const REGISTRY_CACHE_MS = 1_000;
/** Most streams whose answer is cached; past it the oldest cached answer is dropped. */
export const REGISTRY_CACHE_ENTRIES = 10_000;
/** Most stream keys one Lua write carries; longer lists are written in batches. */
export const REGISTRY_WRITE_BATCH = 500;
/** The channel (under the fleet prefix) announcing streams whose holders changed. */
export const REGISTRY_CHANNEL = 'registry';

/** Lua: publish | refresh | confirm | unpublish (ARGV[1]) of node ARGV[2] for the streams KEYS, TTL ARGV[3] ms. Returns how many entries appeared or went. */
const WRITE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op, node, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local changed = 0
for _, key in ipairs(KEYS) do
  if op == 'unpublish' then
    changed = changed + redis.call('HDEL', key, node)
  else
    local old = redis.call('HGET', key, node)
    local since = now
    local live = false
    if old then
      local e, c, s = string.match(old, '^(%d+) (%d+) (%d+)$')
      if e and tonumber(e) > now then
        live = true
        if op ~= 'publish' then since = tonumber(s) end
      end
    end
    if op ~= 'confirm' or live then
      redis.call('HSET', key, node, string.format('%d %d %d', now + ttl, now, since))
      if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
      if not live then changed = changed + 1 end
    end
  end
end
return changed
`;

/** Lua: the live entries of stream KEYS[1] as [node, expiresInMs, ageMs, publishedAgoMs, ...]; expired ones are dropped. */
const READ_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local e, c, s = string.match(all[i + 1], '^(%d+) (%d+) (%d+)$')
  if e and tonumber(e) > now then
    table.insert(out, all[i])
    table.insert(out, tonumber(e) - now)
    table.insert(out, now - tonumber(c))
    table.insert(out, now - tonumber(s))
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return out
`;

type WriteOp = 'publish' | 'refresh' | 'confirm' | 'unpublish';

interface RegistryCommands {
  relaydeckRegistryWrite(...args: (string | number)[]): Promise<number>;
  relaydeckRegistryRead(key: string): Promise<(string | number)[]>;
}

/** A cached answer, in local time. */
interface CachedAnswer {
  fetchedAt: number;
  holders: { nodeId: string; expiresAt: number; confirmedAt: number; publishedAt: number }[];
}

export interface FleetStreamRegistryOptions {
  link: FleetLink;
  settings: () => FleetSettings;
  log: Logger;
}

/** The fleet's registry: the hook sink and the locator's view at once. */
export class FleetStreamRegistry implements StreamRegistryView, StreamRegistrySink {
  private readonly cache = new Map<string, CachedAnswer>();
  private readonly inflight = new Map<string, Promise<RegistryAnswer>>();
  /** Redis calls made, by purpose (tests and the bench count them). */
  readonly calls = { reads: 0, writes: 0 };

  constructor(private readonly options: FleetStreamRegistryOptions) {
    const redis = options.link.redis as Redis & Partial<RegistryCommands>;
    if (!redis.relaydeckRegistryWrite) {
      redis.defineCommand('relaydeckRegistryWrite', { lua: WRITE_SCRIPT });
      redis.defineCommand('relaydeckRegistryRead', { numberOfKeys: 1, lua: READ_SCRIPT });
    }
  }

  private get commands(): RegistryCommands {
    return this.options.link.redis as unknown as RegistryCommands;
  }

  /** Subscribe to the change announcements; a reconnect empties the cache (changes may have been missed). */
  async start(): Promise<void> {
    const { link } = this.options;
    link.onUp(() => this.cache.clear());
    await link.subscribe(REGISTRY_CHANNEL, (message) => this.onChanged(message));
  }

  private onChanged(message: string): void {
    let keys: unknown;
    try {
      keys = JSON.parse(message);
    } catch {
      return;
    }
    if (Array.isArray(keys)) for (const key of keys) if (typeof key === 'string') this.cache.delete(key);
  }

  publish(nodeId: string, streamKeys: readonly string[]): Promise<void> {
    return this.write('publish', nodeId, streamKeys);
  }

  refresh(nodeId: string, streamKeys: readonly string[]): Promise<void> {
    return this.write('refresh', nodeId, streamKeys);
  }

  unpublish(nodeId: string, streamKeys: readonly string[]): Promise<void> {
    return this.write('unpublish', nodeId, streamKeys);
  }

  /** A probe listed the node's streams: its existing entries among them are extended (failures only logged: the next probe tries again). */
  confirm(nodeId: string, streamKeys: ReadonlySet<string>): void {
    if (streamKeys.size === 0 || !this.options.link.up) return;
    this.write('confirm', nodeId, [...streamKeys]).catch((error: Error) => this.options.log.debug(`registry confirmation of node ${nodeId}: ${error.message}`));
  }

  private async write(op: WriteOp, nodeId: string, streamKeys: readonly string[]): Promise<void> {
    const { link } = this.options;
    const ttl = this.options.settings().registryTtlMs;
    let changed = 0;
    for (let start = 0; start < streamKeys.length; start += REGISTRY_WRITE_BATCH) {
      const batch = streamKeys.slice(start, start + REGISTRY_WRITE_BATCH);
      const keys = batch.map((key) => link.keys.key('reg', key));
      this.calls.writes += 1;
      changed += await link.command(() => this.commands.relaydeckRegistryWrite(keys.length, ...keys, op, nodeId, ttl));
    }
    if (op === 'confirm') return;
    for (const key of streamKeys) this.cache.delete(key);
    // Who holds these streams changed: every relay drops its cached answer (a plain refresh that changed nothing is not announced).
    // The entries are written: an announcement lost with Redis leaves the other relays' caches to age out (REGISTRY_CACHE_MS).
    if (changed > 0 || op !== 'refresh')
      await link
        .publish(REGISTRY_CHANNEL, JSON.stringify(streamKeys))
        .catch((error: Error) => this.options.log.debug(`registry announcement: ${error.message}`));
  }

  holders(streamKey: string): RegistryAnswer | Promise<RegistryAnswer> {
    const now = Date.now();
    const cached = this.cache.get(streamKey);
    if (cached && now - cached.fetchedAt < REGISTRY_CACHE_MS) return this.answer(cached, now, 'cache');
    let pending = this.inflight.get(streamKey);
    if (!pending) {
      pending = this.read(streamKey, cached).finally(() => this.inflight.delete(streamKey));
      this.inflight.set(streamKey, pending);
    }
    return pending;
  }

  private async read(streamKey: string, cached: CachedAnswer | undefined): Promise<RegistryAnswer> {
    const { link } = this.options;
    let raw: (string | number)[];
    try {
      if (!link.up) throw new Error(`Redis is ${link.state}${link.lastError ? ` (${link.lastError})` : ''}`);
      this.calls.reads += 1;
      raw = await link.command(() => this.commands.relaydeckRegistryRead(link.keys.key('reg', streamKey)));
    } catch (error) {
      const now = Date.now();
      const stale = cached ? this.answer(cached, now, 'stale') : undefined;
      if (stale && stale.holders.length > 0) return stale;
      throw registryUnavailable(streamKey, (error as Error).message);
    }
    const now = Date.now();
    const entry: CachedAnswer = { fetchedAt: now, holders: [] };
    for (let i = 0; i + 3 < raw.length; i += 4) {
      const [expiresIn, age, publishedAgo] = [Number(raw[i + 1]), Number(raw[i + 2]), Number(raw[i + 3])];
      entry.holders.push({ nodeId: String(raw[i]), expiresAt: now + expiresIn, confirmedAt: now - age, publishedAt: now - publishedAgo });
    }
    this.cache.delete(streamKey);
    this.cache.set(streamKey, entry);
    if (this.cache.size > REGISTRY_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    return this.answer(entry, now, 'store');
  }

  private answer(cached: CachedAnswer, now: number, source: RegistryAnswer['source']): RegistryAnswer {
    const holders: RegistryHolder[] = [];
    for (const h of cached.holders) {
      if (h.expiresAt > now)
        holders.push({ nodeId: h.nodeId, ageMs: now - h.confirmedAt, expiresInMs: h.expiresAt - now, publishedAgoMs: now - h.publishedAt });
    }
    return { holders: newestFirst(holders), source };
  }
}
