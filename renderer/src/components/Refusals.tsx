/**
 * Who the relay let in and who it refused (refusals.ts groups the stats): on the Dashboard,
 * refusals per reason with a bar each and the admission webhooks' counters; on the Streams
 * page, per route, the refusals by limit and by code and the admitted requests by auth label.
 * Everything comes from the 1 Hz stats snapshot.
 */
import { Fragment } from 'react';
import type { AdmissionStatsDto, StatsDto } from '../../../shared/dto.js';
import { formatCount } from '../format.js';
import { REFUSAL_REASONS, refusalsByReason, routeAdmissions, type RouteAdmission } from '../refusals.js';
import { DataTable, type Column } from './DataTable.js';

/** Counts as badges, "VIEWER_LIMIT 3"; a dash when there is none. */
export function CountBadges({ counts, tone }: { counts: readonly [string, number][]; tone?: 'warn' | 'bad' | 'muted' }) {
  if (counts.length === 0) return <span className="empty">—</span>;
  return (
    <span className="badges">
      {counts.map(([name, n]) => (
        <span key={name} className={`badge ${tone ?? ''}`} data-count={name}>
          {name} {formatCount(n)}
        </span>
      ))}
    </span>
  );
}

/** Dashboard: refusals since start per reason, a bar each against the largest, with the codes behind it. */
export function RefusalsPanel({ stats }: { stats: StatsDto | undefined }) {
  const reasons = refusalsByReason(stats?.totals.errors ?? {});
  const total = reasons.reduce((sum, r) => sum + r.total, 0);
  const most = Math.max(1, ...reasons.map((r) => r.total));
  return (
    <section className="panel" aria-label="Refused viewers">
      <h2>Refused viewers</h2>
      <p className="hint" data-testid="refusals-total">
        {total === 0 ? 'No viewer refused since start.' : `${formatCount(total)} refused since start, by reason:`}
      </p>
      <table className="compact refusals" aria-label="Refusals by reason">
        <tbody>
          {reasons.map(({ reason, total: n, codes }) => (
            <tr key={reason.id} data-reason={reason.id} title={reason.title}>
              <th scope="row">{reason.label}</th>
              <td className="num">{formatCount(n)}</td>
              <td className="bar">
                <meter min={0} max={most} value={n} aria-label={`${reason.label}: ${n}`} />
              </td>
              <td>
                <CountBadges counts={codes} tone="warn" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** One figure of the webhook panel: its term (with a tooltip), its value, marked when it is a problem. */
interface Figure {
  id: string;
  term: string;
  title: string;
  value: string;
  warn?: boolean;
}

/** Dashboard: the admission webhooks' questions and end-of-session records, and the HLS viewer sessions held. */
export function WebhookPanel({ admission }: { admission: AdmissionStatsDto | undefined }) {
  const hook = admission?.webhook;
  const stop = admission?.stop;
  const n = (value: number | undefined) => formatCount(value ?? 0);
  const figures: Figure[] = [
    { id: 'calls', term: 'Calls', title: "calls made to the routes' webhooks", value: n(hook?.calls) },
    {
      id: 'cache',
      term: 'Cache hits / joined',
      title: 'answered from the cache (cacheMs), or joined to an identical call in flight',
      value: `${n(hook?.cacheHits)} / ${n(hook?.coalesced)}`,
    },
    {
      id: 'failures',
      term: 'Failures',
      title: 'timeouts, connection failures, other statuses: onError decided',
      value: n(hook?.failures),
      warn: Boolean(hook?.failures),
    },
    {
      id: 'queue-full',
      term: 'Queue full',
      title: 'viewers refused 503 WEBHOOK_BUSY: the URL had maxQueue calls waiting',
      value: n(hook?.queueFull),
      warn: Boolean(hook?.queueFull),
    },
    { id: 'stops', term: 'Stops delivered / retried', title: 'end-of-session records sent to stopUrl', value: `${n(stop?.delivered)} / ${n(stop?.retried)}` },
    {
      id: 'stops-dropped',
      term: 'Stops dropped',
      title: 'end-of-session records dropped: webhooks.stopQueue full, retries spent, or a final 4xx',
      value: n(stop?.dropped),
      warn: Boolean(stop?.dropped),
    },
    {
      id: 'hls-sessions',
      term: 'HLS viewer sessions',
      title: 'HLS viewers held as sessions (routes with a webhook or limits)',
      value: n(admission?.hlsViewerSessions),
    },
  ];
  return (
    <section className="panel" aria-label="Admission webhooks">
      <h2>Admission webhooks</h2>
      <dl className="facts" data-testid="webhook-counters">
        {figures.map((f) => (
          <Fragment key={f.id}>
            <dt title={f.title}>{f.term}</dt>
            <dd data-figure={f.id} className={f.warn ? 'warn' : undefined}>
              {f.value}
            </dd>
          </Fragment>
        ))}
      </dl>
    </section>
  );
}

const ADMISSION_COLUMNS: Column<RouteAdmission>[] = [
  { id: 'route', header: 'Route', cell: (r) => r.routeId },
  { id: 'refused', header: 'Refused', className: (r) => (r.refused ? 'warn' : ''), cell: (r) => formatCount(r.refused) },
  {
    id: 'limits',
    header: 'By limit',
    headerTitle: 'routes[].limits maxViewers, maxViewersPerStream; relay.maxConnectionsPerAddress',
    cell: (r) => <CountBadges counts={r.byLimit} tone="warn" />,
  },
  {
    id: 'codes',
    header: 'By code',
    headerTitle: REFUSAL_REASONS.map((reason) => `${reason.label}: ${reason.codes.join(', ')}`).join('; '),
    cell: (r) => <CountBadges counts={r.byCode} tone="bad" />,
  },
  {
    id: 'labels',
    header: 'Admitted by label',
    headerTitle: "requests admitted per auth label: a static token's, a JWT's or the webhook's",
    cell: (r) => <CountBadges counts={r.byLabel} />,
  },
];

/** Streams page: per route, which limit and which check refused whom, and who came in under which label. */
export function RouteAdmissionPanel({ stats }: { stats: StatsDto | undefined }) {
  return (
    <section className="panel" aria-label="Admission by route">
      <h2>Admission by route</h2>
      <DataTable
        label="Admission by route"
        className="compact"
        columns={ADMISSION_COLUMNS}
        rows={routeAdmissions(stats)}
        rowKey={(r) => r.routeId}
        rowData={(r) => ({ route: r.routeId })}
        empty="No viewer refused and no labelled viewer since start."
      />
    </section>
  );
}
