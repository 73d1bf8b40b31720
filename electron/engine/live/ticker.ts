/**
 * The engine's one-second heartbeat: each tick samples the live counters into the
 * throughput history, feeds the redirect savings estimate, and, when anyone listens,
 * publishes one `snapshot` and one `traffic` event (shared/events.ts). Config changes are
 * published as a `config` event. Nothing is published per chunk or per request.
 *
 * A listener that throws is logged and kept; it never breaks the tick or other listeners.
 */
import type { RouteKind } from '../../../shared/config.js';
import type { HlsCacheDto, HlsStreamDto, NodeDto, RelayStateDto, RequestLogEntry, RouteDto, SessionDto, StatsDto, StreamDto } from '../../../shared/dto.js';
import { EVENT_INTERVAL_MS, EVENT_MAX_LIVE_SESSIONS, type RelayDeckEvent, type RelayDeckEventListener } from '../../../shared/events.js';
import { HistoryBook } from '../history/book.js';
import { SavingsEstimator } from '../history/savings.js';
import type { Logger } from '../core/log.js';
import { LogCursor } from './log-cursor.js';

/** Most event listeners at once (SSE clients, the window, the tray); more are refused. */
export const MAX_EVENT_LISTENERS = 64;

/** Error codes that are not failures of the relay: a viewer leaving, an operator kick. */
export const NOT_FAILURE_CODES: ReadonlySet<string> = new Set(['CLIENT_CLOSED', 'KICKED']);

/** What the ticker reads from the engine (functions, so tests can feed it fakes). */
export interface LiveSources {
  stats(): Promise<StatsDto>;
  streams(): Promise<StreamDto[]>;
  hlsStreams(): Promise<HlsStreamDto[]>;
  hlsCache(): Promise<HlsCacheDto>;
  nodes(): Promise<NodeDto[]>;
  routes(): Promise<RouteDto[]>;
  /** Requests in flight now. */
  sessions(): Promise<SessionDto[]>;
  sessionCount(): number;
  /** The bounded log of finished requests, oldest first. */
  requestLog(): Promise<RequestLogEntry[]>;
  relayState(): RelayStateDto;
}

function failures(errors: Record<string, number>): number {
  let count = 0;
  for (const [code, n] of Object.entries(errors)) if (!NOT_FAILURE_CODES.has(code)) count += n;
  return count;
}

/** Upstream connections: one per live FLV stream pull, plus one per plain proxied request. */
export function countPulls(streams: readonly StreamDto[], sessionCount: number): number {
  let pulls = 0;
  let fanoutViewers = 0;
  for (const stream of streams) {
    pulls += stream.upstreamOpen;
    fanoutViewers += stream.viewers;
  }
  return pulls + Math.max(0, sessionCount - fanoutViewers);
}

export class LiveTicker {
  readonly savings = new SavingsEstimator();
  private readonly cursor = new LogCursor();
  private readonly listeners = new Set<RelayDeckEventListener>();
  private timer: NodeJS.Timeout | undefined;
  /** The tick in progress, so two never overlap. */
  private running: Promise<void> | undefined;

  /** `history` may be passed in so the API can read it without the ticker (engine.ts). */
  constructor(
    private readonly sources: LiveSources,
    private readonly log: Logger,
    readonly intervalMs = EVENT_INTERVAL_MS,
    readonly history = new HistoryBook(),
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.running) void this.tick();
    }, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Receive every event from now on; returns the unsubscribe function. Throws past MAX_EVENT_LISTENERS. */
  subscribe(listener: RelayDeckEventListener): () => void {
    if (this.listeners.size >= MAX_EVENT_LISTENERS) throw new Error(`too many event listeners (MAX_EVENT_LISTENERS = ${MAX_EVENT_LISTENERS})`);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One heartbeat (public so tests can drive it without waiting); errors are logged, never thrown. */
  tick(now = Date.now()): Promise<void> {
    this.running = this.sample(now)
      .catch((error: Error) => this.log.warn(`tick failed: ${error.message}`))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async sample(now: number): Promise<void> {
    const [stats, streams, routes, log] = await Promise.all([this.sources.stats(), this.sources.streams(), this.sources.routes(), this.sources.requestLog()]);
    const sessionCount = this.sources.sessionCount();
    const kinds = new Map<string, RouteKind>(routes.map((route) => [route.id, route.kind]));
    const kindOf = (routeId: string) => kinds.get(routeId);
    const delta = this.cursor.next(log);
    this.savings.observeFinished(delta.fresh, kindOf);
    this.savings.observeRedirects(stats, kindOf);
    const { totals } = stats;
    const step = this.history.record({
      at: now,
      bytesIn: totals.bytesIn,
      bytesOut: totals.bytesOut,
      requests: totals.requests,
      redirects: totals.redirects,
      errors: failures(totals.errors),
      savedBytes: this.savings.total,
      viewers: sessionCount,
      streams: streams.length,
      pulls: countPulls(streams, sessionCount),
    });
    if (this.listeners.size === 0) return;
    const [nodes, live, hlsStreams, hlsCache] = await Promise.all([
      this.sources.nodes(),
      this.sources.sessions(),
      this.sources.hlsStreams(),
      this.sources.hlsCache(),
    ]);
    const snapshot: RelayDeckEvent = {
      type: 'snapshot',
      at: now,
      stats,
      streams,
      hlsStreams,
      hlsCache,
      nodes,
      relay: this.sources.relayState(),
      savings: this.savings.toDto(),
      sessions: sessionCount,
      point: step.point,
    };
    if (step.minutePoint) snapshot.minutePoint = step.minutePoint;
    this.publish(snapshot);
    const shown = live.length > EVENT_MAX_LIVE_SESSIONS ? live.slice(0, EVENT_MAX_LIVE_SESSIONS) : live;
    this.publish({ type: 'traffic', at: now, finished: delta.fresh, live: shown, liveTotal: live.length, gap: delta.gap });
  }

  /** Tell every listener that routes or nodes changed. */
  async publishConfig(): Promise<void> {
    if (this.listeners.size === 0) return;
    try {
      const [routes, nodes] = await Promise.all([this.sources.routes(), this.sources.nodes()]);
      this.publish({ type: 'config', at: Date.now(), routes, nodes });
    } catch (error) {
      this.log.warn(`config event failed: ${(error as Error).message}`);
    }
  }

  /** Push a node status change at once (they are rare, so not throttled). */
  publishNodeStatus(event: Extract<RelayDeckEvent, { type: 'node' }>): void {
    this.publish(event);
  }

  private publish(event: RelayDeckEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.log.warn(`an event listener failed on "${event.type}": ${(error as Error).message}`);
      }
    }
  }
}
