/**
 * Traffic: the live request log. Requests in flight sit on top with bytes that keep
 * growing while they stream (ordered by when they started); finished ones follow, newest
 * first by when they ended, and both times are shown. A viewer leaving (CLIENT_CLOSED) or
 * kicked is not an error: the "errors" filter and the status colour leave it out. Filter, search, pause
 * (the view freezes; collection goes on) and export as JSON Lines. The list is
 * virtualized and the store bounded (app.trafficLogEntries), so a long session with
 * 10,000+ entries stays responsive and does not grow memory. "From disk" reads past records
 * back from the engine's log files (TrafficDisk.tsx); "Older from disk" opens it on the access
 * log's requests older than the ones kept here.
 */
import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { ApiError } from '../../../shared/api.js';
import { ErrorNotice } from '../components/Notice.js';
import { DataTable, type Column } from '../components/DataTable.js';
import { formatBytes, formatClock, formatCount, formatMs, VIEWER_EXIT_CODES } from '../format.js';
import { useApi, useLive, useTraffic } from '../live/LiveContext.js';
import { filterRows, isFiltering, NO_FILTER, STATUS_FILTERS, toJsonLines, type StatusFilter, type TrafficFilter } from '../live/traffic-filter.js';
import type { TrafficRow } from '../live/traffic-store.js';
import { olderThanLive, pastRecordsFetch, PastRecordsStore } from '../live/past-records.js';
import { asApiError } from '../transport.js';
import { PastRecordsView } from './TrafficDisk.js';

/** Height of one log row, CSS px (styles.css .traffic-row). */
const ROW_HEIGHT_PX = 26;

function statusClass(row: TrafficRow): string {
  if (row.live) return 'live';
  if (row.errorCode && VIEWER_EXIT_CODES.has(row.errorCode)) return 'left';
  if (row.status >= 500) return 's5';
  if (row.status >= 400) return 's4';
  if (row.status >= 300) return 's3';
  return 's2';
}

/** The request log's columns; the widths are the grid tracks every row is laid out on. */
const TRAFFIC_COLUMNS: readonly Column<TrafficRow>[] = [
  {
    id: 'started',
    header: 'Started',
    headerTitle: 'When the request arrived (requests in flight are ordered by it)',
    width: '64px',
    className: 'started',
    cell: (row) => formatClock(row.startedAt),
  },
  {
    id: 'ended',
    header: 'Ended ↓',
    headerTitle: 'When the request ended (finished requests are ordered by it, newest first)',
    width: '64px',
    className: 'ended',
    cell: (row) => (row.live ? '—' : formatClock(row.startedAt + row.durationMs)),
  },
  { id: 'method', header: 'Method', width: '52px', cell: (row) => row.method },
  { id: 'transport', header: 'Via', headerTitle: 'http, or ws for a WebSocket-FLV viewer', width: '36px', cell: (row) => row.transport },
  { id: 'path', header: 'Path', width: 'minmax(140px, 2.4fr)', className: 'path', title: (row) => row.path, cell: (row) => row.path },
  { id: 'status', header: 'Status', width: '52px', className: (row) => `status ${statusClass(row)}`, cell: (row) => (row.live ? 'live' : row.status) },
  { id: 'mode', header: 'Mode', width: '66px', cell: (row) => row.mode },
  { id: 'route', header: 'Route', width: 'minmax(60px, 0.8fr)', className: 'route', cell: (row) => row.routeId },
  {
    id: 'node',
    header: 'Node',
    width: 'minmax(60px, 0.8fr)',
    title: (row) => (row.movedFrom ? `moved from ${row.movedFrom.join(' → ')} → ${row.nodeId}` : undefined),
    cell: (row) => `${row.nodeId || '—'}${row.movedFrom ? ' ↪' : ''}`,
  },
  { id: 'client', header: 'Client', width: 'minmax(90px, 1fr)', cell: (row) => row.clientAddress },
  { id: 'duration', header: 'Duration', headerClassName: 'num', width: '72px', className: 'num', cell: (row) => formatMs(row.durationMs) },
  { id: 'bytes', header: 'Bytes', headerClassName: 'num', width: '80px', className: 'num bytes', cell: (row) => formatBytes(row.bytesOut) },
  { id: 'error', header: 'Error', width: 'minmax(80px, 0.8fr)', className: 'error-code', cell: (row) => row.errorCode ?? '' },
];

/** The rows' look and grid: the header row and each row carry the columns' tracks. */
const TRAFFIC_ROWS = { rowHeight: ROW_HEIGHT_PX, headClassName: 'traffic-head', rowClassName: 'traffic-row', listClassName: 'traffic-list' };

