/**
 * The placeholder operator page: server info, totals, routes (with a redirect/proxy toggle)
 * and nodes, refreshed every 2 s. The full UI is a later piece of work.
 */
import { useCallback, useEffect, useState } from 'react';
import type { ApiError, RelayDeckApi } from '../../shared/api.js';
import type { RouteMode } from '../../shared/config.js';
import type { RouteDto } from '../../shared/dto.js';
import { NodesPanel, RoutesPanel, ServerPanel, TotalsPanel } from './panels.js';
import { asApiError } from './transport.js';
import { usePolling } from './usePolling.js';

/** How often the page reloads its data, in ms. */
export const REFRESH_INTERVAL_MS = 2_000;

export interface DashboardProps {
  api: RelayDeckApi;
  /** Called when the server refuses the token (browser mode), so the page can ask again. */
  onUnauthorized: () => void;
}

export function Dashboard({ api, onUnauthorized }: DashboardProps) {
  const load = useCallback(async () => {
    const [info, routes, nodes, stats] = await Promise.all([api.getServerInfo({}), api.listRoutes({}), api.listNodes({}), api.getStats({})]);
    return { info, routes, nodes, stats, loadedAt: Date.now() };
  }, [api]);
  const { data, error, refresh } = usePolling(load, REFRESH_INTERVAL_MS);
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
  const [actionError, setActionError] = useState<ApiError>();

  useEffect(() => {
    if (error?.status === 401) onUnauthorized();
  }, [error, onUnauthorized]);

  const setMode = useCallback(
    (route: RouteDto, mode: RouteMode) => {
      setPending((ids) => new Set(ids).add(route.id));
      setActionError(undefined);
      api
        .updateRoute({ id: route.id, body: { mode } })
        .catch((caught: unknown) => setActionError(asApiError(caught)))
        .finally(() => {
          setPending((ids) => {
            const next = new Set(ids);
            next.delete(route.id);
            return next;
          });
          refresh();
        });
    },
    [api, refresh],
  );

  return (
    <main>
      <header>
        <h1>RelayDeck</h1>
        {data && <span className="updated">updated {new Date(data.loadedAt).toLocaleTimeString()}</span>}
      </header>
      {error && <p className="error" role="alert">Cannot load: {error.message} ({error.code})</p>}
      {actionError && <p className="error" role="alert">Change refused: {actionError.message} ({actionError.code})</p>}
      {!data && !error && <p>Loading…</p>}
      {data && (
        <>
          <div className="columns">
            <ServerPanel info={data.info} now={data.loadedAt} />
            <TotalsPanel totals={data.stats.totals} />
          </div>
          <RoutesPanel routes={data.routes} stats={data.stats.routes} pending={pending} onSetMode={setMode} />
          <NodesPanel nodes={data.nodes} />
        </>
      )}
    </main>
  );
}
