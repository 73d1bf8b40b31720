/**
 * Live streams: one row per fanned-out FLV stream (route, node, viewers, bitrate, codec and
 * resolution, GOP, uptime), and the HLS streams with their cache figures. A row opens to its viewers (from listSessions, refreshed every
 * second while open) with IP, user agent, time to first byte and keyframe, bytes and
 * drops, and the auth label it was admitted under (a static token's, a JWT's or the admission
 * webhook's); the operator can kick a viewer, close the stream, or preview it through the relay.
 * Below, per route: the viewers refused by each limit and by each refusal code, and the
 * admitted requests by label (components/Refusals.tsx).
 */
import { useEffect, useState } from 'react';
import type { ApiError } from '../../../shared/api.js';
import type { HlsCacheDto, HlsStreamDto, RouteDto, SessionDto, StreamDto } from '../../../shared/dto.js';
import { DataTable, type Column } from '../components/DataTable.js';
import { ErrorNotice, InfoNotice } from '../components/Notice.js';
import { Preview } from '../components/Preview.js';
import { RouteAdmissionPanel } from '../components/Refusals.js';
import { formatBytes, formatCount, formatDuration, formatKbps, formatMs } from '../format.js';
import { useApi, useLive } from '../live/LiveContext.js';
import { asApiError } from '../transport.js';

/** How often an open row reloads its viewers, ms. */
const VIEWERS_REFRESH_MS = 1_000;
/** Most viewers listed under one stream (the count is always shown). */
const MAX_VIEWERS_SHOWN = 500;

