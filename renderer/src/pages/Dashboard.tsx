/**
 * The dashboard: throughput now and over time (10 min at 1 s, 24 h at 1 min), viewers,
 * streams, error rate, bandwidth saved by redirect routes, upstream pulls against viewers,
 * viewers refused per reason (credentials, IP list, webhook, limits, overload) and the
 * admission webhooks' counters. Everything comes from the engine's history and 1 Hz snapshots.
 */
import { useMemo, useState } from 'react';
import type { HistorySeriesDto, SavingsDto, StreamDto } from '../../../shared/dto.js';
import { LineChart } from '../components/LineChart.js';
import { DemoBanner } from '../components/DemoBanner.js';
import { RefusalsPanel, WebhookPanel } from '../components/Refusals.js';
import { StatCard } from '../components/StatCard.js';
import { formatBitsPerSecond, formatBytes, formatClock, formatCount, formatErrorCounts, formatHourMinute, formatPercent } from '../format.js';
import { useLive } from '../live/LiveContext.js';

/** Seconds the error rate and the recent savings are worked out over. */
const RECENT_WINDOW_S = 60;

function sumTail(values: readonly number[], n: number): number {
  let sum = 0;
  for (let i = Math.max(0, values.length - n); i < values.length; i += 1) sum += values[i];
  return sum;
}

