/** Filtering and exporting Traffic rows: pure functions over the rows the store holds. */
import { isFailureCode } from '../format.js';
import type { TrafficRow } from './traffic-store.js';

export const STATUS_FILTERS = ['all', 'live', '2xx', '3xx', '4xx', '5xx', 'errors'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

export interface TrafficFilter {
  /** Case-insensitive text searched in path, client, user agent, node, route, error code, status. */
  text: string;
  status: StatusFilter;
  mode: 'all' | 'redirect' | 'proxy';
  /** Route id, or "" for every route. */
  routeId: string;
}

export const NO_FILTER: TrafficFilter = { text: '', status: 'all', mode: 'all', routeId: '' };

function statusMatches(row: TrafficRow, status: StatusFilter): boolean {
  switch (status) {
    case 'all':
      return true;
    case 'live':
      return row.live;
    case 'errors':
      // A viewer leaving (CLIENT_CLOSED, 499) or kicked is not an error.
      return row.errorCode !== undefined ? isFailureCode(row.errorCode) : row.status >= 400;
    default:
      return !row.live && Math.floor(row.status / 100) === Number(status[0]);
  }
}

function textMatches(row: TrafficRow, needle: string): boolean {
  return (
    row.path.toLowerCase().includes(needle) ||
    row.clientAddress.toLowerCase().includes(needle) ||
    row.userAgent.toLowerCase().includes(needle) ||
    row.nodeId.toLowerCase().includes(needle) ||
    row.routeId.toLowerCase().includes(needle) ||
    (row.errorCode?.toLowerCase().includes(needle) ?? false) ||
    String(row.status) === needle
  );
}

export function isFiltering(filter: TrafficFilter): boolean {
  return filter.text.trim() !== '' || filter.status !== 'all' || filter.mode !== 'all' || filter.routeId !== '';
}

/** The rows that pass `filter`, in their order. */
export function filterRows(rows: readonly TrafficRow[], filter: TrafficFilter): readonly TrafficRow[] {
  if (!isFiltering(filter)) return rows;
  const needle = filter.text.trim().toLowerCase();
  return rows.filter(
    (row) =>
      statusMatches(row, filter.status) &&
      (filter.mode === 'all' || row.mode === filter.mode) &&
      (filter.routeId === '' || row.routeId === filter.routeId) &&
      (needle === '' || textMatches(row, needle)),
  );
}

/** One JSON object per line (JSON Lines), without the page's own bookkeeping fields. */
export function toJsonLines(rows: readonly TrafficRow[]): string {
  return rows.map(({ key: _key, ...entry }) => JSON.stringify(entry)).join('\n') + (rows.length ? '\n' : '');
}
