/**
 * Fleet-wide viewer caps (routes[].limits.maxViewers, maxViewersPerStream) in fleet mode.
 *
 * Each relay keeps its own counts of capped viewers in one Redis hash, `counts:<relayId>`
 * (fields `r\n<route>` and `s\n<route>\n<stream key>`), which expires with its presence
 * (PX fleet.expiryMs, renewed by every heartbeat and every join): the viewers of a relay
 * that died drop out of the sums within fleet.expiryMs without anyone cleaning up.
 *
 * A viewer joining a capped route runs one Lua script (JOIN_SCRIPT): it sums the route's and
 * the stream's fields over this relay's hash and those of the relays in the fleet's `relays`
 * set (at most MAX_FLEET_RELAYS; an expired hash counts 0) and increments this relay's
 * fields only when both sums are under the caps, atomically, so N+k viewers spread over any
 * number of relays get exactly k refusals. A viewer leaving runs one small script
 * (LEAVE_SCRIPT: decrement, drop the field at 0). Routes without caps never call Redis.
 *
 * Redis away: join() answers "unavailable" at once (the link never queues commands), the
 * relay decides by its own count (relay/viewer-limits.ts) and tells us (joinedLocally); the
 * next heartbeat that reaches Redis rewrites this relay's hash from `mine`, the counts this
 * relay holds, so the fleet's sums are right again without a restart. While Redis is away
 * the caps hold per relay only (each relay admits up to the cap by itself).
 *
 * The rewrite is skipped while a join is in flight: the link sends commands in order on one
 * connection, and `mine` changes only when a join's answer arrives (or a leave is sent), so a
 * rewrite sent with no join in flight writes exactly what Redis would hold.
 */
import type { Redis } from 'ioredis';
import type { FleetCapAnswer, FleetViewerCaps } from '../relay/viewer-limits.js';
import type { FleetLink } from './link.js';

/** Most relays whose counts a join sums (the relays set is read newest first). */
export const MAX_FLEET_RELAYS = 256;

/** The Redis hash of one relay's capped-viewer counts. */
export function countsKey(link: FleetLink, relayId: string): string {
  return link.keys.key('counts', relayId);
}

/** The fleet's set of relays (sorted set, score = last heartbeat, epoch ms). */
export function relaysKey(link: FleetLink): string {
  return link.keys.key('relays');
}

const routeField = (routeId: string) => `r\n${routeId}`;
const streamField = (routeId: string, streamKey: string) => `s\n${routeId}\n${streamKey}`;

/**
 * KEYS[1] the relays set, KEYS[2] this relay's counts hash.
 * ARGV: counts key prefix, this relay's id, route field, route cap, stream field, stream cap,
 * expiry ms, most relays summed. Returns {0|1|2, route sum, stream sum}: 0 admitted (and
 * counted), 1 refused by the route cap, 2 by the stream cap.
 * (Keys built from the set share the fleet's hash tag, so one Cluster slot holds them all.)
 */
const JOIN_SCRIPT = `
local routeSum, streamSum = 0, 0
local function add(key)
  local v = redis.call('HMGET', key, ARGV[3], ARGV[5])
  routeSum = routeSum + (tonumber(v[1]) or 0)
  streamSum = streamSum + (tonumber(v[2]) or 0)
end
add(KEYS[2])
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[8]) - 1)
for _, id in ipairs(ids) do
  if id ~= ARGV[2] then add(ARGV[1] .. id) end
end
local routeCap, streamCap = tonumber(ARGV[4]), tonumber(ARGV[6])
if routeCap > 0 and routeSum >= routeCap then return {1, routeSum, streamSum} end
if streamCap > 0 and streamSum >= streamCap then return {2, routeSum, streamSum} end
redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('HINCRBY', KEYS[2], ARGV[5], 1)
redis.call('PEXPIRE', KEYS[2], ARGV[7])
return {0, routeSum, streamSum}
`;

/** KEYS[1] this relay's counts hash; ARGV the fields to decrement (a field at 0 or below is dropped). */
const LEAVE_SCRIPT = `
for _, field in ipairs(ARGV) do
  if redis.call('HINCRBY', KEYS[1], field, -1) <= 0 then redis.call('HDEL', KEYS[1], field) end
end
return 1
`;

/** KEYS[1] this relay's counts hash; ARGV[1] expiry ms, then field, count pairs: the hash becomes exactly these. */
const REWRITE_SCRIPT = `
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`;

interface ScriptedRedis extends Redis {
  relaydeckCapJoin(...args: (string | number)[]): Promise<[number, number, number]>;
  relaydeckCapLeave(...args: string[]): Promise<number>;
  relaydeckCapRewrite(...args: (string | number)[]): Promise<number>;
}

