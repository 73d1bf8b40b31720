/**
 * Routes: every route with a redirect/proxy switch that applies from the next request,
 * its counters, and add / edit / remove with validated forms; above them, the
 * "where would this URL go?" check (resolvePath), answered as the relay would answer.
 * The engine's warnings about a saved or checked route (shared/route-nodes.ts) are shown
 * with it. Viewers leaving (CLIENT_CLOSED) and kicks are not counted as errors.
 */
import { useState, type FormEvent } from 'react';
import type { ApiError } from '../../../shared/api.js';
import type { RouteMode } from '../../../shared/config.js';
import type { ResolveDto, RouteDto, RouteSavedDto, StatsDto } from '../../../shared/dto.js';
import { DataTable, type Column } from '../components/DataTable.js';
import { EditDialogs, editColumn, useListEditing } from '../components/EditDialogs.js';
import { ErrorNotice, InfoNotice } from '../components/Notice.js';
import { Switch } from '../components/Switch.js';
import { RouteForm } from '../forms/RouteForm.js';
import { SignBox } from '../components/SignBox.js';
import { formatBytes, formatCount, formatErrorCounts, formatMs, splitErrorCounts } from '../format.js';
import { useApi, useLive, useLiveContext } from '../live/LiveContext.js';
import { asApiError } from '../transport.js';

/** Warnings in a notice; nothing when there are none. */
function Warnings({ warnings, testId }: { warnings: readonly string[] | undefined; testId: string }) {
  if (!warnings?.length) return null;
  return (
    <div className="notice warn" role="note" data-testid={testId}>
      {warnings.map((w) => (
        <p key={w}>{w}</p>
      ))}
    </div>
  );
}

/** A saved route without its warnings (they are not a route field) and the warnings. */
function splitSaved(saved: RouteSavedDto): { route: RouteDto; warnings: string[] } {
  const { warnings, ...route } = saved;
  return { route, warnings };
}

/** The relay's answer to a path: where it goes, or the error a viewer would get. */
type Verdict = { ok: true; answer: ResolveDto } | { ok: false; error: ApiError };

function ResolveBox() {
  const api = useApi();
  const [path, setPath] = useState('');
  const [verdict, setVerdict] = useState<Verdict>();
  const check = (event: FormEvent) => {
    event.preventDefault();
    api
      .resolvePath({ body: { path } })
      .then((answer) => setVerdict({ ok: true, answer }))
      .catch((caught: unknown) => setVerdict({ ok: false, error: asApiError(caught) }));
  };
  const answer = verdict?.ok ? verdict.answer : undefined;
  return (
    <section className="panel resolve" aria-label="Where would this URL go?">
      <h2>Where would this URL go?</h2>
      <form className="inline-form" onSubmit={check}>
        <input
          aria-label="Path or URL to check"
          placeholder="/live/cam1.flv or http://relay:8090/live/cam1.flv?token=…"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          spellCheck={false}
        />
        <button type="submit" className="primary" disabled={!path.trim()}>
          Check
        </button>
      </form>
      {verdict && !verdict.ok && (
        <div className="resolve-answer bad" role="status" data-testid="resolve-answer">
          <div className="resolve-status">
            <span className="badge bad">{verdict.error.status || 'error'}</span> {verdict.error.code}
          </div>
          <p>{verdict.error.message}</p>
        </div>
      )}
      {answer && (
        <div className="resolve-answer good" role="status" data-testid="resolve-answer">
          <div className="resolve-status">
            <span className="badge good">{answer.status}</span> {answer.mode === 'redirect' ? 'redirected' : 'proxied'}
          </div>
          <dl className="facts">
            <dt>Path</dt>
            <dd>
              <code>{answer.path}</code>
            </dd>
            <dt>Route</dt>
            <dd>
              {answer.routeId} ({answer.kind}, {answer.mode})
            </dd>
            <dt>Node</dt>
            <dd>
              {answer.nodeId}
              {answer.fallbackNodeIds.length > 0 && <span className="hint"> · then {answer.fallbackNodeIds.join(', ')}</span>}
            </dd>
            <dt>Upstream URL</dt>
            <dd>
              <code>{answer.url}</code>
            </dd>
            <dt>Found by</dt>
            <dd>
              {answer.locator} (stream key <code>{answer.streamKey}</code>
              {answer.cacheAgeMs !== null ? `, cached ${formatMs(answer.cacheAgeMs)} ago` : ''})
            </dd>
            <dt>Why</dt>
            <dd>{answer.reason}</dd>
          </dl>
          <Warnings warnings={answer.warnings} testId="resolve-warnings" />
        </div>
      )}
    </section>
  );
}

/** What the route columns show besides the route: its counters, and the mode switch. */
interface RouteColumnsContext {
  stats: StatsDto | undefined;
  demoInstalled: boolean;
  /** Routes whose mode change is on its way (their switch waits). */
  pending: ReadonlySet<string>;
  setMode: (route: RouteDto, mode: RouteMode) => void;
}

