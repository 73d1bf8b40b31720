/**
 * Plays a stream in the app through the relay: HTTP-FLV with mpegts.js, HLS with hls.js
 * (each loaded only when a preview opens). The URL is the relay's viewer address
 * (relay.publicUrl, else the address this page reaches the relay by: live/viewer-base.ts)
 * plus the stream path, so the preview is a real viewer of the relay (it shows up among the
 * stream's viewers). A route in redirect mode is answered with a 302 that carries no CORS
 * headers, which a page cannot follow; its preview plays the node URL the 302 points to,
 * and says so. Players run without workers (the CSP allows no worker scripts).
 */
import { useEffect, useRef, useState } from 'react';
import type { ResolveDto } from '../../../shared/dto.js';
import { formatCount } from '../format.js';
import { useApi } from '../live/LiveContext.js';
import { useViewerBase } from '../live/viewer-base.js';
import { asApiError } from '../transport.js';
import { CopyButton } from './CopyButton.js';

/** How often the playback readout refreshes, ms. */
const READOUT_INTERVAL_MS = 500;

interface Player {
  destroy(): void;
}

async function startFlv(video: HTMLVideoElement, url: string, onError: (text: string) => void): Promise<Player> {
  const mpegts = (await import('mpegts.js')).default;
  if (!mpegts.isSupported()) throw new Error('this browser has no Media Source Extensions');
  const player = mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableWorker: false, enableStashBuffer: false, liveBufferLatencyChasing: true });
  player.on(mpegts.Events.ERROR, (type: string, detail: string) => onError(`${type}: ${detail}`));
  player.attachMediaElement(video);
  player.load();
  void Promise.resolve(player.play()).catch(() => undefined);
  return player;
}

async function startHls(video: HTMLVideoElement, url: string, onError: (text: string) => void): Promise<Player> {
  const Hls = (await import('hls.js')).default;
  if (!Hls.isSupported()) throw new Error('this browser has no Media Source Extensions');
  const hls = new Hls({ enableWorker: false, liveDurationInfinity: true });
  hls.on(Hls.Events.ERROR, (_event, data) => data.fatal && onError(`${data.type}: ${data.details}`));
  hls.loadSource(url);
  hls.attachMedia(video);
  void video.play().catch(() => undefined);
  return hls;
}

export interface PreviewProps {
  /** The relay path, e.g. "/live/cam1.flv". */
  path: string;
}

interface Readout {
  currentTime: number;
  width: number;
  height: number;
  frames: number;
  dropped: number;
}

export function Preview({ path }: PreviewProps) {
  const api = useApi();
  const viewerBase = useViewerBase();
  const video = useRef<HTMLVideoElement>(null);
  const [resolved, setResolved] = useState<ResolveDto>();
  const [playUrl, setPlayUrl] = useState<string>();
  const [error, setError] = useState<string>();
  const [readout, setReadout] = useState<Readout>();

  useEffect(() => {
    let player: Player | undefined;
    let cancelled = false;
    const fail = (text: string) => !cancelled && setError(text);
    (async () => {
      const answer = await api.resolvePath({ body: { path } });
      if (cancelled) return;
      setResolved(answer);
      const url = answer.mode === 'redirect' && answer.url ? answer.url : `${viewerBase}${answer.path}`;
      setPlayUrl(url);
      if (!video.current) return;
      if (answer.kind === 'flv') player = await startFlv(video.current, url, fail);
      else if (answer.kind === 'hls') player = await startHls(video.current, url, fail);
      else throw new Error(`route kind "${answer.kind}" has no preview (flv and hls do)`);
      if (cancelled) player.destroy();
    })().catch((caught: unknown) => fail(asApiError(caught).message));
    return () => {
      cancelled = true;
      player?.destroy();
    };
  }, [api, path, viewerBase]);

  useEffect(() => {
    const timer = setInterval(() => {
      const v = video.current;
      if (!v) return;
      const quality = v.getVideoPlaybackQuality();
      setReadout({
        currentTime: v.currentTime,
        width: v.videoWidth,
        height: v.videoHeight,
        frames: quality.totalVideoFrames,
        dropped: quality.droppedVideoFrames,
      });
    }, READOUT_INTERVAL_MS);
    return () => clearInterval(timer);
  }, []);

  return (
    <div className="preview">
      <video ref={video} muted autoPlay playsInline controls data-testid="preview-video" />
      <div className="preview-facts">
        {playUrl && (
          <p>
            Playing <code>{playUrl}</code>{' '}
            <CopyButton text={resolved?.mode === 'redirect' ? `${viewerBase}${resolved.path}` : playUrl} label="Copy viewer URL" />
          </p>
        )}
        {resolved?.mode === 'redirect' && (
          <p className="notice info">
            Route <b>{resolved.routeId}</b> redirects: a viewer would get a {resolved.status} to node <b>{resolved.nodeId}</b>, so this preview plays from the
            node directly.
          </p>
        )}
        {readout && (
          <p className="readout" data-testid="preview-readout">
            {readout.currentTime > 0 ? '▶ playing' : '… buffering'} · {readout.currentTime.toFixed(1)} s · {readout.width}×{readout.height} ·{' '}
            {formatCount(readout.frames)} frames · {formatCount(readout.dropped)} dropped
          </p>
        )}
        {error && (
          <p className="notice error" role="alert">
            Preview failed: {error}
          </p>
        )}
      </div>
    </div>
  );
}
