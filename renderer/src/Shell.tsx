/**
 * The app frame: navigation, the relay's state (live or paused, with the switch), the
 * event connection's state in a browser, and the current page.
 */
import { useState } from 'react';
import type { ApiError } from '../../shared/api.js';
import type { EventStreamStatus } from '../../shared/event-stream-client.js';
import { ErrorNotice } from './components/Notice.js';
import { formatClock, formatCount } from './format.js';
import { useApi, useLive, useLiveContext } from './live/LiveContext.js';
import { DashboardPage } from './pages/Dashboard.js';
import { FleetPage } from './pages/Fleet.js';
import { NodesPage } from './pages/Nodes.js';
import { RoutesPage } from './pages/Routes.js';
import { SettingsPage } from './pages/Settings.js';
import { StreamsPage } from './pages/Streams.js';
import { TrafficPage } from './pages/Traffic.js';
import { PAGE_TITLES, PAGES, useHashPage, type PageId } from './router.js';
import { asApiError } from './transport.js';

const PAGE_VIEWS: Record<PageId, () => React.JSX.Element> = {
  dashboard: DashboardPage,
  streams: StreamsPage,
  nodes: NodesPage,
  routes: RoutesPage,
  traffic: TrafficPage,
  fleet: FleetPage,
  settings: SettingsPage,
};

function RelaySwitch() {
  const api = useApi();
  const { live } = useLiveContext();
  const { relay } = useLive();
  const [error, setError] = useState<ApiError>();
  const paused = relay?.paused === true;
  const toggle = () => {
    setError(undefined);
    (paused ? api.resumeRelay({}) : api.pauseRelay({})).then((state) => live.setRelay(state)).catch((caught: unknown) => setError(asApiError(caught)));
  };
  return (
    <div className="relay-switch">
      <span className={`badge ${paused ? 'warn' : 'good'}`} data-testid="relay-state">
        {paused ? 'paused: new requests get 503' : 'relaying'}
      </span>
      <button type="button" className="small" onClick={toggle}>
        {paused ? 'Resume relay' : 'Pause relay'}
      </button>
      <ErrorNotice error={error} onDismiss={() => setError(undefined)} />
    </div>
  );
}

function ConnectionBadge({ status }: { status: EventStreamStatus | undefined }) {
  const { updatedAt } = useLive();
  const state = status?.state ?? 'open';
  const text =
    state === 'open'
      ? updatedAt
        ? `live · ${formatClock(updatedAt)}`
        : 'live'
      : state === 'retrying'
        ? `reconnecting (${status?.error ?? 'stream lost'})`
        : state;
  return (
    <span className={`connection ${state}`} role="status" title="Live updates (pushed every second)">
      {text}
    </span>
  );
}

export function Shell({ eventStatus }: { eventStatus?: EventStreamStatus }) {
  const page = useHashPage();
  const { streams, sessions, relay } = useLive();
  const View = PAGE_VIEWS[page];
  return (
    <div className="shell">
      <nav className="sidebar" aria-label="Pages">
        <div className="brand">RelayDeck</div>
        {PAGES.map((id) => (
          <a key={id} href={`#/${id}`} className={id === page ? 'active' : ''} aria-current={id === page ? 'page' : undefined}>
            {PAGE_TITLES[id]}
            {id === 'streams' && streams.length > 0 && <span className="count">{streams.length}</span>}
            {id === 'traffic' && sessions > 0 && <span className="count">{formatCount(sessions)}</span>}
          </a>
        ))}
        {relay?.demo && <div className="sidebar-note">demo node on</div>}
      </nav>
      <div className="main">
        <header className="topbar">
          <RelaySwitch />
          <ConnectionBadge status={eventStatus} />
        </header>
        <main>
          <View />
        </main>
      </div>
    </div>
  );
}
