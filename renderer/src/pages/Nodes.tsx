/**
 * Nodes: each node with its health (up, down, draining, disabled) and check RTT, the
 * streams it holds, its upstream pulls, sessions and Mbit/s; enable or disable, drain (with
 * the streams left on a draining node and why each stays), add, edit and remove.
 */
import type { NodeConfig } from '../../../shared/config.js';
import type { NodeDto } from '../../../shared/dto.js';
import { DataTable, type Column } from '../components/DataTable.js';
import { EditDialogs, editColumn, useListEditing } from '../components/EditDialogs.js';
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

/** Changes one node on the engine; `done` is the notice shown when it is saved. */
type Patch = (node: NodeDto, body: Partial<NodeConfig>, done: string) => void;

/** Every column but the edit buttons: health, switches that `patch` the node, and its live figures. */
function nodeColumns(patch: Patch): Column<NodeDto>[] {
  return [
    { id: 'id', header: 'Id', cell: (node) => node.id },
    { id: 'url', header: 'URL', cell: (node) => <code>{node.url}</code> },
    {
      id: 'health',
      header: 'Health',
      cell: (node) => (
        <span className={`badge ${healthTone(node.status)}`} title={healthTitle(node)}>
          {node.status}
        </span>
      ),
    },
    { id: 'rtt', header: 'RTT', cell: (node) => formatMs(node.rttMs >= 0 ? node.rttMs : undefined) },
    {
      id: 'enabled',
      header: 'Enabled',
      cell: (node) => (
        <Switch
          checked={node.enabled}
          onChange={(on) => patch(node, { enabled: on }, `Node ${node.id} ${on ? 'enabled' : 'disabled'}.`)}
          label={`Node ${node.id} enabled`}
        />
      ),
    },
    {
      id: 'drain',
      header: 'Drain',
      cell: (node) => (
        <>
          <Switch
            checked={node.draining === true}
            onChange={(on) =>
              patch(
                node,
                { draining: on },
                on ? `Node ${node.id} draining: no new sessions; its live streams move to other nodes.` : `Node ${node.id} takes new sessions again.`,
              )
            }
            label={`Drain node ${node.id}`}
          />
          <DrainProgress node={node} />
        </>
      ),
    },
    { id: 'weight', header: 'Weight', cell: (node) => node.weight },
    { id: 'streams', header: 'Streams held', cell: (node) => formatCount(node.streams.length), title: (node) => node.streams.join('\n') },
    {
      id: 'pulls',
      header: 'Pulls',
      headerTitle: 'Upstream connections to this node now: FLV pulls plus plainly proxied requests',
      cell: (node) => formatCount(node.activePulls),
    },
    { id: 'sessions', header: 'Sessions', headerTitle: 'Requests and viewers served from this node now', cell: (node) => formatCount(node.activeSessions) },
    {
      id: 'mbps',
      header: 'Mbit/s in / out',
      headerTitle: 'Traffic over the last second: from the node / to its viewers',
      cell: (node) => `${formatMbps(node.mbpsIn)} / ${formatMbps(node.mbpsOut)}`,
    },
  ];
}

export function NodesPage() {
  const api = useApi();
  const { live } = useLiveContext();
  const { nodes } = useLive();
  const { editing, setEditing, error, setError, notice, setNotice, replaceInList, remove } = useListEditing(
    'node',
    nodes,
    (list) => live.setNodes(list),
    (id) => api.deleteNode({ id }),
  );
  const patch: Patch = (node, body, done) => {
    setError(undefined);
    api
      .updateNode({ id: node.id, body })
      .then((changed) => {
        replaceInList(changed);
        setNotice(done);
      })
      .catch((caught: unknown) => setError(asApiError(caught)));
  };

  const columns: Column<NodeDto>[] = [...nodeColumns(patch), editColumn(setEditing)];

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
      <DataTable
        label="Nodes"
        columns={columns}
        rows={nodes}
        rowKey={(node) => node.id}
        rowData={(node) => ({ node: node.id })}
        empty="No nodes. Add the media servers the relay sends viewers to."
      />
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
            onCancel={() => setEditing(undefined)}
          />
        )}
        removeNote={() => <p>Routes that name this node must be changed first. Streams pulled from it now continue until they end.</p>}
        onRemove={remove}
      />
    </div>
  );
}
