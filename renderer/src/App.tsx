/**
 * Chooses the transport: the preload's IPC bridge in the desktop app (calls and events,
 * no token), else the admin HTTP API and its event stream on this origin, after asking
 * for the token once (kept in sessionStorage, never in the URL).
 */
import { useCallback, useMemo, useState } from 'react';
import type { ApiError, RelayDeckClient } from '../../shared/api.js';
import type { EventStreamStatus } from '../../shared/event-stream-client.js';
import { LiveProvider } from './live/LiveContext.js';
import { Shell } from './Shell.js';
import { TokenForm } from './TokenForm.js';
import { bridgeApi, forgetToken, httpApi, isOrphanPage, storedToken, storeToken } from './transport.js';

export function App() {
  const bridge = useMemo(() => bridgeApi(), []);
  const [token, setToken] = useState(storedToken);
  const [notice, setNotice] = useState<string>();
  const [eventStatus, setEventStatus] = useState<EventStreamStatus>();
  const [loadError, setLoadError] = useState<ApiError>();

  const onUnauthorized = useCallback(() => {
    forgetToken();
    setToken(undefined);
    setNotice('The server refused that token. Check admin.token in the config file.');
  }, []);

  const onEventStatus = useCallback(
    (status: EventStreamStatus) => {
      setEventStatus(status);
      if (status.state === 'unauthorized') onUnauthorized();
    },
    [onUnauthorized],
  );

  const api: RelayDeckClient | undefined = useMemo(() => bridge ?? (token ? httpApi(token, onEventStatus) : undefined), [bridge, token, onEventStatus]);

  const acceptToken = useCallback((next: string) => {
    storeToken(next);
    setNotice(undefined);
    setLoadError(undefined);
    setToken(next);
  }, []);

  const onLoadError = useCallback(
    (error: ApiError) => {
      if (error.status === 401) onUnauthorized();
      else if (error.status === 429) {
        forgetToken();
        setToken(undefined);
        setNotice(`${error.message} (too many refused tokens from this address).`);
      } else setLoadError(error);
    },
    [onUnauthorized],
  );

  if (isOrphanPage()) {
    return (
      <main className="standalone">
        <p className="notice error" role="alert">
          This page needs the RelayDeck app (its preload is missing). Open the admin URL in a browser instead.
        </p>
      </main>
    );
  }
  if (!api) return <TokenForm notice={notice} onSubmit={acceptToken} />;
  if (loadError) {
    return (
      <main className="standalone">
        <p className="notice error" role="alert">
          Cannot reach the engine: {loadError.message} <code>{loadError.code}</code>
        </p>
        <button type="button" onClick={() => setLoadError(undefined)}>
          Try again
        </button>
      </main>
    );
  }
  return (
    <LiveProvider key={bridge ? 'ipc' : token} api={api} transport={bridge ? 'ipc' : 'http'} onLoadError={onLoadError}>
      <Shell eventStatus={bridge ? undefined : eventStatus} />
    </LiveProvider>
  );
}
