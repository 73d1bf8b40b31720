/**
 * The relay's address as viewers use it, for the UI's copy buttons and preview:
 * relay.publicUrl when set, else the relay's listening address with a wildcard bind
 * (0.0.0.0, ::) replaced by the host this page was loaded from (browser) or 127.0.0.1
 * (desktop app). Never 0.0.0.0 (shared/viewer-url.ts).
 */
import { LOOPBACK_VIEWER_HOST, viewerBaseUrl } from '../../../shared/viewer-url.js';
import { useLive, useLiveContext } from './LiveContext.js';

export function useViewerBase(): string {
  const { transport } = useLiveContext();
  const { info } = useLive();
  return viewerBaseUrl(info?.publicUrl, info?.relayUrl ?? '', transport === 'http' ? window.location.hostname : LOOPBACK_VIEWER_HOST);
}
