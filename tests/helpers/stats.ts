/** Stats objects for tests that feed the live ticker or the UI stores a fake engine's counters: every field zero but those given. */
import type { AdmissionStatsDto, RouteStatsDto, StatsDto } from '../../shared/dto.js';

/** One route's counters (or the totals), zero but `given`. */
export function routeStats(given: Partial<RouteStatsDto> = {}): RouteStatsDto {
  return { requests: 0, redirects: 0, proxied: 0, bytesIn: 0, bytesOut: 0, errors: {}, active: 0, tokens: {}, limits: {}, ...given };
}

/** The admission counters, all zero. */
function admissionStats(): AdmissionStatsDto {
  return {
    webhook: { calls: 0, cacheHits: 0, coalesced: 0, failures: 0, queueFull: 0 },
    stop: { delivered: 0, retried: 0, dropped: 0 },
    hlsViewerSessions: 0,
    jwt: { verifications: 0, cacheHits: 0, jwksFetches: 0, jwksFailures: 0 },
  };
}

/** A whole stats answer: `totals` and `routes` as given, started at 0, admission counters zero. */
export function statsOf(totals: Partial<RouteStatsDto> = {}, routes: Record<string, RouteStatsDto> = {}): StatsDto {
  return { startedAt: 0, totals: routeStats(totals), routes, admission: admissionStats() };
}
