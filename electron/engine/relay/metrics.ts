/**
 * Prometheus metrics (prom-client), read from the engine's counters at scrape time so the
 * hot path only bumps plain numbers. One registry per engine; label sets are bounded by
 * the configured routes and nodes and the fixed error codes. Every series also carries the
 * `relay` label (the engine sets it as the registry's default label once the relay port
 * listens: the fleet relay id, or host-port when the relay runs alone), so a Prometheus
 * scraping a fleet can sum and split by relay (build/monitoring/).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { NodeDto, StreamDto } from '../../../shared/dto.js';
import { VERSION } from '../core/version.js';
import type { SessionRegistry } from './sessions.js';
import type { StatsBook } from './stats.js';

/** Per-stream series: one label set per live stream (bounded by flv.maxStreams). */
const STREAM_SERIES: [string, string, (s: StreamDto) => number][] = [
  ['relaydeck_flv_viewers', 'Viewers of a live FLV stream.', (s) => s.viewers],
  ['relaydeck_flv_upstream_open', 'Upstream connections open for a stream (0 or 1).', (s) => s.upstreamOpen],
  ['relaydeck_flv_upstream_opened', 'Upstream connections opened over the stream life.', (s) => s.upstreamOpened],
  ['relaydeck_flv_reconnects', 'Upstream reconnects / failovers of a stream.', (s) => s.reconnects],
  ['relaydeck_flv_bitrate_kbps', 'Upstream bitrate over the last 5 s, kbit/s.', (s) => s.bitrateKbps],
  ['relaydeck_flv_bytes_in', 'Bytes read from the node for a stream.', (s) => s.bytesIn],
  ['relaydeck_flv_bytes_out', 'Bytes written to the viewers of a stream.', (s) => s.bytesOut],
  ['relaydeck_flv_frames_dropped', 'Frames dropped for slow viewers of a stream.', (s) => s.framesDropped],
  ['relaydeck_flv_gop_ms', 'Time between the last two keyframes, ms.', (s) => s.gopMs],
];

/** Per-node series: one label set per configured node (bounded by MAX_NODES). */
const NODE_SERIES: [string, string, (n: NodeDto) => number][] = [
  ['relaydeck_node_up', 'Node usable for new sessions (1) or not (0: down, draining or disabled).', (n) => (n.status === 'up' ? 1 : 0)],
  ['relaydeck_node_draining', 'Node is draining (1) or not (0).', (n) => (n.status === 'draining' ? 1 : 0)],
  ['relaydeck_node_rtt_ms', 'RTT of the last passed health check, ms (-1 before the first).', (n) => n.rttMs],
  ['relaydeck_node_sessions', 'Requests and viewers served by the node now.', (n) => n.activeSessions],
  ['relaydeck_node_pulls', 'Upstream connections to the node now.', (n) => n.activePulls],
  ['relaydeck_node_mbps_in', 'Traffic from the node over the last second, Mbit/s.', (n) => n.mbpsIn],
  ['relaydeck_node_mbps_out', 'Traffic to viewers of the node over the last second, Mbit/s.', (n) => n.mbpsOut],
  ['relaydeck_node_passive_failures', 'Proxy failures of the node within the passive window.', (n) => n.passiveFailures],
];

/** One gauge per [name, help, value] series, with a label set per item, read at scrape time. */
export function registerGaugeSeries<T>(
  registry: Registry,
  series: readonly (readonly [string, string, (item: T) => number])[],
  items: () => T[],
  labels: (item: T) => Record<string, string>,
): void {
  for (const [name, help, pick] of series) {
    const labelNames = Object.keys(labels({} as T));
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const item of items()) this.set(labels(item), pick(item));
      },
    });
  }
}

export function createMetricsRegistry(stats: StatsBook, sessions: SessionRegistry, streams: () => StreamDto[], nodes: () => NodeDto[] = () => []): Registry {
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
  new Counter({
    name: 'relaydeck_limit_refusals_total',
    help: 'Requests refused by a viewer limit, by route and limit (maxViewers, maxViewersPerStream, maxConnectionsPerAddress).',
    labelNames: ['route', 'limit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [route, s] of stats.entries()) for (const [limit, n] of Object.entries(s.limits)) this.inc({ route, limit }, n);
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
  new Gauge({
    name: 'relaydeck_relay_info',
    help: 'Always 1, with the RelayDeck version as a label (one series per relay: its `relay` label names it).',
    labelNames: ['version'],
    registers: [registry],
    collect() {
      this.set({ version: VERSION }, 1);
    },
  });
  registerGaugeSeries(registry, NODE_SERIES, nodes, (node) => ({ node: node.id }));
  registerGaugeSeries(registry, STREAM_SERIES, streams, (stream) => ({ route: stream.routeId, stream: stream.id }));
  return registry;
}

/** What the admission webhooks expose to /metrics (relay/auth/webhook.ts, webhook-stop.ts, hls/viewer-sessions.ts). */
export interface AdmissionMetricsSource {
  webhook: () => { calls: number; cacheHits: number; coalesced: number; failures: number; queueFull: number };
  stop: () => { delivered: number; retried: number; dropped: number };
  hlsViewerSessions: () => number;
  jwt: () => { verifications: number; cacheHits: number; jwksFetches: number; jwksFailures: number };
}

/** Webhook calls and outcomes, end-of-session deliveries, and HLS viewer sessions held. */
export function registerAdmissionMetrics(registry: Registry, source: AdmissionMetricsSource): void {
  const counter = (name: string, help: string, read: () => Record<string, number>, label: string) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, n] of Object.entries(read())) this.inc({ [label]: key }, n);
      },
    });
  counter(
    'relaydeck_webhook_questions_total',
    'Admission webhook questions by outcome: calls made, cacheHits, coalesced (joined a call in flight), failures, queueFull.',
    source.webhook,
    'outcome',
  );
  counter('relaydeck_jwt_checks_total', 'JWT viewer tokens: verifications (signature checked), cacheHits, jwksFetches, jwksFailures.', source.jwt, 'outcome');
  counter('relaydeck_webhook_stop_records_total', 'End-of-session webhook records: delivered, retried (attempts), dropped.', source.stop, 'outcome');
  new Gauge({
    name: 'relaydeck_hls_viewer_sessions',
    help: 'HLS viewer sessions held (routes with an admission webhook or viewer caps).',
    registers: [registry],
    collect() {
      this.set(source.hlsViewerSessions());
    },
  });
}
