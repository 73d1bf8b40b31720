/** The placeholder operator page's panels: server, totals, routes, nodes. Data in, markup out. */
import type { RouteMode } from '../../shared/config.js';
import type { NodeDto, RouteDto, RouteStatsDto, ServerInfoDto, StatsDto } from '../../shared/dto.js';
import { formatBytes, formatDuration, formatErrorCounts } from './format.js';

export function ServerPanel({ info, now }: { info: ServerInfoDto; now: number }) {
  return (
    <section>
      <h2>Server</h2>
      <dl className="facts">
        <dt>Relay</dt>
        <dd>{info.relayUrl}</dd>
        <dt>Admin</dt>
        <dd>{info.adminUrl}</dd>
        <dt>Version</dt>
        <dd>{info.version}</dd>
        <dt>Up for</dt>
        <dd>{formatDuration(now - info.startedAt)}</dd>
      </dl>
    </section>
  );
}

export function TotalsPanel({ totals }: { totals: RouteStatsDto }) {
  return (
    <section>
      <h2>Totals</h2>
      <dl className="facts">
        <dt>Requests</dt>
        <dd>{totals.requests}</dd>
        <dt>Redirected</dt>
        <dd>{totals.redirects}</dd>
        <dt>Proxied</dt>
        <dd>{totals.proxied}</dd>
        <dt>Streams now</dt>
        <dd>{totals.active}</dd>
        <dt>From nodes</dt>
        <dd>{formatBytes(totals.bytesIn)}</dd>
        <dt>To viewers</dt>
        <dd>{formatBytes(totals.bytesOut)}</dd>
        <dt>Errors</dt>
        <dd>{formatErrorCounts(totals.errors)}</dd>
      </dl>
    </section>
  );
}

export interface RoutesPanelProps {
  routes: RouteDto[];
  stats: StatsDto['routes'];
  /** Route ids whose mode change is in flight (their buttons are disabled). */
  pending: ReadonlySet<string>;
  onSetMode: (route: RouteDto, mode: RouteMode) => void;
}

const otherMode = (mode: RouteMode): RouteMode => (mode === 'redirect' ? 'proxy' : 'redirect');

export function RoutesPanel({ routes, stats, pending, onSetMode }: RoutesPanelProps) {
  return (
    <section>
      <h2>Routes</h2>
      {routes.length === 0 ? (
        <p className="empty">No routes configured.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>Path</th>
              <th>Kind</th>
              <th>Nodes</th>
              <th>Requests</th>
              <th>Streams now</th>
              <th>Mode</th>
            </tr>
          </thead>
          <tbody>
            {routes.map((route) => {
              const next = otherMode(route.mode);
              return (
                <tr key={route.id}>
                  <td>{route.id}</td>
                  <td>
                    <code>{route.path}</code>
                  </td>
                  <td>{route.kind}</td>
                  <td>{route.nodes?.join(', ') ?? 'all'}</td>
                  <td>{stats[route.id]?.requests ?? 0}</td>
                  <td>{stats[route.id]?.active ?? 0}</td>
                  <td>
                    <span className={`mode mode-${route.mode}`}>{route.mode}</span>{' '}
                    <button type="button" disabled={pending.has(route.id)} onClick={() => onSetMode(route, next)} title={`Switch ${route.id} to ${next}`}>
                      to {next}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function NodesPanel({ nodes }: { nodes: NodeDto[] }) {
  return (
    <section>
      <h2>Nodes</h2>
      {nodes.length === 0 ? (
        <p className="empty">No nodes configured.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Id</th>
              <th>URL</th>
              <th>Enabled</th>
              <th>Weight</th>
              <th>Streams now</th>
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => (
              <tr key={node.id}>
                <td>{node.id}</td>
                <td>
                  <code>{node.url}</code>
                </td>
                <td>{node.enabled ? 'yes' : 'no'}</td>
                <td>{node.weight}</td>
                <td>{node.activeSessions}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
