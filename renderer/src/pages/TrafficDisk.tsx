/**
 * Traffic, "From disk": past records read back from the engine's log files (listLogRecords),
 * the session records or the access log, newest first, across rotated files and engine
 * restarts. A page at a time: "Load older" goes on from where the last page ended. The search
 * runs in the engine over the files (not over what is loaded). What is loaded is bounded
 * (app.trafficLogEntries, past-records.ts).
 */
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { LogFileName } from '../../../shared/dto.js';
import { DataTable, type Column } from '../components/DataTable.js';
import { ErrorNotice } from '../components/Notice.js';
import { formatBytes, formatCount, formatMs, VIEWER_EXIT_CODES } from '../format.js';
import type { PastRecordsStore, PastRow } from '../live/past-records.js';

/** Height of one row, CSS px (styles.css .traffic-row). */
const ROW_HEIGHT_PX = 26;

const FILE_NAMES: Record<LogFileName, string> = { sessions: 'Session records', access: 'Access log' };

/** Epoch ms → "2026-12-04 14:03:07" (local time): past records may be days old. */
export function formatDateTime(ms: number): string {
  const t = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
}

function statusClass(row: PastRow): string {
  if (row.errorCode && VIEWER_EXIT_CODES.has(row.errorCode)) return 'left';
  if (row.status >= 500) return 's5';
  if (row.status >= 400) return 's4';
  if (row.status >= 300) return 's3';
  return 's2';
}

/** The columns of a past record; the widths are the grid tracks every row is laid out on. */
const PAST_COLUMNS: readonly Column<PastRow>[] = [
  {
    id: 'ended',
    header: 'Ended ↓',
    headerTitle: 'When it ended (newest first)',
    width: '136px',
    className: 'ended',
    cell: (row) => formatDateTime(row.endedAt),
  },
  { id: 'method', header: 'Method', width: '52px', cell: (row) => row.method },
  { id: 'transport', header: 'Via', width: '36px', cell: (row) => row.transport },
  {
    id: 'path',
    header: 'Path',
    width: 'minmax(140px, 2.4fr)',
    className: 'path',
    title: (row) => (row.stream && row.stream !== row.path ? `${row.path} (stream ${row.stream})` : row.path),
    cell: (row) => row.path,
  },
  { id: 'status', header: 'Status', width: '52px', className: (row) => `status ${statusClass(row)}`, cell: (row) => row.status },
  { id: 'route', header: 'Route', width: 'minmax(60px, 0.8fr)', className: 'route', cell: (row) => row.routeId },
  {
    id: 'node',
    header: 'Node',
    width: 'minmax(60px, 0.8fr)',
    title: (row) => (row.movedFrom ? `moved from ${row.movedFrom.join(' → ')} → ${row.nodeId}` : undefined),
    cell: (row) => `${row.nodeId || '—'}${row.movedFrom ? ' ↪' : ''}`,
  },
  { id: 'client', header: 'Client', width: 'minmax(90px, 1fr)', cell: (row) => row.clientAddress },
  { id: 'label', header: 'Label', headerTitle: "The viewer's auth label", width: 'minmax(60px, 0.7fr)', className: 'label', cell: (row) => row.label ?? '' },
  { id: 'duration', header: 'Duration', headerClassName: 'num', width: '72px', className: 'num', cell: (row) => formatMs(row.durationMs) },
  { id: 'bytes', header: 'Bytes', headerClassName: 'num', width: '80px', className: 'num bytes', cell: (row) => formatBytes(row.bytesOut) },
  { id: 'error', header: 'Error', width: 'minmax(80px, 0.8fr)', className: 'error-code', cell: (row) => row.errorCode ?? '' },
];

const PAST_ROWS = { rowHeight: ROW_HEIGHT_PX, headClassName: 'traffic-head', rowClassName: 'traffic-row', listClassName: 'traffic-list' };

/** What the counts line says about the pages loaded. */
function countsText(store: PastRecordsStore): string {
  const parts = [`${formatCount(store.rows.length)} records from the ${FILE_NAMES[store.query.file].toLowerCase()}`];
  if (store.query.before !== undefined) parts[0] += ` that ended at or before ${formatDateTime(store.query.before - 1)}`;
  if (store.query.search.trim()) parts.push(`matching "${store.query.search.trim()}"`);
  if (store.skippedLines) parts.push(`${formatCount(store.skippedLines)} unreadable lines skipped`);
  if (store.dropped) parts.push(`${formatCount(store.dropped)} newer dropped (kept: ${formatCount(store.rows.length)})`);
  if (store.loading) parts.push('loading…');
  else if (store.done) parts.push('oldest reached');
  return parts.join(' · ');
}

export function PastRecordsView({ store }: { store: PastRecordsStore }) {
  useSyncExternalStore(store.subscribe, store.getVersion);
  const [file, setFile] = useState<LogFileName>(store.query.file);
  const [search, setSearch] = useState(store.query.search);
  const [selected, setSelected] = useState<PastRow>();

  // The first time the view shows, load the newest page (unless a load already started, e.g. "Load older from disk").
  useEffect(() => {
    if (store.cursor === undefined && !store.loading) void store.reset(store.query);
  }, [store]);

  const load = () => {
    setSelected(undefined);
    void store.reset({ file, search });
  };
  const { key: _key, ...details } = selected ?? { key: 0 };

  return (
    <>
      <div className="toolbar" role="toolbar" aria-label="Records on disk">
        <select aria-label="Log file" value={file} onChange={(e) => setFile(e.target.value as LogFileName)}>
          {(Object.keys(FILE_NAMES) as LogFileName[]).map((name) => (
            <option key={name} value={name}>
              {FILE_NAMES[name]}
            </option>
          ))}
        </select>
        <input
          type="search"
          aria-label="Search records on disk"
          placeholder="Search the files: path, stream, client, user agent, label, node, route, error…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && load()}
          spellCheck={false}
        />
        <button type="button" onClick={load} title="Read the newest records again with this file and search">
          Load newest
        </button>
        <button type="button" onClick={() => void store.loadOlder()} disabled={store.loading || store.done || store.cursor === undefined}>
          Load older
        </button>
      </div>
      <p className="counts" data-testid="past-counts">
        {countsText(store)}
      </p>
      <ErrorNotice error={store.error} />
      <div className="traffic-body">
        <DataTable
          label="Records on disk"
          columns={PAST_COLUMNS}
          rows={store.rows}
          rowKey={(row) => row.key}
          rowClassName={(row) => (selected?.key === row.key ? 'selected' : undefined)}
          onRowClick={setSelected}
          virtual={PAST_ROWS}
        />
        {selected && (
          <aside className="traffic-details" aria-label="Record details">
            <header className="dialog-head">
              <h2>
                {selected.method} {selected.path}
              </h2>
              <button type="button" className="ghost" aria-label="Close details" onClick={() => setSelected(undefined)}>
                ✕
              </button>
            </header>
            <pre>{JSON.stringify(details, null, 2)}</pre>
          </aside>
        )}
      </div>
    </>
  );
}
