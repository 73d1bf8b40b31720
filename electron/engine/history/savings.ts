/**
 * How much bandwidth redirect routes keep off the relay, estimated. A redirected viewer
 * fetches from the node directly, so the relay never carries its bytes; we count each
 * redirect as the mean bytes a finished proxied request of the same route kind (flv, hls,
 * file) sent to its viewer. Proxied live FLV viewers are included when they leave (their
 * whole session's bytes), so for live streams the mean reflects real watch time.
 * Memory is one sum and one count per kind, and one redirect counter per configured route.
 */
import { ROUTE_KINDS, type RouteKind } from '../../../shared/config.js';
import type { RequestLogEntry, SavingsDto, StatsDto } from '../../../shared/dto.js';

export type KindOfRoute = (routeId: string) => RouteKind | undefined;

function perKind(): Record<RouteKind, number> {
  return Object.fromEntries(ROUTE_KINDS.map((kind) => [kind, 0])) as Record<RouteKind, number>;
}

export class SavingsEstimator {
  private readonly proxiedBytes = perKind();
  private readonly proxiedCount = perKind();
  /** Redirect count per route at the last look (bounded by the routes in the stats). */
  private redirectsSeen = new Map<string, number>();
  private savedBytes = 0;
  private redirects = 0;
  private unestimated = 0;

  /** Learn from finished requests: proxied ones that sent bytes feed the per-kind mean. */
  observeFinished(entries: readonly RequestLogEntry[], kindOf: KindOfRoute): void {
    for (const entry of entries) {
      if (entry.mode !== 'proxy' || entry.bytesOut <= 0) continue;
      const kind = kindOf(entry.routeId);
      if (!kind) continue;
      this.proxiedBytes[kind] += entry.bytesOut;
      this.proxiedCount[kind] += 1;
    }
  }

  mean(kind: RouteKind): number {
    return this.proxiedCount[kind] > 0 ? this.proxiedBytes[kind] / this.proxiedCount[kind] : 0;
  }

  /** Count the redirects since the last look; returns the bytes they are estimated to have saved. */
  observeRedirects(stats: StatsDto, kindOf: KindOfRoute): number {
    let saved = 0;
    const seen = new Map<string, number>();
    for (const [routeId, route] of Object.entries(stats.routes)) {
      seen.set(routeId, route.redirects);
      const fresh = Math.max(0, route.redirects - (this.redirectsSeen.get(routeId) ?? 0));
      if (fresh === 0) continue;
      this.redirects += fresh;
      const kind = kindOf(routeId);
      const mean = kind ? this.mean(kind) : 0;
      if (mean > 0) saved += fresh * mean;
      else this.unestimated += fresh;
    }
    this.redirectsSeen = seen;
    this.savedBytes += saved;
    return saved;
  }

  /** Estimated bytes saved since start. */
  get total(): number {
    return this.savedBytes;
  }

  toDto(): SavingsDto {
    const meanProxiedBytes = perKind();
    for (const kind of ROUTE_KINDS) meanProxiedBytes[kind] = Math.round(this.mean(kind));
    return {
      bytes: Math.round(this.savedBytes),
      redirects: this.redirects,
      unestimatedRedirects: this.unestimated,
      meanProxiedBytes,
      samples: { ...this.proxiedCount },
    };
  }
}
