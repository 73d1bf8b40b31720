/**
 * Automatic certificates (tls.acme) in the Certificates panel: the state of the ACME
 * certificate (issuer, expiry, last renewal, next attempt, last error) and a "Renew now"
 * button. A failed order shows its error here while the certificate in use keeps serving.
 */
import type { TlsAcmeStatusDto } from '../../../shared/dto.js';

const STATUS_TEXT: Record<TlsAcmeStatusDto['status'], string> = {
  off: 'off',
  requesting: 'ordering a certificate…',
  valid: 'certificate in use, renewal planned',
  retrying: 'last order failed, retrying',
};

function when(ms: number): string {
  return ms > 0 ? new Date(ms).toLocaleString() : '—';
}

export function AcmeStatus({ acme, busy, onRenew }: { acme: TlsAcmeStatusDto; busy: boolean; onRenew: () => void }) {
  if (!acme.enabled) {
    return (
      <p className="hint">
        Automatic certificates (ACME) are off: turn them on under Automatic certificates (ACME) above (domains, terms of service) to get one from Let's Encrypt.
      </p>
    );
  }
  return (
    <section aria-label="Automatic certificate (ACME)">
      <div className="page-head">
        <h3>Automatic certificate (ACME)</h3>
        <button type="button" className="small" onClick={onRenew} disabled={busy || acme.status === 'requesting'}>
          Renew now
        </button>
      </div>
      <dl className="facts">
        <dt>State</dt>
        <dd className={acme.status === 'retrying' ? 'warn' : undefined}>{STATUS_TEXT[acme.status]}</dd>
        <dt>Domains</dt>
        <dd>{acme.domains.join(', ')}</dd>
        <dt>Authority</dt>
        <dd>
          <code>{acme.directoryUrl}</code>
        </dd>
        <dt>Issuer</dt>
        <dd>{acme.issuer || '—'}</dd>
        <dt>Expires</dt>
        <dd>{when(acme.validTo)}</dd>
        <dt>Last renewal</dt>
        <dd>{when(acme.lastRenewalAt)}</dd>
        <dt>Next attempt</dt>
        <dd>{when(acme.nextAttemptAt)}</dd>
        {acme.lastError && (
          <>
            <dt>Last error</dt>
            <dd className="field-error" role="alert">
              {acme.lastError} ({acme.failures} in a row; the certificate in use stays)
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}
