/**
 * Per-route counters. Plain numbers bumped on the hot path; Prometheus and the stats API
 * read them on demand. One entry per configured route: the map shrinks when a route goes.
 * Records keyed by operator strings (token labels, error codes, route ids) have no
 * prototype, so a label named `constructor` or `toString` counts from 0 like any other.
 */
import type { RouteStatsDto, StatsDto } from '../../../shared/dto.js';

/** An empty record with no prototype, for counting by operator strings. */
export function counterRecord(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}

/** A plain-object copy of a route's counters for the DTO (every key an own data property, `__proto__` too). */
function plainCopy(stats: RouteStatsDto): RouteStatsDto {
  return {
    ...stats,
    errors: Object.fromEntries(Object.entries(stats.errors)),
    tokens: Object.fromEntries(Object.entries(stats.tokens)),
    limits: Object.fromEntries(Object.entries(stats.limits)),
  };
}

export function emptyRouteStats(): RouteStatsDto {
  return {
    requests: 0,
    redirects: 0,
    proxied: 0,
    bytesIn: 0,
    bytesOut: 0,
    errors: counterRecord(),
    active: 0,
    tokens: counterRecord(),
    limits: counterRecord(),
  };
}

export class StatsBook {
  private readonly byRoute = new Map<string, RouteStatsDto>();
  readonly startedAt = Date.now();

  /** The live counters of a route (created on first use). */
  route(routeId: string): RouteStatsDto {
    let stats = this.byRoute.get(routeId);
    if (!stats) {
      stats = emptyRouteStats();
      this.byRoute.set(routeId, stats);
    }
    return stats;
  }

  /** A request refused by a viewer limit (viewer-limits.ts LimitName). */
  countLimit(routeId: string, limit: string): void {
    const limits = this.route(routeId).limits;
    limits[limit] = (limits[limit] ?? 0) + 1;
  }

  /** Count an admitted request's auth label (static token, JWT, webhook). */
  countLabel(routeId: string, label: string): void {
    const tokens = this.route(routeId).tokens;
    tokens[label] = (tokens[label] ?? 0) + 1;
  }

  countError(routeId: string, code: string): void {
    const errors = this.route(routeId).errors;
    errors[code] = (errors[code] ?? 0) + 1;
  }

  /** Drop counters of routes no longer configured (keeps the map bounded by the config). */
  retainRoutes(routeIds: Iterable<string>): void {
    const keep = new Set(routeIds);
    keep.add(UNROUTED);
    for (const id of this.byRoute.keys()) if (!keep.has(id)) this.byRoute.delete(id);
  }

  entries(): [string, RouteStatsDto][] {
    return [...this.byRoute.entries()];
  }

  snapshot(): Omit<StatsDto, 'admission'> {
    const totals = emptyRouteStats();
    const routes: [string, RouteStatsDto][] = [];
    for (const [id, stats] of this.byRoute) {
      routes.push([id, plainCopy(stats)]);
      totals.requests += stats.requests;
      totals.redirects += stats.redirects;
      totals.proxied += stats.proxied;
      totals.bytesIn += stats.bytesIn;
      totals.bytesOut += stats.bytesOut;
      totals.active += stats.active;
      for (const [code, n] of Object.entries(stats.errors)) totals.errors[code] = (totals.errors[code] ?? 0) + n;
      for (const [label, n] of Object.entries(stats.tokens)) totals.tokens[label] = (totals.tokens[label] ?? 0) + n;
      for (const [limit, n] of Object.entries(stats.limits)) totals.limits[limit] = (totals.limits[limit] ?? 0) + n;
    }
    return { startedAt: this.startedAt, totals: plainCopy(totals), routes: Object.fromEntries(routes) };
  }
}

/** Pseudo route id for requests that matched no route (404s, 400s). */
export const UNROUTED = '(none)';
