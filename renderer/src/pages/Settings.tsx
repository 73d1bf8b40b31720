/**
 * Settings: listen ports and bind addresses (loopback or LAN, with a warning for LAN;
 * these apply after a restart, and the page says so), the HTTPS listener with its HTTP/2
 * and automatic-certificate (ACME) settings, the admin token (shown on demand,
 * copied with one click), relay and fan-out defaults, the per-address connection limit and the
 * bounds the admission webhooks share, the HLS cache and playlist settings
 * (each with its default from the schema), and the app's own settings. Values are checked
 * field by field with the shared schema before they are sent (settings-values.ts); the
 * engine checks the whole config again.
 */
import { useEffect, useRef, useState } from 'react';
import type { ApiError } from '../../../shared/api.js';
import type { SettingsDto } from '../../../shared/dto.js';
import { ErrorNotice, InfoNotice } from '../components/Notice.js';
import { hasErrors, type FieldErrors } from '../forms/validate.js';
import { useApi, useLiveContext } from '../live/LiveContext.js';
import { asApiError } from '../transport.js';
import {
  ACME_FIELDS,
  ADDRESS_LIMIT_FIELDS,
  APP_FIELDS,
  FLV_FIELDS,
  HLS_FIELDS,
  HTTP2_FIELDS,
  LISTEN_FIELDS,
  RELAY_FIELDS,
  TLS_FIELDS,
  WEBHOOK_FIELDS,
  type SettingField,
} from './settings-fields.js';
import { CertificatesPanel } from './CertificatesPanel.js';
import { SettingInput } from './SettingInput.js';
import { buildPatch, fieldErrorOfApi, keyOf, valuesOf, type Values } from './settings-values.js';