function download(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function Details({ row, onClose }: { row: TrafficRow; onClose: () => void }) {
  const api = useApi();
  const [error, setError] = useState<ApiError>();
  const [kicked, setKicked] = useState(false);
  const { key: _key, live, ...entry } = row;
  return (
    <aside className="traffic-details" aria-label="Request details">
      <header className="dialog-head">
        <h2>
          {row.method} {row.path}
        </h2>
        <button type="button" className="ghost" aria-label="Close details" onClick={onClose}>
          ✕
        </button>
      </header>
      <pre>{JSON.stringify(entry, null, 2)}</pre>
      {live && row.id && (
        <button
          type="button"
          className="danger"
          disabled={kicked}
          onClick={() =>
            api
              .kickSession({ id: row.id })
              .then(() => setKicked(true))
              .catch((caught: unknown) => setError(asApiError(caught)))
          }
        >
          {kicked ? 'Kicked' : 'Kick this viewer'}
        </button>
      )}
      <ErrorNotice error={error} />
    </aside>
  );
}

/** Which list the page shows: the live request log, or records read back from disk. */
type TrafficView = 'live' | 'disk';

export function TrafficPage() {
  const api = useApi();
  const { traffic, version } = useTraffic();
  const [view, setView] = useState<TrafficView>('live');
  const [past] = useState(() => new PastRecordsStore(pastRecordsFetch(api), traffic.limit));
  const { routes } = useLive();
  const [filter, setFilter] = useState<TrafficFilter>(NO_FILTER);
  const [frozen, setFrozen] = useState<{ rows: TrafficRow[]; version: number }>();
  const [selected, setSelected] = useState<TrafficRow>();
  const deferredFilter = useDeferredValue(filter);

  // `version` is the store's change counter: the rows are read again when it moves (the store is mutable).
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const current = useMemo(() => traffic.rowsNewestFirst(), [traffic, version]);
  const rows = frozen?.rows ?? current;
  const shown = useMemo(() => filterRows(rows, deferredFilter), [rows, deferredFilter]);
  const set = (patch: Partial<TrafficFilter>) => setFilter((f) => ({ ...f, ...patch }));
  const liveCount = rows.filter((r) => r.live).length;
  useEffect(() => past.resize(traffic.limit), [past, traffic.limit]);
  const olderFromDisk = () => {
    setView('disk');
    void past.reset({ file: 'access', search: '', ...olderThanLive(rows) });
  };

  return (
    <div className="page traffic-page">
      <div className="page-head">
        <h1>Traffic</h1>
        <div className="view-tabs" role="tablist" aria-label="Traffic view">
          {(['live', 'disk'] as const).map((name) => (
            <button key={name} type="button" role="tab" aria-selected={view === name} onClick={() => setView(name)}>
              {name === 'live' ? 'Live' : 'From disk'}
            </button>
          ))}
        </div>
        {view === 'live' && (
          <span className="counts" data-testid="traffic-counts">
            {isFiltering(deferredFilter) ? `${formatCount(shown.length)} of ` : ''}
            {formatCount(rows.length)} requests · {formatCount(traffic.liveTotal)} in flight · kept: last {formatCount(traffic.limit)}
            {traffic.dropped ? ` (${formatCount(traffic.dropped)} older dropped)` : ''}
            {frozen ? ` · paused, ${formatCount(Math.max(0, version - frozen.version))} updates waiting` : ''}
          </span>
        )}
      </div>
      {view === 'disk' ? (
        <PastRecordsView store={past} />
      ) : (
        <>
          <div className="toolbar" role="toolbar" aria-label="Traffic filters">
            <input
              type="search"
              aria-label="Search requests"
              placeholder="Search path, client, user agent, node, route, error…"
              value={filter.text}
              onChange={(e) => set({ text: e.target.value })}
              spellCheck={false}
            />
            <select aria-label="Status" value={filter.status} onChange={(e) => set({ status: e.target.value as StatusFilter })}>
              {STATUS_FILTERS.map((s) => (
                <option key={s} value={s}>
                  {s === 'all' ? 'any status' : s}
                </option>
              ))}
            </select>
            <select aria-label="Mode" value={filter.mode} onChange={(e) => set({ mode: e.target.value as TrafficFilter['mode'] })}>
              <option value="all">any mode</option>
              <option value="redirect">redirect</option>
              <option value="proxy">proxy</option>
            </select>
            <select aria-label="Route" value={filter.routeId} onChange={(e) => set({ routeId: e.target.value })}>
              <option value="">any route</option>
              {routes.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.id}
                </option>
              ))}
            </select>
            <button type="button" aria-pressed={frozen !== undefined} onClick={() => setFrozen(frozen ? undefined : { rows: current, version })}>
              {frozen ? 'Resume' : 'Pause'}
            </button>
            <button
              type="button"
              onClick={() => download(toJsonLines(shown), `relaydeck-traffic-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`)}
              disabled={shown.length === 0}
            >
              Export JSON Lines
            </button>
            <button type="button" onClick={() => traffic.clear()} title="Forget finished requests shown here (the engine's log is not changed)">
              Clear
            </button>
            <button type="button" onClick={olderFromDisk} title="Read the access log on disk for requests older than the ones kept here">
              Older from disk
            </button>
          </div>
          {traffic.gaps > 0 && (
            <p className="notice info">
              The engine's request log rolled over {traffic.gaps} time(s) between updates: some requests are missing. Raise relay.requestLogEntries to keep
              more.
            </p>
          )}
          <div className="traffic-body">
            <DataTable
              label="Requests"
              columns={TRAFFIC_COLUMNS}
              rows={shown}
              rowKey={(row) => row.key}
              rowClassName={(row) => `${selected?.key === row.key ? 'selected' : ''} ${row.live ? 'is-live' : ''}`}
              onRowClick={setSelected}
              virtual={TRAFFIC_ROWS}
            />
            {selected && <Details key={selected.key} row={selected} onClose={() => setSelected(undefined)} />}
          </div>
          <p className="hint">
            {liveCount ? `${liveCount} in flight shown on top: their bytes grow every second.` : 'Requests in flight appear on top while they stream.'}
          </p>
        </>
      )}
    </div>
  );
}