/** Register the scripts on the link's client once (ioredis sends EVAL the first time per connection, then EVALSHA). */
function scripted(redis: Redis): ScriptedRedis {
  const r = redis as ScriptedRedis;
  if (typeof r.relaydeckCapJoin !== 'function') {
    redis.defineCommand('relaydeckCapJoin', { numberOfKeys: 2, lua: JOIN_SCRIPT });
    redis.defineCommand('relaydeckCapLeave', { numberOfKeys: 1, lua: LEAVE_SCRIPT });
    redis.defineCommand('relaydeckCapRewrite', { numberOfKeys: 1, lua: REWRITE_SCRIPT });
  }
  return r;
}

export interface FleetViewerCountsOptions {
  link: FleetLink;
  relayId: string;
  /** fleet.expiryMs, read at each call. */
  expiryMs: () => number;
}

/** Counters for the fleet benchmark and tests: Redis calls made for caps. */
export interface CapCallCounters {
  joins: number;
  leaves: number;
  unavailable: number;
  rewrites: number;
}

export class FleetViewerCounts implements FleetViewerCaps {
  /** The capped viewers this relay holds, by hash field (what its hash should hold); an entry leaves at 0, so bounded by the viewers. */
  private readonly mine = new Map<string, number>();
  /** Joins whose answer has not arrived. */
  private pending = 0;
  /** The hash may differ from `mine` (a call failed, Redis came back, or the relay just started): the next heartbeat rewrites it. */
  private dirty = true;
  readonly counters: CapCallCounters = { joins: 0, leaves: 0, unavailable: 0, rewrites: 0 };
  private readonly redis: ScriptedRedis;
  private readonly key: string;

  constructor(private readonly options: FleetViewerCountsOptions) {
    this.redis = scripted(options.link.redis);
    this.key = countsKey(options.link, options.relayId);
    options.link.onUp(() => (this.dirty = true));
  }

  async join(routeId: string, streamKey: string, maxViewers: number, maxViewersPerStream: number): Promise<FleetCapAnswer> {
    const { link, relayId } = this.options;
    const rf = routeField(routeId);
    const sf = streamField(routeId, streamKey);
    this.pending += 1;
    this.counters.joins += 1;
    try {
      const [verdict, routeSum, streamSum] = await link.command(() =>
        this.redis.relaydeckCapJoin(
          relaysKey(link),
          this.key,
          countsKey(link, ''),
          relayId,
          rf,
          maxViewers,
          sf,
          maxViewersPerStream,
          this.options.expiryMs(),
          MAX_FLEET_RELAYS,
        ),
      );
      if (verdict === 1) return { kind: 'refused', limit: 'maxViewers', viewers: routeSum };
      if (verdict === 2) return { kind: 'refused', limit: 'maxViewersPerStream', viewers: streamSum };
      this.count(rf, sf, 1);
      return { kind: 'admitted' };
    } catch (error) {
      this.counters.unavailable += 1;
      this.dirty = true;
      return { kind: 'unavailable', reason: (error as Error).message };
    } finally {
      this.pending -= 1;
    }
  }

  joinedLocally(routeId: string, streamKey: string): void {
    this.count(routeField(routeId), streamField(routeId, streamKey), 1);
    this.dirty = true;
  }

  leave(routeId: string, streamKey: string): void {
    const rf = routeField(routeId);
    const sf = streamField(routeId, streamKey);
    this.count(rf, sf, -1);
    this.counters.leaves += 1;
    if (!this.options.link.up) {
      this.dirty = true;
      return;
    }
    this.options.link.command(() => this.redis.relaydeckCapLeave(this.key, rf, sf)).catch(() => (this.dirty = true));
  }

  /** Viewers this relay holds on a capped route or stream (tests, describe). */
  held(routeId: string, streamKey?: string): number {
    return this.mine.get(streamKey === undefined ? routeField(routeId) : streamField(routeId, streamKey)) ?? 0;
  }

  /**
   * Queue on the heartbeat's pipeline what keeps this relay's hash right: a full rewrite when
   * it may differ from `mine` and no join is in flight, else a renewed expiry.
   */
  addToBeat(pipeline: ReturnType<Redis['pipeline']>): void {
    const expiry = this.options.expiryMs();
    if (this.dirty && this.pending === 0) {
      const pairs: (string | number)[] = [];
      for (const [field, n] of this.mine) pairs.push(field, n);
      void (pipeline as unknown as ScriptedRedis).relaydeckCapRewrite(this.key, expiry, ...pairs);
      this.dirty = false;
      this.counters.rewrites += 1;
    } else pipeline.pexpire(this.key, expiry);
  }

  /** The heartbeat did not reach Redis: rewrite at the next one. */
  beatFailed(): void {
    this.dirty = true;
  }

  /** A relay that stops drops its counts at once (best effort; they expire anyway). */
  async clear(): Promise<void> {
    await this.options.link.command(() => this.options.link.redis.del(this.key)).catch(() => undefined);
  }

  private count(rf: string, sf: string, by: number): void {
    for (const field of [rf, sf]) {
      const next = (this.mine.get(field) ?? 0) + by;
      if (next > 0) this.mine.set(field, next);
      else this.mine.delete(field);
    }
  }
}
