/**
 * Fleet: the relays sharing config, streams and load through one Redis (fleet mode). Alone,
 * the page says what fleet mode is and how to turn it on. In fleet mode: the Redis link,
 * the fleet's name, this relay's id, the config version it serves and where it came from;
 * every relay (up or gone, last heard, its load, version and config version, its admin URL);
 * every stream across the fleet with its viewers per relay and node; the totals. Refreshed
 * once a second while the page is visible (live/fleet-poller.ts: one getFleet per tick).
 * Route and node changes are made on the Routes and Nodes pages: in fleet mode they apply to
 * every relay at once.
 */
import { useEffect, useMemo, useSyncExternalStore } from 'react';
import type { FleetDto, FleetRelayDto, FleetStreamDto } from '../../../shared/dto.js';
import { CopyButton } from '../components/CopyButton.js';
import { DataTable, type Column } from '../components/DataTable.js';
import { ErrorNotice } from '../components/Notice.js';
import { StatCard } from '../components/StatCard.js';
import { formatCount } from '../format.js';
import { useLiveContext, type TransportKind } from '../live/LiveContext.js';
import { FLEET_REFRESH_MS, FleetPoller } from '../live/fleet-poller.js';
import { configBehind, configSourceText, fleetWarning, formatAgo, formatCpu, formatMbps, orderRelays, stateTone, streamRelayLines } from './fleet-view.js';

/** The fleet, asked for once per tick while this page is mounted and the document visible. */
function useFleet() {
  const { api } = useLiveContext();
  const poller = useMemo(() => new FleetPoller({ load: () => api.getFleet({}), visible: () => document.visibilityState === 'visible' }), [api]);
  useEffect(() => {
    poller.start();
    void poller.tick();
    const timer = setInterval(() => void poller.tick(), FLEET_REFRESH_MS);
    const onVisibility = () => void poller.tick();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisibility);
      poller.stop();
    };
  }, [poller]);
  useSyncExternalStore(poller.subscribe, poller.getVersion);
  return poller.getView();
}

/** The relay's admin URL: a link in a browser; in the desktop app (which opens no other page) a copy button. */
function RelayUrl({ url, transport }: { url: string; transport: TransportKind }) {
  if (!url) return <span className="hint">—</span>;
  if (transport === 'ipc')
    return (
      <>
        <code>{url}</code> <CopyButton text={url} />
      </>
    );
  return (
    <a href={url} target="_blank" rel="noreferrer noopener">
      {url}
    </a>
  );
}

function relayColumns(fleet: FleetDto, now: number, transport: TransportKind): Column<FleetRelayDto>[] {
  return [
    {
      id: 'id',
      header: 'Relay',
      sortKey: (r) => r.id,
      cell: (r) => (
        <>
          {r.id}
          {r.self && <span className="badge self">this relay</span>}
        </>
      ),
    },
    {
      id: 'state',
      header: 'State',
      sortKey: (r) => r.state,
      headerTitle: 'up: heard within fleet.expiryMs; gone: its heartbeat expired (it left or died)',
      cell: (r) => (
        <span className={`badge ${stateTone(r.state)}`} data-testid="relay-state">
          {r.state}
        </span>
      ),
    },
    {
      id: 'seen',
      header: 'Last seen',
      sortKey: (r) => -r.lastSeenAt,
      title: (r) => new Date(r.lastSeenAt).toLocaleString(),
      cell: (r) => formatAgo(now - r.lastSeenAt),
    },
    { id: 'viewers', header: 'Viewers', sortKey: (r) => r.viewers, cell: (r) => formatCount(r.viewers) },
    { id: 'streams', header: 'Streams', sortKey: (r) => r.streams, cell: (r) => formatCount(r.streams) },
    {
      id: 'mbps',
      header: 'Mbit/s in / out',
      headerTitle: 'Over its last heartbeat: from the nodes / to its viewers',
      sortKey: (r) => r.mbpsOut,
      cell: (r) => `${formatMbps(r.mbpsIn)} / ${formatMbps(r.mbpsOut)}`,
    },
    { id: 'cpu', header: 'CPU', headerTitle: 'Its process, percent of one core', sortKey: (r) => r.cpuPercent, cell: (r) => formatCpu(r.cpuPercent) },
    { id: 'version', header: 'Version', sortKey: (r) => r.version, cell: (r) => r.version },
    {
      id: 'config',
      header: 'Config',
      headerTitle: 'The shared config version it serves',
      sortKey: (r) => r.configVersion,
      className: (r) => (configBehind(r, fleet.configVersion) ? 'warn' : undefined),
      title: (r) => (configBehind(r, fleet.configVersion) ? `this relay serves version ${fleet.configVersion}` : undefined),
      cell: (r) => `v${r.configVersion}`,
    },
    { id: 'url', header: 'Admin URL', cell: (r) => <RelayUrl url={r.url} transport={transport} /> },
  ];
}

