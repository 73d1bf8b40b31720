/**
 * Nodes: each node with its health (up, down, draining, disabled) and check RTT, the
 * streams it holds, its upstream pulls, sessions and Mbit/s; enable or disable, drain (with
 * the streams left on a draining node and why each stays), add, edit and remove.
 */
import type { NodeConfig } from '../../../shared/config.js';
import type { NodeDto } from '../../../shared/dto.js';
import { EditDialogs, RowActions, useListEditing } from '../components/EditDialogs.js';
import { ErrorNotice, InfoNotice } from '../components/Notice.js';
import { Switch } from '../components/Switch.js';
import { NodeForm } from '../forms/NodeForm.js';
import { formatCount, formatMs } from '../format.js';
import { useApi, useLive, useLiveContext } from '../live/LiveContext.js';
import { asApiError } from '../transport.js';

const formatMbps = (mbps: number) => (mbps < 10 ? mbps.toFixed(2) : mbps.toFixed(1));

function healthTone(status: NodeDto['status']): string {
  return status === 'up' ? 'good' : status === 'down' ? 'bad' : status === 'draining' ? 'warn' : 'muted';
}

function healthTitle(node: NodeDto): string {
  const parts = [`${node.consecutivePasses} passes, ${node.consecutiveFails} fails in a row`, `${node.passiveFailures} proxy failures in the passive window`];
  if (node.lastCheckAt) parts.push(`last check ${new Date(node.lastCheckAt).toLocaleTimeString()}`);
  if (node.lastError) parts.push(`last error: ${node.lastError}`);
  return parts.join('; ');
}

/** "draining, N streams left" under the drain switch, with each stream's reason as the tooltip. */
function DrainProgress({ node }: { node: NodeDto }) {
  const drain = node.drain;
  if (!drain) return null;
  const lines = drain.streams.map((s) => `${s.path} (${s.viewers} viewers): ${s.reason}`);
  if (drain.deadlineAt !== null) lines.push(`what is left ends at ${new Date(drain.deadlineAt).toLocaleTimeString()}`);
  return (
    <div className="hint" title={lines.join('\n')} data-drain-left={drain.streamsLeft}>
      {drain.streamsLeft === 0 ? 'drained' : `draining, ${formatCount(drain.streamsLeft)} stream${drain.streamsLeft === 1 ? '' : 's'} left`}
    </div>
  );
}

export function NodesPage() {
  const api = useApi();
  const { live } = useLiveContext();
  const { nodes } = useLive();
  const { editing, setEditing, error, setError, notice, setNotice, replaceInList, remove } = useListEditing('node', nodes, (list) => live.setNodes(list), (id) => api.deleteNode({ id }));
  const patch = (node: NodeDto, body: Partial<NodeConfig>, done: string) => {
    setError(undefined);
    api
      .updateNode({ id: node.id, body })
      .then((changed) => {
        replaceInList(changed);
        setNotice(done);
      })
      .catch((caught: unknown) => setError(asApiError(caught)));
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>Nodes</h1>
        <button type="button" className="primary" onClick={() => setEditing({ kind: 'add' })}>
          Add node
        </button>
      </div>
      <ErrorNotice error={error} onDismiss={() => setError(undefined)} prefix="Change refused" />
      <InfoNotice text={notice} onDismiss={() => setNotice(undefined)} />
      {nodes.length === 0 ? (
        <p className="empty">No nodes. Add the media servers the relay sends viewers to.</p>
      ) : (
        <div className="table-wrap">
<table aria-label="Nodes">
          <thead>
            <tr>
              <th>Id</th>
              <th>URL</th>
              <th>Health</th>
              <th>RTT</th>
              <th>Enabled</th>
              <th>Drain</th>
              <th>Weight</th>
              <th>Streams held</th>
              <th title="Upstream connections to this node now: FLV pulls plus plainly proxied requests">Pulls</th>
              <th title="Requests and viewers served from this node now">Sessions</th>
              <th title="Traffic over the last second: from the node / to its viewers">Mbit/s in / out</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nodes.map((node) => {
              return (
                <tr key={node.id} data-node={node.id}>
                  <td>{node.id}</td>
                  <td>
                    <code>{node.url}</code>
                  </td>
                  <td>
                    <span className={`badge ${healthTone(node.status)}`} title={healthTitle(node)}>
                      {node.status}
                    </span>
                  </td>
                  <td>{formatMs(node.rttMs >= 0 ? node.rttMs : undefined)}</td>
                  <td>
                    <Switch checked={node.enabled} onChange={(on) => patch(node, { enabled: on }, `Node ${node.id} ${on ? 'enabled' : 'disabled'}.`)} label={`Node ${node.id} enabled`} />
                  </td>
                  <td>
                    <Switch checked={node.draining === true} onChange={(on) => patch(node, { draining: on }, on ? `Node ${node.id} draining: no new sessions; its live streams move to other nodes.` : `Node ${node.id} takes new sessions again.`)} label={`Drain node ${node.id}`} />
                    <DrainProgress node={node} />
                  </td>
                  <td>{node.weight}</td>
                  <td title={node.streams.join('\n')}>{formatCount(node.streams.length)}</td>
                  <td>{formatCount(node.activePulls)}</td>
                  <td>{formatCount(node.activeSessions)}</td>
                  <td>
                    {formatMbps(node.mbpsIn)} / {formatMbps(node.mbpsOut)}
                  </td>
                  <RowActions onEdit={() => setEditing({ kind: 'edit', item: node })} onRemove={() => setEditing({ kind: 'delete', item: node })} />
                </tr>
              );
            })}
          </tbody>
        </table>
</div>
      )}
      <EditDialogs
        editing={editing}
        noun="node"
        onClose={() => setEditing(undefined)}
        form={(item) => (
          <NodeForm
            node={item}
            nodes={nodes}
            onDone={(node) => {
              replaceInList(node);
              setEditing(undefined);
              setNotice(`Node ${node.id} ${item ? 'saved' : 'added'}.`);
            }}
          />
        )}
        removeNote={() => <p>Routes that name this node must be changed first. Streams pulled from it now continue until they end.</p>}
        onRemove={remove}
      />
    </div>
  );
}