/** Every column but the edit buttons. Viewers leaving and kicks are not errors: they are only in the errors' tooltip. */
function routeColumns({ stats, demoInstalled, pending, setMode }: RouteColumnsContext): Column<RouteDto>[] {
  const counters = (route: RouteDto) => stats?.routes[route.id];
  return [
    { id: 'id', header: 'Id', cell: (route) => route.id },
    { id: 'path', header: 'Path prefix', cell: (route) => <code>{route.path}</code> },
    { id: 'kind', header: 'Kind', cell: (route) => route.kind },
    { id: 'nodes', header: 'Nodes', cell: (route) => route.nodes?.join(', ') ?? (demoInstalled ? 'all but demo' : 'all') },
    {
      id: 'mode',
      header: 'Mode',
      cell: (route) => (
        <Switch
          checked={route.mode === 'proxy'}
          onChange={(on) => setMode(route, on ? 'proxy' : 'redirect')}
          label={`Proxy mode for route ${route.id}`}
          offText="redirect"
          onText="proxy"
          disabled={pending.has(route.id)}
        />
      ),
    },
    { id: 'requests', header: 'Requests', cell: (route) => formatCount(counters(route)?.requests ?? 0) },
    {
      id: 'split',
      header: 'Redirect / proxy',
      headerTitle: 'requests redirected / requests proxied',
      cell: (route) => `${formatCount(counters(route)?.redirects ?? 0)} / ${formatCount(counters(route)?.proxied ?? 0)}`,
    },
    { id: 'active', header: 'Active', cell: (route) => formatCount(counters(route)?.active ?? 0) },
    { id: 'bytes', header: 'To viewers', cell: (route) => formatBytes(counters(route)?.bytesOut ?? 0) },
    {
      id: 'errors',
      header: 'Errors',
      className: 'errors',
      title: (route) => `${formatCount(splitErrorCounts(counters(route)?.errors ?? {}).viewerExits)} viewer(s) left or were kicked (not errors)`,
      cell: (route) => formatErrorCounts(splitErrorCounts(counters(route)?.errors ?? {}).failures),
    },
  ];
}

export function RoutesPage() {
  const api = useApi();
  const { live } = useLiveContext();
  const { routes, nodes, stats, relay } = useLive();
  const [pending, setPending] = useState<ReadonlySet<string>>(new Set());
  const [warnings, setWarnings] = useState<string[]>([]);
  const { editing, setEditing, error, setError, notice, setNotice, replaceInList, remove } = useListEditing(
    'route',
    routes,
    (list) => live.setRoutes(list),
    (id) => api.deleteRoute({ id }),
  );

  const setMode = (route: RouteDto, mode: RouteMode) => {
    setPending((ids) => new Set(ids).add(route.id));
    setError(undefined);
    api
      .updateRoute({ id: route.id, body: { mode } })
      .then((saved) => {
        const { route: changed, warnings: said } = splitSaved(saved);
        replaceInList(changed);
        setWarnings(said);
        setNotice(`Route ${route.id} now ${mode === 'redirect' ? `redirects (${changed.status})` : 'proxies'}, from the next request on.`);
      })
      .catch((caught: unknown) => setError(asApiError(caught)))
      .finally(() =>
        setPending((ids) => {
          const next = new Set(ids);
          next.delete(route.id);
          return next;
        }),
      );
  };

  const columns: Column<RouteDto>[] = [...routeColumns({ stats, demoInstalled: Boolean(relay?.demo), pending, setMode }), editColumn(setEditing)];

  return (
    <div className="page">
      <div className="page-head">
        <h1>Routes</h1>
        <button type="button" className="primary" onClick={() => setEditing({ kind: 'add' })}>
          Add route
        </button>
      </div>
      <ResolveBox />
      <SignBox routes={routes} />
      <ErrorNotice error={error} onDismiss={() => setError(undefined)} prefix="Change refused" />
      <InfoNotice text={notice} onDismiss={() => setNotice(undefined)} />
      <Warnings warnings={warnings} testId="route-warnings" />
      <DataTable
        label="Routes"
        className="routes-table"
        columns={columns}
        rows={routes}
        rowKey={(route) => route.id}
        rowData={(route) => ({ route: route.id })}
        empty="No routes. Add one to send viewers to your nodes."
      />
      <EditDialogs
        editing={editing}
        noun="route"
        onClose={() => setEditing(undefined)}
        form={(item) => (
          <RouteForm
            route={item}
            routes={routes}
            nodes={nodes}
            onDone={(saved) => {
              const { route, warnings: said } = splitSaved(saved);
              replaceInList(route, item?.id);
              setWarnings(said);
              setEditing(undefined);
              setNotice(`Route ${route.id} ${item ? 'saved' : 'added'}.`);
            }}
            onCancel={() => setEditing(undefined)}
          />
        )}
        removeNote={(route) => (
          <p>
            New requests for <code>{route.path}</code> will get 404 NO_ROUTE. Requests in flight continue.
          </p>
        )}
        onRemove={remove}
      />
    </div>
  );
}
