/**
 * Live streams: one row per fanned-out FLV stream (route, node, viewers, bitrate, codec and
 * resolution, GOP, uptime), and the HLS streams with their cache figures. A row opens to its viewers (from listSessions, refreshed every
 * second while open) with IP, user agent, time to first byte and keyframe, bytes and
 * drops; the operator can kick a viewer, close the stream, or preview it through the relay.
 */
import { Fragment, useEffect, useState } from 'react';
import type { ApiError } from '../../../shared/api.js';
import type { HlsCacheDto, HlsStreamDto, RouteDto, SessionDto, StreamDto } from '../../../shared/dto.js';
import { ErrorNotice, InfoNotice } from '../components/Notice.js';
import { Preview } from '../components/Preview.js';
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

function gopText(s: StreamDto): string {
  if (!s.gopFrames) return '—';
  return `${s.gopFrames} frames · ${(s.gopMs / 1000).toFixed(2)} s`;
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
        <table className="compact" aria-label={`Viewers of ${stream.path}`}>
          <thead>
            <tr>
              <th>Session</th>
              <th>IP</th>
              <th>User agent</th>
              <th title="Time to first byte">TTFB</th>
              <th title="Time to first keyframe">TTFK</th>
              <th>Bytes</th>
              <th>Drops</th>
              <th>Queued</th>
              <th>Watching</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {viewers.slice(0, MAX_VIEWERS_SHOWN).map((v) => (
              <tr key={v.id}>
                <td>{v.id}</td>
                <td>{v.clientAddress}</td>
                <td className="ua" title={v.userAgent}>
                  {v.userAgent || '—'}
                </td>
                <td>{formatMs(v.firstByteMs)}</td>
                <td>{formatMs(v.firstKeyframeMs)}</td>
                <td>{formatBytes(v.bytesOut)}</td>
                <td className={v.framesDropped ? 'warn' : ''}>{formatCount(v.framesDropped ?? 0)}</td>
                <td>{formatBytes(v.queuedBytes ?? 0)}</td>
                <td>{formatDuration(now - v.startedAt)}</td>
                <td>
                  <button type="button" className="small danger" onClick={() => onKick(v)} aria-label={`Kick viewer ${v.id}`}>
                    Kick
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
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
          Cache: segments {formatBytes(cache.segmentBytes)} of {formatBytes(cache.segmentMaxBytes)} ({formatCount(cache.segmentEntries)} entries), playlists {formatBytes(cache.playlistBytes)}; {formatCount(cache.hits)} hits,{' '}
          {formatCount(cache.shared)} joined a fetch in flight, {formatCount(cache.misses)} misses, {formatCount(cache.evictions)} evicted.
        </p>
      )}
      {streams.length === 0 ? (
        <p className="empty">No HLS stream requested recently.</p>
      ) : (
        <div className="table-wrap">
          <table aria-label="HLS streams" className="compact">
            <thead>
              <tr>
                <th>Route</th>
                <th>Stream</th>
                <th>Node</th>
                <th>Viewers</th>
                <th title="playlists / segments">Requests</th>
                <th title="answered from the cache or a fetch in flight">Hit ratio</th>
                <th title="node requests the cache and coalescing saved">Node requests saved</th>
                <th>From node / to viewers</th>
                <th>Errors</th>
                <th>Last request</th>
              </tr>
            </thead>
            <tbody>
              {streams.map((h) => (
                <tr key={h.id} data-hls={h.streamKey}>
                  <td>{h.routeId}</td>
                  <td>
                    <code>{h.streamKey}</code>
                  </td>
                  <td>{h.nodeId || '—'}</td>
                  <td>{formatCount(h.viewers)}</td>
                  <td>
                    {formatCount(h.playlistRequests)} / {formatCount(h.segmentRequests)}
                  </td>
                  <td>{(h.hitRatio * 100).toFixed(0)} %</td>
                  <td>{formatCount(h.upstreamRequestsSaved)}</td>
                  <td>
                    {formatBytes(h.bytesIn)} / {formatBytes(h.bytesOut)}
                  </td>
                  <td className={h.errors ? 'warn' : ''}>{formatCount(h.errors)}</td>
                  <td>{formatDuration(now - h.lastRequestAt)} ago</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function StreamsPage() {
  const api = useApi();
  const { streams, routes, hlsStreams, hlsCache } = useLive();
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
      {streams.length === 0 ? (
        <p className="empty">No live stream. A stream appears here when a viewer asks the relay for an FLV path on a proxy route.</p>
      ) : (
        <div className="table-wrap">
<table aria-label="Live streams">
          <thead>
            <tr>
              <th />
              <th>Route</th>
              <th>Path</th>
              <th>Node</th>
              <th>State</th>
              <th>Viewers</th>
              <th>Bitrate</th>
              <th>Codec and resolution</th>
              <th>GOP</th>
              <th>Uptime</th>
              <th title="Upstream connections opened / reconnects">Pulls</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {streams.map((s) => (
              <Fragment key={s.id}>
                <tr className={open.has(s.id) ? 'open' : ''} data-stream={s.id}>
                  <td>
                    <button type="button" className="ghost expander" aria-expanded={open.has(s.id)} aria-label={`Viewers of ${s.path}`} onClick={() => toggle(s.id)}>
                      {open.has(s.id) ? '▾' : '▸'}
                    </button>
                  </td>
                  <td>{s.routeId}</td>
                  <td>
                    <code>{relayPathOf(s, routes)}</code>
                  </td>
                  <td>{s.nodeId || '—'}</td>
                  <td>
                    <span className={`badge state-${s.state}`}>{s.state}</span>
                  </td>
                  <td className={s.viewers === 0 && s.upstreamOpen ? 'warn' : ''} title={s.viewers === 0 && s.upstreamOpen ? 'pulling with no viewer: closes after flv.idleCloseMs' : undefined}>
                    {formatCount(s.viewers)}
                  </td>
                  <td>{formatKbps(s.bitrateKbps)}</td>
                  <td>{codecText(s)}</td>
                  <td>{gopText(s)}</td>
                  <td>{formatDuration(now - s.startedAt)}</td>
                  <td>
                    {s.upstreamOpened} / {s.reconnects}
                  </td>
                  <td className="actions">
                    <button type="button" className="small" onClick={() => setPreview(preview === s.id ? undefined : s.id)} aria-pressed={preview === s.id}>
                      Preview
                    </button>
                    <button type="button" className="small danger" onClick={() => close(s)}>
                      Close
                    </button>
                  </td>
                </tr>
                {open.has(s.id) && (
                  <tr className="detail">
                    <td colSpan={12}>
                      <ViewerRows stream={s} onKick={kick} />
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
</div>
      )}
      <HlsStreams streams={hlsStreams} cache={hlsCache} />
      {previewStream && (
        <section className="panel">
          <h2>Preview of {relayPathOf(previewStream, routes)}</h2>
          <Preview key={previewStream.id} path={relayPathOf(previewStream, routes)} />
        </section>
      )}
    </div>
  );
}