/** The path a viewer asks the relay for: the stream's node path with the route prefix put back when it was stripped. */
export function relayPathOf(stream: StreamDto, routes: readonly RouteDto[]): string {
  const route = routes.find((r) => r.id === stream.routeId);
  if (!route?.stripPrefix) return stream.path;
  return route.path + stream.path.replace(/^\//, '');
}

function codecText(s: StreamDto): string {
  const codecs = [s.videoCodec, s.audioCodec].filter(Boolean).join(' + ') || '—';
  const size = s.width && s.height ? ` ${s.width}×${s.height}` : '';
  const fps = s.fps ? ` @ ${s.fps} fps` : '';
  return `${codecs}${size}${fps}`;
}

/** How a viewer reads the stream, as the viewer table shows it. */
function transportText(transport: SessionDto['transport']): string {
  return transport === 'ws' ? 'WebSocket' : 'HTTP';
}

function gopText(s: StreamDto): string {
  if (!s.gopFrames) return '—';
  return `${s.gopFrames} frames · ${(s.gopMs / 1000).toFixed(2)} s`;
}

/** A viewer's connection: address, auth label, agent, transport (HTTP-FLV or WebSocket-FLV), first byte and keyframe, bytes, drops, queue, and the Kick button. */
function viewerColumns(now: number, onKick: (session: SessionDto) => void): Column<SessionDto>[] {
  return [
    { id: 'id', header: 'Session', cell: (v) => v.id },
    { id: 'ip', header: 'IP', cell: (v) => v.clientAddress },
    {
      id: 'label',
      header: 'Label',
      headerTitle: "the viewer's auth label: a static token's, a JWT's or the admission webhook's",
      cell: (v) => (v.label ? <span className="badge">{v.label}</span> : '—'),
    },
    { id: 'ua', header: 'User agent', className: 'ua', title: (v) => v.userAgent, cell: (v) => v.userAgent || '—' },
    { id: 'transport', header: 'Via', headerTitle: 'HTTP-FLV or WebSocket-FLV', cell: (v) => transportText(v.transport) },
    { id: 'ttfb', header: 'TTFB', headerTitle: 'Time to first byte', cell: (v) => formatMs(v.firstByteMs) },
    { id: 'ttfk', header: 'TTFK', headerTitle: 'Time to first keyframe', cell: (v) => formatMs(v.firstKeyframeMs) },
    { id: 'bytes', header: 'Bytes', cell: (v) => formatBytes(v.bytesOut) },
    { id: 'drops', header: 'Drops', className: (v) => (v.framesDropped ? 'warn' : ''), cell: (v) => formatCount(v.framesDropped ?? 0) },
    { id: 'queued', header: 'Queued', cell: (v) => formatBytes(v.queuedBytes ?? 0) },
    { id: 'watching', header: 'Watching', cell: (v) => formatDuration(now - v.startedAt) },
    {
      id: 'kick',
      cell: (v) => (
        <button type="button" className="small danger" onClick={() => onKick(v)} aria-label={`Kick viewer ${v.id}`}>
          Kick
        </button>
      ),
    },
  ];
}

/** An HLS stream's requests, how many the cache answered, bytes each way, errors, and when it was last asked for. */
function hlsColumns(now: number): Column<HlsStreamDto>[] {
  return [
    { id: 'route', header: 'Route', cell: (h) => h.routeId },
    { id: 'stream', header: 'Stream', cell: (h) => <code>{h.streamKey}</code> },
    { id: 'node', header: 'Node', cell: (h) => h.nodeId || '—' },
    { id: 'viewers', header: 'Viewers', cell: (h) => formatCount(h.viewers) },
    {
      id: 'requests',
      header: 'Requests',
      headerTitle: 'playlists / segments',
      cell: (h) => `${formatCount(h.playlistRequests)} / ${formatCount(h.segmentRequests)}`,
    },
    { id: 'hits', header: 'Hit ratio', headerTitle: 'answered from the cache or a fetch in flight', cell: (h) => `${(h.hitRatio * 100).toFixed(0)} %` },
    {
      id: 'saved',
      header: 'Node requests saved',
      headerTitle: 'node requests the cache and coalescing saved',
      cell: (h) => formatCount(h.upstreamRequestsSaved),
    },
    { id: 'bytes', header: 'From node / to viewers', cell: (h) => `${formatBytes(h.bytesIn)} / ${formatBytes(h.bytesOut)}` },
    { id: 'errors', header: 'Errors', className: (h) => (h.errors ? 'warn' : ''), cell: (h) => formatCount(h.errors) },
    { id: 'last', header: 'Last request', cell: (h) => `${formatDuration(now - h.lastRequestAt)} ago` },
  ];
}

/** What the FLV stream columns need besides the stream: the clock, the routes, and the row's buttons. */
interface FlvColumnsContext {
  now: number;
  routes: readonly RouteDto[];
  /** Streams whose viewers are open under their row. */
  open: ReadonlySet<string>;
  toggle: (id: string) => void;
  /** The stream being previewed. */
  preview: string | undefined;
  setPreview: (id: string | undefined) => void;
  close: (stream: StreamDto) => void;
}

/** A fanned-out FLV stream: where it comes from, its viewers, media figures, uptime, pulls, and the row's buttons. */
function flvColumns({ now, routes, open, toggle, preview, setPreview, close }: FlvColumnsContext): Column<StreamDto>[] {
  const idlePull = (s: StreamDto) => s.viewers === 0 && s.upstreamOpen;
  return [
    {
      id: 'open',
      cell: (s) => (
        <button type="button" className="ghost expander" aria-expanded={open.has(s.id)} aria-label={`Viewers of ${s.path}`} onClick={() => toggle(s.id)}>
          {open.has(s.id) ? '▾' : '▸'}
        </button>
      ),
    },
    { id: 'route', header: 'Route', cell: (s) => s.routeId },
    { id: 'path', header: 'Path', cell: (s) => <code>{relayPathOf(s, routes)}</code> },
    { id: 'node', header: 'Node', cell: (s) => s.nodeId || '—' },
    { id: 'state', header: 'State', cell: (s) => <span className={`badge state-${s.state}`}>{s.state}</span> },
    {
      id: 'viewers',
      header: 'Viewers',
      className: (s) => (idlePull(s) ? 'warn' : ''),
      title: (s) => (idlePull(s) ? 'pulling with no viewer: closes after flv.idleCloseMs' : undefined),
      cell: (s) => formatCount(s.viewers),
    },
    { id: 'bitrate', header: 'Bitrate', cell: (s) => formatKbps(s.bitrateKbps) },
    { id: 'codec', header: 'Codec and resolution', cell: codecText },
    { id: 'gop', header: 'GOP', cell: gopText },
    { id: 'uptime', header: 'Uptime', cell: (s) => formatDuration(now - s.startedAt) },
    { id: 'pulls', header: 'Pulls', headerTitle: 'Upstream connections opened / reconnects', cell: (s) => `${s.upstreamOpened} / ${s.reconnects}` },
    {
      id: 'actions',
      header: 'Actions',
      className: 'actions',
      cell: (s) => (
        <>
          <button type="button" className="small" onClick={() => setPreview(preview === s.id ? undefined : s.id)} aria-pressed={preview === s.id}>
            Preview
          </button>
          <button type="button" className="small danger" onClick={() => close(s)}>
            Close
          </button>
        </>
      ),
    },
  ];
}

function ViewerRows({ stream, onKick }: { stream: StreamDto; onKick: (session: SessionDto) => void }) {
  const api = useApi();
  const [viewers, setViewers] = useState<SessionDto[]>();
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    let cancelled = false;
    const load = () =>
      api.listSessions({}).then(
        (all) => !cancelled && setViewers(all.filter((s) => s.streamId === stream.id)),
        (caught: unknown) => !cancelled && setError(asApiError(caught)),
      );
    void load();
    const timer = setInterval(load, VIEWERS_REFRESH_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [api, stream.id]);
  // The clock of the last pushed snapshot: durations move with the live numbers, and render stays pure.
  const { updatedAt: now } = useLive();
  return (
    <div className="viewers">
      <ErrorNotice error={error} />
      {!viewers ? (
        <p>Loading viewers…</p>
      ) : viewers.length === 0 ? (
        <p className="empty">No viewer right now{stream.upstreamOpen ? ': the pull closes after flv.idleCloseMs.' : '.'}</p>
      ) : (
        <DataTable
          label={`Viewers of ${stream.path}`}
          className="compact"
          wrap={false}
          columns={viewerColumns(now, onKick)}
          rows={viewers.slice(0, MAX_VIEWERS_SHOWN)}
          rowKey={(v) => v.id}
        />
      )}
      {viewers && viewers.length > MAX_VIEWERS_SHOWN && <p className="empty">and {formatCount(viewers.length - MAX_VIEWERS_SHOWN)} more</p>}
    </div>
  );
}

function HlsStreams({ streams, cache }: { streams: readonly HlsStreamDto[]; cache: HlsCacheDto | undefined }) {
  // The clock of the last pushed snapshot: durations move with the live numbers, and render stays pure.
  const { updatedAt: now } = useLive();
  return (
    <section className="panel" aria-label="HLS streams">
      <h2>HLS streams</h2>
      {cache && (
        <p className="hint" data-testid="hls-cache">
          Cache: segments {formatBytes(cache.segmentBytes)} of {formatBytes(cache.segmentMaxBytes)} ({formatCount(cache.segmentEntries)} entries), playlists{' '}
          {formatBytes(cache.playlistBytes)}; {formatCount(cache.hits)} hits, {formatCount(cache.shared)} joined a fetch in flight, {formatCount(cache.misses)}{' '}
          misses, {formatCount(cache.evictions)} evicted.
        </p>
      )}
      <DataTable
        label="HLS streams"
        className="compact"
        columns={hlsColumns(now)}
        rows={streams}
        rowKey={(h) => h.id}
        rowData={(h) => ({ hls: h.streamKey })}
        empty="No HLS stream requested recently."
      />
    </section>
  );
}

export function StreamsPage() {
  const api = useApi();
  const { streams, routes, hlsStreams, hlsCache, stats } = useLive();
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const [preview, setPreview] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();

  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  const act = (promise: Promise<unknown>, done: string) => {
    setError(undefined);
    promise.then(() => setNotice(done)).catch((caught: unknown) => setError(asApiError(caught)));
  };
  const kick = (session: SessionDto) => act(api.kickSession({ id: session.id }), `Viewer ${session.id} (${session.clientAddress}) kicked.`);
  const close = (stream: StreamDto) => act(api.closeStream({ id: stream.id }), `Stream ${stream.path} closed with its viewers.`);
  // The clock of the last pushed snapshot: durations move with the live numbers, and render stays pure.
  const { updatedAt: now } = useLive();
  const previewStream = streams.find((s) => s.id === preview);

  return (
    <div className="page">
      <h1>Streams</h1>
      <ErrorNotice error={error} onDismiss={() => setError(undefined)} />
      <InfoNotice text={notice} onDismiss={() => setNotice(undefined)} />
      <h2>HTTP-FLV streams</h2>
      <DataTable
        label="Live streams"
        columns={flvColumns({ now, routes, open, toggle, preview, setPreview, close })}
        rows={streams}
        rowKey={(s) => s.id}
        rowData={(s) => ({ stream: s.id })}
        rowClassName={(s) => (open.has(s.id) ? 'open' : '')}
        detail={(s) => (open.has(s.id) ? <ViewerRows stream={s} onKick={kick} /> : undefined)}
        empty="No live stream. A stream appears here when a viewer asks the relay for an FLV path on a proxy route."
      />
      <HlsStreams streams={hlsStreams} cache={hlsCache} />
      <RouteAdmissionPanel stats={stats} />
      {previewStream && (
        <section className="panel">
          <h2>Preview of {relayPathOf(previewStream, routes)}</h2>
          <Preview key={previewStream.id} path={relayPathOf(previewStream, routes)} />
        </section>
      )}
    </div>
  );
}
