/**
 * Shown while the built-in demo node is installed: what it is, a preview of its FLV and
 * HLS streams through the relay, and "Remove demo" (one click, all transports).
 */
import { useState } from 'react';
import type { ApiError } from '../../../shared/api.js';
import type { DemoStateDto } from '../../../shared/dto.js';
import { useApi, useLiveContext } from '../live/LiveContext.js';
import { asApiError } from '../transport.js';
import { ErrorNotice } from './Notice.js';
import { Preview } from './Preview.js';

export interface DemoBannerProps {
  demo: DemoStateDto;
  /** The path being previewed, if any. */
  preview: string | undefined;
  onPreview: (path: string | undefined) => void;
}

export function DemoBanner({ demo, preview, onPreview }: DemoBannerProps) {
  const api = useApi();
  const { live } = useLiveContext();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const remove = () => {
    setBusy(true);
    api
      .removeDemo({})
      .then((state) => {
        onPreview(undefined);
        live.setRelay(state);
      })
      .catch((caught: unknown) => setError(asApiError(caught)))
      .finally(() => setBusy(false));
  };
  const toggle = (path: string) => onPreview(preview === path ? undefined : path);
  return (
    <section className="demo-banner" aria-label="Demo node">
      <div className="demo-text">
        <strong>Demo node running.</strong> A built-in looping test stream is served as HTTP-FLV at <code>{demo.flvPath}</code> and as HLS at{' '}
        <code>{demo.hlsPath}</code>, through routes {demo.routeIds.join(' and ')} (node <code>{demo.nodeUrl}</code>). Try it, switch its route to redirect, then
        remove it when you add your own nodes.
      </div>
      <div className="demo-actions">
        <button type="button" onClick={() => toggle(demo.flvPath)} aria-pressed={preview === demo.flvPath}>
          Preview FLV
        </button>
        <button type="button" onClick={() => toggle(demo.hlsPath)} aria-pressed={preview === demo.hlsPath}>
          Preview HLS
        </button>
        <button type="button" className="danger" disabled={busy} onClick={remove}>
          Remove demo
        </button>
      </div>
      <ErrorNotice error={error} onDismiss={() => setError(undefined)} prefix="Cannot remove the demo" />
      {preview && <Preview key={preview} path={preview} />}
    </section>
  );
}
