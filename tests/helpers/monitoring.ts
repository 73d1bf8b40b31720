/** The shipped Grafana dashboard (build/monitoring/grafana-dashboard.json) read for tests: its panels, PromQL and the metrics it names. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_FILE = fileURLToPath(new URL('../../build/monitoring/grafana-dashboard.json', import.meta.url));

export interface DashboardTarget {
  expr: string;
  refId: string;
  legendFormat?: string;
  datasource?: { type: string; uid: string };
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets: DashboardTarget[];
}

export function readDashboard(): { panels: DashboardPanel[]; templating: { list: Record<string, unknown>[] } } & Record<string, unknown> {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
}

/** Series a Prometheus server makes itself for every target (not exported by the relay). */
export const PROMETHEUS_OWN_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** PromQL words that are not metric names: functions, aggregations, keywords. */
const PROMQL_WORDS = new Set([
  'sum',
  'count',
  'min',
  'max',
  'avg',
  'rate',
  'irate',
  'increase',
  'by',
  'without',
  'or',
  'and',
  'unless',
  'vector',
  'on',
  'ignoring',
]);

/** Metric names an expression reads: identifiers outside label matchers, legends and ranges that are not PromQL words. */
export function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' '); // grouping label lists
  const names = bare.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? [];
  return [...new Set(names.filter((n) => !PROMQL_WORDS.has(n)))];
}

/** The expression as Grafana sends it with every relay and job selected. */
export function withAllSelected(expr: string): string {
  return expr.replaceAll('$job', '.*').replaceAll('$relay', '.*').replaceAll('$__rate_interval', '1m');
}

/** Metric names in a /metrics answer (its "# TYPE" lines). */
export function exportedMetricNames(exposition: string): Set<string> {
  return new Set([...exposition.matchAll(/^# TYPE (\S+) \S+$/gm)].map((m) => m[1]));
}
