/**
 * This relay's presence in the fleet, and the fleet's relays as Redis holds them.
 *
 * Every fleet.heartbeatMs the relay sends one pipeline:
 *   - `relay:<id>`  its record (PresenceRecord: load, counts, version), SET with PX fleet.expiryMs:
 *                   the key exists exactly while the relay is heard from;
 *   - `relays`      a sorted set of relay ids by last heartbeat (epoch ms);
 *   - `cards`       a hash id -> PresenceCard (URL, start, version): what is still shown of a
 *                   relay once its record expired;
 *   - its capped-viewer counts (viewer-counts.ts): rewritten or their expiry renewed;
 *   - READ_SCRIPT, which forgets relays gone for longer than FLEET_GONE_KEEP_MS and returns the
 *     fleet (at most MAX_FLEET_RELAYS relays, newest first), so the other relays' load is
 *     known here without another call.
 * Reading the fleet: a relay whose record exists is up; one in the set whose record expired
 * is gone (died, or stopped: a relay that stops deletes its record at once).
 *
 * Nothing here runs per request or per media chunk; the record is built from counters the relay
 * keeps anyway. Bounded: at most MAX_STREAMS_PER_RECORD streams (most viewers first) and
 * MAX_ENTRIES_PER_RECORD routes and nodes per record, MAX_FLEET_RELAYS relays read. Scores
 * are each relay's own clock: hosts of a fleet are expected to keep time (NTP).
 */
import type { Redis } from 'ioredis';
import type { RouteConfig } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import { nodePath } from '../routing/target.js';
import { streamKey } from '../upstream/stream-key.js';
import type { FleetLink } from './link.js';
import { MAX_FLEET_RELAYS, relaysKey, type FleetViewerCounts } from './viewer-counts.js';

/** Most streams one record lists (those with the most viewers); the rest are counted in `streamsLeftOut`. */
export const MAX_STREAMS_PER_RECORD = 200;
/** Most routes and most nodes one record lists (most viewers first). */
export const MAX_ENTRIES_PER_RECORD = 200;
/** How long a relay whose heartbeat stopped is still listed as gone before it is forgotten, ms. */
export const FLEET_GONE_KEEP_MS = 10 * 60_000;
/** Most relays forgotten per heartbeat (the rest at the next one). */
const MAX_PRUNED_PER_BEAT = 1_000;

/** Viewers of one stream on one relay: route id, stream key, node id, viewers. */
export type StreamViewers = [routeId: string, streamKey: string, nodeId: string, viewers: number];

/** What a relay tells the fleet about itself at each heartbeat (JSON in `relay:<id>`). */
export interface PresenceRecord {
  id: string;
  /** Its admin URL (fleet.advertiseUrl, else the admin listen URL). */
  url: string;
  startedAt: number;
  version: string;
  /** The shared config version it serves (0 until the shared config is known). */
  configVersion: number;
  /** Epoch ms of this heartbeat (the relay's clock). */
  at: number;
  /** Live viewer sessions. */
  viewers: number;
  /** Streams with viewers (route and stream key). */
  streams: number;
  mbpsIn: number;
  mbpsOut: number;
  /** Process CPU since the previous heartbeat, percent of one core. */
  cpuPercent: number;
  perStream: StreamViewers[];
  /** Streams left out of perStream (past MAX_STREAMS_PER_RECORD). */
  streamsLeftOut: number;
  /** Viewers per route id. */
  perRoute: [string, number][];
  /** Live sessions per node id (the least-load locator's input, summed over the fleet). */
  perNode: [string, number][];
}

/** What stays known of a relay after its record expired (`cards` hash). */
export interface PresenceCard {
  url: string;
  startedAt: number;
  version: string;
  configVersion: number;
}

/** One relay as read from Redis: its record while it is up, its card, and its last heartbeat. */
export interface RelaySighting {
  id: string;
  lastSeenAt: number;
  record?: PresenceRecord;
  card?: PresenceCard;
}

/** The fleet as read at `readAt`. */
export interface FleetView {
  readAt: number;
  relays: RelaySighting[];
}

/** A live session as presence reads it (relay/sessions.ts Session). */
export interface PresenceSession {
  facts: { routeId: string; nodeId: string; path: string };
}