const STREAM_COLUMNS: Column<FleetStreamDto>[] = [
  { id: 'route', header: 'Route', sortKey: (s) => s.routeId, cell: (s) => s.routeId },
  { id: 'key', header: 'Stream key', sortKey: (s) => s.streamKey, cell: (s) => <code>{s.streamKey}</code> },
  { id: 'viewers', header: 'Viewers', headerTitle: 'Summed over the live relays', sortKey: (s) => s.viewers, cell: (s) => formatCount(s.viewers) },
  {
    id: 'relays',
    header: 'Per relay (viewers, node)',
    cell: (s) => (
      <ul className="fleet-per-relay">
        {streamRelayLines(s).map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
    ),
  },
];

function Alone() {
  return (
    <section className="panel" aria-label="Fleet mode" data-testid="fleet-alone">
      <h2>This relay runs alone</h2>
      <p>
        In fleet mode several relays share one configuration (routes, nodes, viewer auth, limits and the relay, FLV, HLS, health and locator defaults), the
        streams the nodes publish and their load, through one Redis. A route or node change made on any relay, or here, then applies to all of them, viewer caps
        count the whole fleet, and this page lists every relay with its load.
      </p>
      <p>
        To join a fleet, set <code>fleet.redisUrl</code> (for example <code>redis://redis.example.net:6379</code>, password in the URL) in each relay&apos;s
        config file, the same <code>fleet.name</code> on each, and a distinct <code>fleet.relayId</code>, then restart the relay. Listen addresses, TLS, the
        admin token and logs stay local to each relay.
      </p>
    </section>
  );
}

function FleetFacts({ fleet }: { fleet: FleetDto }) {
  return (
    <section className="panel" aria-label="Fleet link">
      <dl className="facts">
        <dt>Fleet</dt>
        <dd data-testid="fleet-name">{fleet.name}</dd>
        <dt>This relay</dt>
        <dd data-testid="fleet-relay-id">{fleet.relayId}</dd>
        <dt>Redis</dt>
        <dd data-testid="fleet-redis">
          <span className={`badge ${stateTone(fleet.redis.state)}`}>{fleet.redis.state}</span>
          {fleet.redis.state === 'down' && fleet.redis.lastError && <span className="hint"> last error: {fleet.redis.lastError}</span>}
        </dd>
        <dt>Config</dt>
        <dd data-testid="fleet-config">
          version {fleet.configVersion}, from {configSourceText(fleet.configSource)}
        </dd>
      </dl>
    </section>
  );
}

function Totals({ fleet }: { fleet: FleetDto }) {
  const { totals } = fleet;
  const gone = fleet.relays.filter((r) => r.state === 'gone').length;
  return (
    <div className="stats-grid">
      <StatCard label="Relays up" value={formatCount(totals.relays)} detail={gone > 0 ? `${gone} gone` : 'none gone'} tone={gone > 0 ? 'warn' : undefined} />
      <StatCard label="Fleet viewers" value={formatCount(totals.viewers)} />
      <StatCard label="Fleet streams" value={formatCount(totals.streams)} />
      <StatCard label="Fleet Mbit/s in / out" value={`${formatMbps(totals.mbpsIn)} / ${formatMbps(totals.mbpsOut)}`} />
    </div>
  );
}

export function FleetPage() {
  const { transport } = useLiveContext();
  const { fleet, error, loadedAt } = useFleet();
  const warning = fleet && fleetWarning(fleet);
  return (
    <div className="page fleet">
      <div className="page-head">
        <h1>Fleet</h1>
      </div>
      <ErrorNotice error={error} prefix="Cannot read the fleet" />
      {!fleet ? (
        !error && <p className="loading">Loading the fleet…</p>
      ) : !fleet.enabled ? (
        <Alone />
      ) : (
        <>
          <FleetFacts fleet={fleet} />
          {warning && (
            <p className="notice warn" role="status" data-testid="fleet-warning">
              {warning}
            </p>
          )}
          <Totals fleet={fleet} />
          <h2>Relays</h2>
          <DataTable
            label="Relays"
            columns={relayColumns(fleet, loadedAt, transport)}
            rows={orderRelays(fleet.relays)}
            rowKey={(r) => r.id}
            rowData={(r) => ({ relay: r.id, state: r.state })}
            rowClassName={(r) => (r.state === 'gone' ? 'is-gone' : r.self ? 'is-self' : undefined)}
          />
          <h2>Streams across the fleet</h2>
          <DataTable
            label="Streams across the fleet"
            columns={STREAM_COLUMNS}
            rows={fleet.streams}
            rowKey={(s) => `${s.routeId}\u0000${s.streamKey}`}
            rowData={(s) => ({ route: s.routeId, stream: s.streamKey })}
            empty="No stream is watched on any relay of the fleet right now."
          />
          <p className="hint">Route and node changes made on the Routes and Nodes pages apply to every relay of the fleet.</p>
        </>
      )}
    </div>
  );
}
