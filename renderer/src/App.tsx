/**
 * Chooses the transport: the preload's IPC bridge in the desktop app, else the admin HTTP
 * API on this origin after asking for the token once.
 */
import { useCallback, useMemo, useState } from 'react';
import type { RelayDeckApi } from '../../shared/api.js';
import { Dashboard } from './Dashboard.js';
import { TokenForm } from './TokenForm.js';
import { bridgeApi, forgetToken, httpApi, isOrphanPage, storedToken, storeToken } from './transport.js';

export function App() {
  const bridge = useMemo(() => bridgeApi(), []);
  const [token, setToken] = useState(storedToken);
  const [notice, setNotice] = useState<string>();

  const api: RelayDeckApi | undefined = useMemo(() => bridge ?? (token ? httpApi(token) : undefined), [bridge, token]);

  const acceptToken = useCallback((next: string) => {
    storeToken(next);
    setNotice(undefined);
    setToken(next);
  }, []);

  const onUnauthorized = useCallback(() => {
    forgetToken();
    setToken(undefined);
    setNotice('The server refused that token. Check admin.token in the config file.');
  }, []);

  if (isOrphanPage()) {
    return (
      <main>
        <p className="error" role="alert">
          This page needs the RelayDeck app (its preload is missing). Open the admin URL in a browser instead.
        </p>
      </main>
    );
  }
  if (!api) return <TokenForm notice={notice} onSubmit={acceptToken} />;
  return <Dashboard key={bridge ? 'ipc' : token} api={api} onUnauthorized={onUnauthorized} />;
}