/** What the record is built from (the engine's parts). */
export interface PresenceSources {
  /** The admin URL advertised. */
  url(): string;
  startedAt: number;
  version: string;
  configVersion(): number;
  routes(): readonly RouteConfig[];
  sessions(): Iterable<PresenceSession>;
  /** Bytes from nodes and to viewers since start (all routes). */
  traffic(): { bytesIn: number; bytesOut: number };
}

export interface PresenceOptions {
  link: FleetLink;
  relayId: string;
  /** fleet.heartbeatMs, read for each heartbeat (a change applies from the next one). */
  heartbeatMs: () => number;
  /** fleet.expiryMs, read at each use. */
  expiryMs: () => number;
  sources: PresenceSources;
  /** The capped-viewer counts kept right by each heartbeat. */
  counts?: FleetViewerCounts;
  /**
   * Called when a live relay serves a newer shared config version than this one: an
   * announcement this relay missed (a compare-and-set whose answer timed out after Redis wrote
   * it, a message lost while the subscription was away) is caught up within a heartbeat.
   */
  onNewerConfig?: (version: number) => void;
  log: Logger;
}

/**
 * KEYS[1] relays set, KEYS[2] cards hash. ARGV: record key prefix, forget before (epoch ms),
 * most relays, most forgotten. Returns id, last seen, record or "", card or "" for each relay.
 */
const READ_SCRIPT = `
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))
for _, id in ipairs(old) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[3]) - 1, 'WITHSCORES')
local out = {}
for i = 1, #ids, 2 do
  local id = ids[i]
  out[#out + 1] = id
  out[#out + 1] = ids[i + 1]
  out[#out + 1] = redis.call('GET', ARGV[1] .. id) or ''
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or ''
end
return out
`;

interface ReadingRedis extends Redis {
  relaydeckFleetRead(...args: (string | number)[]): Promise<string[]>;
}

function reading(redis: Redis): ReadingRedis {
  const r = redis as ReadingRedis;
  if (typeof r.relaydeckFleetRead !== 'function') redis.defineCommand('relaydeckFleetRead', { numberOfKeys: 2, lua: READ_SCRIPT });
  return r;
}

function parseJson<T>(text: string): T | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Parse READ_SCRIPT's answer. */
export function parseSightings(flat: readonly string[]): RelaySighting[] {
  const relays: RelaySighting[] = [];
  for (let i = 0; i + 3 < flat.length; i += 4) {
    const sighting: RelaySighting = { id: flat[i], lastSeenAt: Number(flat[i + 1]) };
    const record = parseJson<PresenceRecord>(flat[i + 2]);
    const card = parseJson<PresenceCard>(flat[i + 3]);
    if (record && Array.isArray(record.perStream) && Array.isArray(record.perNode) && Array.isArray(record.perRoute)) sighting.record = record;
    if (card) sighting.card = card;
    relays.push(sighting);
  }
  return relays;
}

function topEntries(map: Map<string, number>, most: number): [string, number][] {
  const entries = [...map];
  entries.sort((a, b) => b[1] - a[1]);
  return entries.length > most ? entries.slice(0, most) : entries;
}

/**
 * Group live sessions into viewers per stream (route, stream key, node), per route and per
 * node; pure, so unit tests feed it plain objects.
 */
