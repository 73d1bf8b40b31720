/**
 * Prometheus metrics (prom-client), read from the engine's counters at scrape time so the
 * hot path only bumps plain numbers. One registry per engine; label sets are bounded by
 * the configured routes and nodes and the fixed error codes.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { SessionRegistry } from './sessions.js';
import type { StatsBook } from './stats.js';

export function createMetricsRegistry(stats: StatsBook, sessions: SessionRegistry): Registry {
  const registry = new Registry();
  const perRoute = (name: string, help: string, pick: (s: ReturnType<StatsBook['route']>) => number, labelNames: string[] = ['route']) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [route, s] of stats.entries()) this.inc({ route }, pick(s));
      },
    });
  perRoute('relaydeck_requests_total', 'Requests received, by route.', (s) => s.requests);
  perRoute('relaydeck_redirects_total', 'Requests answered with a redirect, by route.', (s) => s.redirects);
  perRoute('relaydeck_proxied_total', 'Requests proxied to a node, by route.', (s) => s.proxied);
  perRoute('relaydeck_upstream_bytes_total', 'Bytes read from nodes, by route.', (s) => s.bytesIn);
  perRoute('relaydeck_viewer_bytes_total', 'Bytes written to viewers, by route.', (s) => s.bytesOut);
  new Counter({
    name: 'relaydeck_errors_total',
    help: 'Errors by route and error code (CLIENT_CLOSED counts viewers that left early).',
    labelNames: ['route', 'code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [route, s] of stats.entries()) for (const [code, n] of Object.entries(s.errors)) this.inc({ route, code }, n);
    },
  });
  new Gauge({
    name: 'relaydeck_active_sessions',
    help: 'Proxied requests in flight, by node.',
    labelNames: ['node'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [node, n] of sessions.countByNode()) this.set({ node }, n);
    },
  });
  return registry;
}