const LOOPBACK = '127.0.0.1';
const ALL_INTERFACES = '0.0.0.0';

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function HostChoice({ label, value, onChange, error }: { label: string; value: string; onChange: (v: string) => void; error?: string }) {
  const mode = value === LOOPBACK ? 'loopback' : value === ALL_INTERFACES ? 'lan' : 'custom';
  return (
    <div className={`field ${error ? 'invalid' : ''}`}>
      <span className="label">{label}</span>
      <div className="radio-row" role="radiogroup" aria-label={label}>
        <label>
          <input type="radio" checked={mode === 'loopback'} onChange={() => onChange(LOOPBACK)} /> This computer only (127.0.0.1)
        </label>
        <label>
          <input type="radio" checked={mode === 'lan'} onChange={() => onChange(ALL_INTERFACES)} /> LAN: all interfaces (0.0.0.0)
        </label>
        <label>
          <input type="radio" checked={mode === 'custom'} onChange={() => onChange(mode === 'custom' ? value : '')} /> Address:
          <input
            aria-label={`${label}: address`}
            value={mode === 'custom' ? value : ''}
            onChange={(e) => onChange(e.target.value)}
            disabled={mode !== 'custom'}
            spellCheck={false}
          />
        </label>
      </div>
      {!isLoopback(value) && value !== '' && (
        <small className="field-warning" role="note">
          Reachable from other machines on your network. Anyone who can reach this address can use it; keep the admin token secret and firewall the ports you do
          not mean to share.
        </small>
      )}
      {error && (
        <small className="field-error" role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

function TokenBox({ token }: { token: string }) {
  const [shown, setShown] = useState(false);
  const [copied, setCopied] = useState<string>();
  const input = useRef<HTMLInputElement>(null);
  const copy = () => {
    const fallback = () => {
      // The async clipboard can be refused (permissions); a selected field still copies.
      setShown(true);
      requestAnimationFrame(() => {
        input.current?.select();
        setCopied(document.execCommand('copy') ? 'Copied.' : 'Selected: press Ctrl+C to copy.');
      });
    };
    if (navigator.clipboard) navigator.clipboard.writeText(token).then(() => setCopied('Copied.'), fallback);
    else fallback();
  };
  return (
    <div className="field">
      <label htmlFor="admin-token">Admin token (the browser UI and the API ask for it)</label>
      <div className="with-reset">
        <input id="admin-token" ref={input} readOnly type={shown ? 'text' : 'password'} value={token} spellCheck={false} />
        <button type="button" className="small" onClick={() => setShown(!shown)}>
          {shown ? 'Hide' : 'Show'}
        </button>
        <button type="button" className="small" onClick={copy}>
          Copy
        </button>
      </div>
      <small className="hint">{copied ?? 'Kept in the config file (admin.token, file mode 0600). It never goes into a URL.'}</small>
    </div>
  );
}

export function SettingsPage() {
  const api = useApi();
  const { traffic, transport, live } = useLiveContext();
  const [settings, setSettings] = useState<SettingsDto>();
  const [values, setValues] = useState<Values>({});
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<ApiError>();
  const [notice, setNotice] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.getSettings({}).then(
      (loaded) => {
        setSettings(loaded);
        setValues(valuesOf(loaded));
      },
      (caught: unknown) => setFailure(asApiError(caught)),
    );
  }, [api]);

  if (!settings) return <div className="page">{failure ? <ErrorNotice error={failure} /> : <p>Loading settings…</p>}</div>;
  const setValue = (key: string, value: string | boolean) => setValues((v) => ({ ...v, [key]: value }));

  const save = () => {
    const { patch, errors: found } = buildPatch(values, settings);
    setErrors(found);
    setFailure(undefined);
    setNotice(undefined);
    if (hasErrors(found)) return;
    if (Object.keys(patch).length === 0) {
      setNotice('Nothing changed.');
      return;
    }
    setBusy(true);
    api
      .updateSettings({ body: patch })
      .then((saved) => {
        setSettings(saved);
        setValues(valuesOf(saved));
        traffic.resize(saved.app.trafficLogEntries);
        const info = live.getState().info;
        if (info) live.load({ info: { ...info, publicUrl: saved.relay.publicUrl || null } });
        setNotice(
          saved.restartNeeded
            ? 'Saved. Ports, bind addresses and the settings marked "applies after a restart" apply after RelayDeck restarts; everything else applies now.'
            : 'Saved: applies from the next request.',
        );
      })
      .catch((caught: unknown) => {
        const error = asApiError(caught);
        const named = fieldErrorOfApi(error.message);
        if (named) setErrors(named);
        else setFailure(error);
      })
      .finally(() => setBusy(false));
  };

  const fieldsOf = (list: SettingField[]) =>
    list.map((f) => <SettingInput key={keyOf(f)} field={f} values={values} setValue={setValue} error={errors[keyOf(f)]} />);
  return (
    <div className="page">
      <div className="page-head">
        <h1>Settings</h1>
        <button type="button" className="primary" onClick={save} disabled={busy}>
          Save settings
        </button>
      </div>
      <ErrorNotice error={failure} onDismiss={() => setFailure(undefined)} prefix="Not saved" />
      <InfoNotice text={notice} onDismiss={() => setNotice(undefined)} />
      {settings.restartNeeded && <p className="notice warn">Saved listen settings differ from the running ones: restart RelayDeck to apply them.</p>}
      <section className="panel">
        <h2>Listening</h2>
        <p className="hint">
          Now: relay <code>{settings.listening.relayUrl}</code>, admin <code>{settings.listening.adminUrl}</code>. Port and address changes apply after a
          restart; 0 picks a free port.
        </p>
        <div className="form-grid">
          <HostChoice
            label="Relay bind address"
            value={String(values['relay.host'])}
            onChange={(v) => setValue('relay.host', v)}
            error={errors['relay.host']}
          />
          <div>
            <HostChoice
              label="Admin bind address"
              value={String(values['admin.host'])}
              onChange={(v) => setValue('admin.host', v)}
              error={errors['admin.host']}
            />
            {!isLoopback(String(values['admin.host'])) && (
              <div className="field check">
                <label>
                  <input type="checkbox" checked={values['admin.allowRemote'] === true} onChange={(e) => setValue('admin.allowRemote', e.target.checked)} />{' '}
                  Allow the admin API off this computer (admin.allowRemote)
                </label>
                <small className="hint">Required for a non-loopback admin address: the token is then all that protects the relay's controls.</small>
              </div>
            )}
          </div>
          {fieldsOf(LISTEN_FIELDS)}
        </div>
      </section>
      <section className="panel">
        <h2>HTTPS</h2>
        <p className="hint">
          Viewers over TLS on the relay's bind address, with the same routes, auth and limits as the plain port. Turning it on or moving it applies after a
          restart.
        </p>
        <div className="form-grid">{fieldsOf(TLS_FIELDS)}</div>
      </section>
      <section className="panel">
        <h2>HTTP/2</h2>
        <p className="hint">
          On the HTTPS port, chosen by ALPN. Turning it on or off and the per-connection stream and memory limits apply after a restart; the connection guards
          apply to new connections.
        </p>
        <div className="form-grid">{fieldsOf(HTTP2_FIELDS)}</div>
      </section>
      <section className="panel">
        <h2>Automatic certificates (ACME)</h2>
        <p className="hint">
          A certificate from an ACME authority such as Let's Encrypt, renewed before it ends; the authority checks each domain by the challenge chosen below.
          Applies at once: a change of domains or authority orders a new certificate, the one in use serves until it arrives.
        </p>
        <div className="form-grid">{fieldsOf(ACME_FIELDS)}</div>
      </section>
      <CertificatesPanel
        settings={settings}
        onSaved={(saved) => {
          setSettings(saved);
          setValues(valuesOf(saved));
        }}
      />
      <section className="panel">
        <h2>Admin token</h2>
        <TokenBox token={settings.admin.token ?? ''} />
      </section>
      <section className="panel">
        <h2>Relay defaults</h2>
        <div className="form-grid">{fieldsOf(RELAY_FIELDS)}</div>
      </section>
      <section className="panel">
        <h2>Viewer admission</h2>
        <p className="hint">
          Connections per client address on the plain and HTTPS ports together, and the bounds every route's admission webhook shares (each route's webhook and
          viewer caps are on its form, Routes page). Applies live, from the next connection and webhook call.
        </p>
        <div className="form-grid">
          {fieldsOf(ADDRESS_LIMIT_FIELDS)}
          {fieldsOf(WEBHOOK_FIELDS)}
        </div>
      </section>
      <section className="panel">
        <h2>FLV fan-out defaults</h2>
        <div className="form-grid">{fieldsOf(FLV_FIELDS)}</div>
      </section>
      <section className="panel">
        <h2>HLS cache and playlists</h2>
        <p className="hint">
          Applies live: cache bounds at once, times to live and size limits to objects fetched from then on, the rest from the next request.
        </p>
        <div className="form-grid">{fieldsOf(HLS_FIELDS)}</div>
      </section>
      <section className="panel">
        <h2>App</h2>
        <div className="form-grid">{fieldsOf(APP_FIELDS.filter((f) => transport === 'ipc' || f.key !== 'closeToTray'))}</div>
      </section>
    </div>
  );
}