export function countViewers(
  sessions: Iterable<PresenceSession>,
  routes: ReadonlyMap<string, RouteConfig>,
  keyOf: (session: PresenceSession, route: RouteConfig | undefined) => string,
): Pick<PresenceRecord, 'viewers' | 'streams' | 'perStream' | 'streamsLeftOut' | 'perRoute' | 'perNode'> {
  const byStream = new Map<string, StreamViewers>();
  const byRoute = new Map<string, number>();
  const byNode = new Map<string, number>();
  const streams = new Set<string>();
  let viewers = 0;
  for (const session of sessions) {
    const { routeId, nodeId } = session.facts;
    const key = keyOf(session, routes.get(routeId));
    viewers += 1;
    byRoute.set(routeId, (byRoute.get(routeId) ?? 0) + 1);
    if (nodeId) byNode.set(nodeId, (byNode.get(nodeId) ?? 0) + 1);
    const streamId = `${routeId}\n${key}`;
    streams.add(streamId);
    const id = `${streamId}\n${nodeId}`;
    const entry = byStream.get(id);
    if (entry) entry[3] += 1;
    else byStream.set(id, [routeId, key, nodeId, 1]);
  }
  const perStream = [...byStream.values()].sort((a, b) => b[3] - a[3]);
  const streamsLeftOut = Math.max(0, perStream.length - MAX_STREAMS_PER_RECORD);
  if (streamsLeftOut > 0) perStream.length = MAX_STREAMS_PER_RECORD;
  return {
    viewers,
    streams: streams.size,
    perStream,
    streamsLeftOut,
    perRoute: topEntries(byRoute, MAX_ENTRIES_PER_RECORD),
    perNode: topEntries(byNode, MAX_ENTRIES_PER_RECORD),
  };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export class FleetPresence {
  private timer: NodeJS.Timeout | undefined;
  /** When the waiting heartbeat fires, epoch ms. */
  private nextBeatAt = 0;
  private beating: Promise<void> | undefined;
  private lastView: FleetView | undefined;
  /** Sessions per node on the other live relays, from the last heartbeat's read. */
  private others = new Map<string, number>();
  private lastSample: { at: number; cpu: NodeJS.CpuUsage; bytesIn: number; bytesOut: number } | undefined;
  private lastCpuPercent = 0;
  private lastMbps = { in: 0, out: 0 };
  /** Stream keys of live sessions, computed once per session. */
  private readonly keys = new WeakMap<PresenceSession, string>();
  private readonly redis: ReadingRedis;
  /** Heartbeats sent and failed (tests, bench). */
  readonly counters = { beats: 0, failed: 0 };

  constructor(private readonly options: PresenceOptions) {
    this.redis = reading(options.link.redis);
  }

  /** fleet.expiryMs as it is now. */
  get expiryMs(): number {
    return this.options.expiryMs();
  }

  private get recordKeyPrefix(): string {
    return this.options.link.keys.key('relay', '');
  }

  private get cardsKey(): string {
    return this.options.link.keys.key('cards');
  }

  start(): void {
    if (this.timer) return;
    this.sampleLoad();
    void this.beat();
    this.scheduleBeat();
  }

  /** The next heartbeat, fleet.heartbeatMs from now as the setting says now (one in flight is not doubled). */
  private scheduleBeat(delayMs = this.options.heartbeatMs()): void {
    this.nextBeatAt = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      if (!this.beating) void this.beat();
      this.scheduleBeat();
    }, delayMs);
    this.timer.unref();
  }

  /** fleet.heartbeatMs changed: a shorter one applies to the heartbeat already waiting, not only from the one after it. */
  heartbeatChanged(): void {
    if (!this.timer) return;
    const left = this.nextBeatAt - Date.now();
    const wanted = this.options.heartbeatMs();
    if (left <= wanted) return;
    clearTimeout(this.timer);
    this.scheduleBeat(wanted);
  }

  /** Stop beating and delete this relay's record at once, so the fleet shows it gone (its counts too). */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.beating;
    const { link, relayId } = this.options;
    if (!link.up) return;
    await link.command(() => link.redis.del(this.recordKeyPrefix + relayId)).catch(() => undefined);
    await this.options.counts?.clear();
  }

  /** This relay's record now. */
  record(now = Date.now()): PresenceRecord {
    const { sources, relayId } = this.options;
    const routes = new Map(sources.routes().map((route) => [route.id, route]));
    const counted = countViewers(sources.sessions(), routes, (session, route) => this.keyOf(session, route));
    return {
      id: relayId,
      url: sources.url(),
      startedAt: sources.startedAt,
      version: sources.version,
      configVersion: sources.configVersion(),
      at: now,
      ...counted,
      mbpsIn: this.lastMbps.in,
      mbpsOut: this.lastMbps.out,
      cpuPercent: this.lastCpuPercent,
    };
  }

  private keyOf(session: PresenceSession, route: RouteConfig | undefined): string {
    let key = this.keys.get(session);
    if (key === undefined) {
      key = streamKey(route ? nodePath(route, session.facts.path) : session.facts.path);
      this.keys.set(session, key);
    }
    return key;
  }

  /** CPU and traffic since the previous sample. */
  private sampleLoad(now = Date.now()): void {
    const cpu = process.cpuUsage();
    const { bytesIn, bytesOut } = this.options.sources.traffic();
    const last = this.lastSample;
    if (last && now > last.at) {
      const ms = now - last.at;
      const cpuMicros = cpu.user - last.cpu.user + (cpu.system - last.cpu.system);
      this.lastCpuPercent = Math.round((cpuMicros / 1000 / ms) * 1000) / 10;
      this.lastMbps = {
        in: round3((Math.max(0, bytesIn - last.bytesIn) * 8) / (ms / 1000) / 1e6),
        out: round3((Math.max(0, bytesOut - last.bytesOut) * 8) / (ms / 1000) / 1e6),
      };
    }
    this.lastSample = { at: now, cpu, bytesIn, bytesOut };
  }

  /** One heartbeat (public so tests can drive it): write the record, keep the counts right, read the fleet. Never throws. */
  beat(now = Date.now()): Promise<void> {
    const run = this.send(now).finally(() => {
      this.beating = undefined;
    });
    this.beating = run;
    return run;
  }

  private async send(now: number): Promise<void> {
    const { link, relayId, counts } = this.options;
    const expiryMs = this.options.expiryMs();
    this.sampleLoad(now);
    if (!link.up) {
      counts?.beatFailed();
      return;
    }
    const record = this.record(now);
    const card: PresenceCard = { url: record.url, startedAt: record.startedAt, version: record.version, configVersion: record.configVersion };
    // Built and sent in one synchronous step: the counts' rewrite relies on the order of commands on the link (viewer-counts.ts).
    const pipeline = link.redis.pipeline();
    pipeline.set(this.recordKeyPrefix + relayId, JSON.stringify(record), 'PX', expiryMs);
    pipeline.zadd(relaysKey(link), now, relayId);
    pipeline.hset(this.cardsKey, relayId, JSON.stringify(card));
    counts?.addToBeat(pipeline);
    void (pipeline as unknown as ReadingRedis).relaydeckFleetRead(...this.readArgs(now));
    this.counters.beats += 1;
    try {
      const results = await link.command(() => pipeline.exec());
      const failed = (results ?? []).find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('no answer');
      const flat = results[results.length - 1][1] as string[];
      this.setView({ readAt: now, relays: parseSightings(flat) });
    } catch (error) {
      this.counters.failed += 1;
      counts?.beatFailed();
      this.options.log.debug(`heartbeat failed: ${(error as Error).message}`);
    }
  }

  /** The fleet read script's keys and arguments (READ_SCRIPT): relays gone longer than FLEET_GONE_KEEP_MS are forgotten. */
  private readArgs(now: number): [string, string, string, number, number, number] {
    const { link } = this.options;
    return [relaysKey(link), this.cardsKey, this.recordKeyPrefix, now - this.options.expiryMs() - FLEET_GONE_KEEP_MS, MAX_FLEET_RELAYS, MAX_PRUNED_PER_BEAT];
  }

  /** Read the fleet now (getFleet): one call; throws FLEET_UNAVAILABLE when Redis cannot answer. */
  async read(now = Date.now()): Promise<FleetView> {
    const flat = await this.options.link.command(() => this.redis.relaydeckFleetRead(...this.readArgs(now)));
    const view = { readAt: now, relays: parseSightings(flat) };
    this.setView(view);
    return view;
  }

  /** The fleet as last read (a heartbeat or read()), if ever. */
  get view(): FleetView | undefined {
    return this.lastView;
  }

  private setView(view: FleetView): void {
    this.lastView = view;
    const others = new Map<string, number>();
    let newest = this.options.sources.configVersion();
    for (const relay of view.relays) {
      if (relay.id === this.options.relayId || !relay.record) continue;
      for (const [nodeId, n] of relay.record.perNode) others.set(nodeId, (others.get(nodeId) ?? 0) + n);
      newest = Math.max(newest, relay.record.configVersion);
    }
    this.others = others;
    if (newest > this.options.sources.configVersion()) this.options.onNewerConfig?.(newest);
  }

  /**
   * Sessions per node over the fleet: this relay's live count plus the other live relays' at
   * their last heartbeat (the least-load locator's input). The others' part is dropped once
   * the last read is older than fleet.expiryMs (Redis away: the local count alone).
   */
  sessionsByNode(local: ReadonlyMap<string, number>): ReadonlyMap<string, number> {
    const view = this.lastView;
    if (this.others.size === 0 || !view || Date.now() - view.readAt > this.options.expiryMs()) return local;
    const sum = new Map(local);
    for (const [nodeId, n] of this.others) sum.set(nodeId, (sum.get(nodeId) ?? 0) + n);
    return sum;
  }
}
