/**
 * "Sign a viewer URL": the admin API's signUrl for a route with signing keys, an expiry
 * and an optional prefix (one signature for an HLS playlist and its segments). The URL is
 * shown on the relay's viewer address (relay.publicUrl, else the address this page reaches
 * the relay by: live/viewer-base.ts), with a copy button.
 */
import { useState, type FormEvent } from 'react';
import type { ApiError } from '../../../shared/api.js';
import type { RouteDto, SignedUrlDto } from '../../../shared/dto.js';
import { useApi } from '../live/LiveContext.js';
import { useViewerBase } from '../live/viewer-base.js';
import { asApiError } from '../transport.js';
import { CopyButton } from './CopyButton.js';

export function SignBox({ routes }: { routes: RouteDto[] }) {
  const api = useApi();
  const viewerBase = useViewerBase();
  const signable = routes.filter((r) => (r.auth?.keys?.length ?? 0) > 0);
  const [routeId, setRouteId] = useState('');
  const [path, setPath] = useState('');
  const [ttl, setTtl] = useState('1h');
  const [prefix, setPrefix] = useState('');
  const [signed, setSigned] = useState<SignedUrlDto>();
  const [error, setError] = useState<ApiError>();
  if (signable.length === 0) return null;
  const chosen = routeId || signable[0].id;
  const sign = (event: FormEvent) => {
    event.preventDefault();
    setError(undefined);
    api
      .signUrl({ body: { routeId: chosen, path, ttl, ...(prefix.trim() ? { prefix: prefix.trim() } : {}) } })
      .then(setSigned)
      .catch((caught: unknown) => {
        setSigned(undefined);
        setError(asApiError(caught));
      });
  };
  return (
    <section className="panel resolve" aria-label="Sign a viewer URL">
      <h2>Sign a viewer URL</h2>
      <form className="inline-form" onSubmit={sign}>
        <select aria-label="Route to sign for" value={chosen} onChange={(e) => setRouteId(e.target.value)}>
          {signable.map((r) => (
            <option key={r.id} value={r.id}>
              {r.id} ({r.path})
            </option>
          ))}
        </select>
        <input aria-label="Path to sign" placeholder="/live/cam1.flv" value={path} onChange={(e) => setPath(e.target.value)} spellCheck={false} />
        <input aria-label="Valid for" placeholder="1h" value={ttl} onChange={(e) => setTtl(e.target.value)} size={6} />
        <input
          aria-label="Signed prefix (optional)"
          placeholder="prefix, e.g. /hls/cam1/"
          value={prefix}
          onChange={(e) => setPrefix(e.target.value)}
          spellCheck={false}
        />
        <button type="submit" className="primary" disabled={!path.trim()}>
          Sign
        </button>
      </form>
      {error && (
        <div className="resolve-answer bad" role="status" data-testid="sign-answer">
          <span className="badge bad">{error.status || 'error'}</span> {error.message}
        </div>
      )}
      {signed && (
        <div className="resolve-answer good" role="status" data-testid="sign-answer">
          <code>{viewerBase + signed.pathAndQuery}</code> <CopyButton text={viewerBase + signed.pathAndQuery} label="Copy URL" />
          <p className="hint">
            valid until {new Date(signed.expiresAt * 1000).toLocaleString()} · key {signed.keyId}
          </p>
        </div>
      )}
    </section>
  );
}
