/**
 * The HTTPS listener's certificates on the Settings page: each one's names, issuer, expiry
 * and SHA-256 fingerprint (what a viewer compares before trusting a self-signed certificate),
 * errors reading its files, a "reload now" button, and adding or removing a certificate by
 * its PEM files (saved as tls.certificates; applied at once, no restart).
 */
import { useCallback, useEffect, useState } from 'react';
import type { ApiError } from '../../../shared/api.js';
import type { TlsCertificateConfig } from '../../../shared/config.js';
import type { SettingsDto, TlsCertificateDto, TlsStatusDto } from '../../../shared/dto.js';
import { CopyButton } from '../components/CopyButton.js';
import { DataTable, type Column } from '../components/DataTable.js';
import { ErrorNotice } from '../components/Notice.js';
import { useApi } from '../live/LiveContext.js';
import { asApiError } from '../transport.js';
import { AcmeStatus } from './AcmeStatus.js';

const DAY_MS = 86_400_000;

function expiryText(validTo: number, now: number): string {
  const days = Math.floor((validTo - now) / DAY_MS);
  const date = new Date(validTo).toISOString().slice(0, 10);
  return days < 0 ? `${date} (expired)` : `${date} (${days} days)`;
}

function columns(now: number, remove: (c: TlsCertificateDto) => void): Column<TlsCertificateDto>[] {
  return [
    {
      id: 'names',
      header: 'Names',
      cell: (c) => [...c.names, ...c.addresses].join(', ') || c.subject,
      sortKey: (c) => c.names[0] ?? '',
      width: 'minmax(160px, 2fr)',
    },
    {
      id: 'issuer',
      header: 'Issuer',
      cell: (c) => (c.selfSigned ? 'self-signed (RelayDeck)' : c.acme ? `${c.issuer} (ACME)` : c.issuer),
      width: 'minmax(120px, 1.4fr)',
    },
    {
      id: 'expires',
      header: 'Expires',
      cell: (c) => expiryText(c.validTo, now),
      className: (c) => (c.validTo - now < 14 * DAY_MS ? 'warn' : undefined),
      sortKey: (c) => c.validTo,
    },
    {
      id: 'fingerprint',
      header: 'SHA-256 fingerprint',
      cell: (c) => (
        <span className="fingerprint">
          <code>{c.fingerprint256}</code> <CopyButton text={c.fingerprint256} label="Copy" />
        </span>
      ),
      width: 'minmax(220px, 3fr)',
    },
    {
      id: 'files',
      header: 'Files',
      cell: (c) => (
        <>
          <code>{c.certFile}</code>
          {c.default ? ' · default' : ''}
          {c.errors.map((e) => (
            <small key={e} className="field-error" role="alert">
              {e}
            </small>
          ))}
        </>
      ),
      width: 'minmax(160px, 2fr)',
    },
    {
      id: 'actions',
      cell: (c) =>
        c.selfSigned || c.acme ? null : (
          <button type="button" className="small ghost" onClick={() => remove(c)}>
            Remove
          </button>
        ),
    },
  ];
}

/** Add a certificate by its two files. */
function AddCertificate({ onAdd, busy }: { onAdd: (files: TlsCertificateConfig) => void; busy: boolean }) {
  const [certFile, setCertFile] = useState('');
  const [keyFile, setKeyFile] = useState('');
  const ready = certFile.trim() !== '' && keyFile.trim() !== '';
  return (
    <form
      className="form-grid"
      onSubmit={(e) => {
        e.preventDefault();
        if (ready) onAdd({ certFile: certFile.trim(), keyFile: keyFile.trim() });
      }}
    >
      <div className="field">
        <label htmlFor="tls-cert-file">Certificate file (PEM, chain included)</label>
        <input id="tls-cert-file" value={certFile} onChange={(e) => setCertFile(e.target.value)} spellCheck={false} placeholder="/etc/relaydeck/live.pem" />
      </div>
      <div className="field">
        <label htmlFor="tls-key-file">Key file (PEM)</label>
        <input id="tls-key-file" value={keyFile} onChange={(e) => setKeyFile(e.target.value)} spellCheck={false} placeholder="/etc/relaydeck/live-key.pem" />
        <small className="hint">Paths on the relay's machine, absolute or relative to the config folder. Applied at once.</small>
      </div>
      <div className="field">
        <button type="submit" className="small" disabled={!ready || busy}>
          Add certificate
        </button>
      </div>
    </form>
  );
}

export function CertificatesPanel({ settings, onSaved }: { settings: SettingsDto; onSaved: (saved: SettingsDto) => void }) {
  const api = useApi();
  const [status, setStatus] = useState<TlsStatusDto>();
  /** When the status was read: expiry is counted from it. */
  const [readAt, setReadAt] = useState(0);
  const [failure, setFailure] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  const refresh = useCallback(
    () =>
      api.getTls({}).then(
        (read) => {
          setStatus(read);
          setReadAt(Date.now());
        },
        (caught: unknown) => setFailure(asApiError(caught)),
      ),
    [api],
  );
  useEffect(() => void refresh(), [refresh]);

  const run = (work: Promise<unknown>) => {
    setBusy(true);
    setFailure(undefined);
    work
      .then(() => refresh())
      .catch((caught: unknown) => setFailure(asApiError(caught)))
      .finally(() => setBusy(false));
  };
  const saveList = (certificates: TlsCertificateConfig[]) =>
    run(
      api.updateSettings({ body: { tls: { certificates } } }).then((saved) => {
        onSaved(saved);
        return api.reloadTls({});
      }),
    );
  const configured = settings.tls.certificates;
  const remove = (c: TlsCertificateDto) => saveList(configured.filter((f) => f.certFile !== c.certFile || f.keyFile !== c.keyFile));

  return (
    <section className="panel" aria-label="Certificates">
      <div className="page-head">
        <h2>Certificates</h2>
        <button type="button" className="small" onClick={() => run(api.reloadTls({}))} disabled={busy || !status?.enabled}>
          Reload files now
        </button>
      </div>
      <ErrorNotice error={failure} onDismiss={() => setFailure(undefined)} prefix="Certificates" />
      {status?.enabled ? (
        <p className="hint">
          HTTPS listening on <code>{status.url}</code>, TLS {status.minVersion.replace('TLSv', '')} and newer. Files are checked every{' '}
          {settings.tls.reloadCheckMs} ms; a replaced file serves new connections, open ones keep theirs.
        </p>
      ) : (
        <p className="hint">The HTTPS listener is off (turn it on above; it starts after a restart).</p>
      )}
      {status?.enabled && <AcmeStatus acme={status.acme} busy={busy} onRenew={() => run(api.renewTls({}))} />}
      {status && <DataTable label="Certificates" columns={columns(readAt, remove)} rows={status.certificates} rowKey={(c) => c.certFile} />}
      <AddCertificate busy={busy} onAdd={(files) => saveList([...configured, files])} />
    </section>
  );
}