function maxOf(values: readonly number[]): number {
  let max = 0;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** Per-second rates from a minute series: bytes per minute / 60. */
function perSecond(values: readonly number[], stepMs: number): number[] {
  return values.map((v) => v / (stepMs / 1000));
}

function savingsExplanation(savings: SavingsDto | undefined): string {
  const base = 'Estimate: each redirected request counts as the mean bytes a finished proxied request of the same route kind sent to its viewer.';
  if (!savings) return base;
  const means = Object.entries(savings.meanProxiedBytes)
    .filter(([, mean]) => mean > 0)
    .map(([kind, mean]) => `${kind}: ${formatBytes(mean)} (${savings.samples[kind as keyof typeof savings.samples]} samples)`);
  return `${base} ${means.length ? `Means now: ${means.join(', ')}.` : 'No proxied request has finished yet, so there is no estimate.'} ${savings.unestimatedRedirects ? `${formatCount(savings.unestimatedRedirects)} redirects had no sample of their kind and are not counted.` : ''}`;
}

function ghostPulls(streams: StreamDto[]): number {
  return streams.filter((s) => s.viewers === 0 && s.upstreamOpen > 0).length;
}

function ThroughputCharts({ seconds, minutes }: { seconds: HistorySeriesDto; minutes: HistorySeriesDto }) {
  const tenMinutes = useMemo(
    () => [
      { label: 'to viewers', values: seconds.bytesOut, color: 0, area: true },
      { label: 'from nodes', values: seconds.bytesIn, color: 1 },
    ],
    [seconds],
  );
  const day = useMemo(
    () => [
      { label: 'to viewers', values: perSecond(minutes.bytesOut, minutes.stepMs), color: 0, area: true },
      { label: 'from nodes', values: perSecond(minutes.bytesIn, minutes.stepMs), color: 1 },
      { label: 'saved by redirects (est.)', values: perSecond(minutes.savedBytes, minutes.stepMs), color: 2 },
    ],
    [minutes],
  );
  const audience = useMemo(
    () => [
      { label: 'viewers', values: seconds.viewers, color: 0, area: true },
      { label: 'upstream pulls', values: seconds.pulls, color: 3 },
      { label: 'streams', values: seconds.streams, color: 1 },
    ],
    [seconds],
  );
  const requests = useMemo(
    () => [
      { label: 'requests', values: seconds.requests, color: 1, area: true },
      { label: 'redirects', values: seconds.redirects, color: 2 },
      { label: 'errors', values: seconds.errors, color: 4 },
    ],
    [seconds],
  );
  const perSecondCount = (v: number) => `${formatCount(v)}/s`;
  return (
    <div className="charts">
      <LineChart title="Throughput, last 10 minutes (1 s points)" times={seconds.t} series={tenMinutes} format={formatBitsPerSecond} timeFormat={formatClock} />
      <LineChart
        title="Throughput, last 24 hours (1 min points)"
        times={minutes.t}
        series={day}
        format={formatBitsPerSecond}
        timeFormat={formatHourMinute}
        emptyText="The first minute point appears after a minute."
      />
      <LineChart
        title="Viewers against upstream pulls, last 10 minutes"
        times={seconds.t}
        series={audience}
        format={(v) => formatCount(v)}
        timeFormat={formatClock}
        integer
      />
      <LineChart title="Requests and errors, last 10 minutes" times={seconds.t} series={requests} format={perSecondCount} timeFormat={formatClock} integer />
    </div>
  );
}

export function DashboardPage() {
  const { stats, streams, hlsStreams, sessions, lastPoint, history, savings, relay } = useLive();
  const [preview, setPreview] = useState<string>();
  const seconds = history?.seconds;
  const recentRequests = seconds ? sumTail(seconds.requests, RECENT_WINDOW_S) : 0;
  const recentErrors = seconds ? sumTail(seconds.errors, RECENT_WINDOW_S) : 0;
  const recentSaved = seconds ? sumTail(seconds.savedBytes, RECENT_WINDOW_S) / RECENT_WINDOW_S : 0;
  const pulls = lastPoint?.pulls ?? 0;
  const ghosts = ghostPulls(streams);
  const errorRate = recentRequests ? recentErrors / recentRequests : 0;
  return (
    <div className="page">
      <h1>Dashboard</h1>
      {relay?.demo && <DemoBanner demo={relay.demo} preview={preview} onPreview={setPreview} />}
      <div className="stats-grid">
        <StatCard
          label="To viewers"
          value={formatBitsPerSecond(lastPoint?.bytesOut ?? 0)}
          detail={`from nodes ${formatBitsPerSecond(lastPoint?.bytesIn ?? 0)}`}
        />
        <StatCard label="Viewers" value={formatCount(sessions)} detail={`peak in 10 min: ${formatCount(seconds ? maxOf(seconds.viewers) : 0)}`} />
        <StatCard
          label="Streams"
          value={formatCount(streams.length + hlsStreams.length)}
          detail={`${formatCount(streams.reduce((n, s) => n + s.viewers, 0))} FLV viewers · ${formatCount(hlsStreams.reduce((n, s) => n + s.viewers, 0))} HLS viewers`}
          title="Live FLV fan-out streams plus HLS streams requested recently (an HLS viewer is counted while it keeps requesting)."
        />
        <StatCard
          label="Pulls / viewers"
          value={`${formatCount(pulls)} / ${formatCount(sessions)}`}
          detail={ghosts ? `${ghosts} pull(s) with no viewer (closing soon)` : pulls ? `1 pull per ${(sessions / pulls).toFixed(1)} viewers` : 'no pulls'}
          tone={ghosts ? 'warn' : undefined}
          title="Upstream connections (FLV pulls shared by their viewers, plus one per plain proxied request) against requests in flight."
        />
        <StatCard
          label={`Error rate (${RECENT_WINDOW_S} s)`}
          value={formatPercent(errorRate)}
          detail={`${formatCount(recentErrors)} error${recentErrors === 1 ? '' : 's'} in ${formatCount(recentRequests)} requests`}
          tone={errorRate > 0.05 ? 'bad' : errorRate > 0 ? 'warn' : 'good'}
          title="Errors the relay answered or logged, viewers leaving and operator kicks excluded."
        />
        <StatCard
          label="Saved by redirects (est.)"
          value={formatBytes(savings?.bytes ?? 0)}
          detail={`${formatBitsPerSecond(recentSaved)} over ${RECENT_WINDOW_S} s · ${formatCount(savings?.redirects ?? 0)} redirects`}
          title={savingsExplanation(savings)}
        />
      </div>
      {seconds && history && <ThroughputCharts seconds={seconds} minutes={history.minutes} />}
      <div className="panel-row">
        <RefusalsPanel stats={stats} />
        <WebhookPanel admission={stats?.admission} />
      </div>
      <section className="panel">
        <h2>Totals since start</h2>
        {stats && (
          <dl className="facts">
            <dt>Requests</dt>
            <dd>{formatCount(stats.totals.requests)}</dd>
            <dt>Redirected / proxied</dt>
            <dd>
              {formatCount(stats.totals.redirects)} / {formatCount(stats.totals.proxied)}
            </dd>
            <dt>From nodes / to viewers</dt>
            <dd>
              {formatBytes(stats.totals.bytesIn)} / {formatBytes(stats.totals.bytesOut)}
            </dd>
            <dt>Errors by code</dt>
            <dd>{formatErrorCounts(stats.totals.errors)}</dd>
            <dt>How savings are estimated</dt>
            <dd className="explain">{savingsExplanation(savings)}</dd>
          </dl>
        )}
      </section>
    </div>
  );
}
