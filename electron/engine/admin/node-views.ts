/**
 * A node as the API, the metrics and the pushed node events show it: its configuration
 * with its live state (health, sessions, pulls, traffic, streams, drain). Built from the
 * parts that hold that state; the stream list and session counts are read once per call.
 */
import type { NodeConfig } from '../../../shared/config.js';
import type { NodeDto, StreamDto } from '../../../shared/dto.js';
import type { FlvHub } from '../relay/flv/hub.js';
import type { SessionRegistry } from '../relay/sessions.js';
import type { StreamProbe } from '../upstream/probe.js';
import type { NodeRegistry } from '../upstream/registry.js';

/** Most stream paths shown per node when the probe has no list for it. */
export const NODE_VIEW_MAX_STREAMS = 100;

/** The parts a node view reads. */
export interface NodeViewSources {
  registry: Pick<NodeRegistry, 'get'>;
  probe: Pick<StreamProbe, 'streamsOn'>;
  hub: Pick<FlvHub, 'list' | 'drainProgress'>;
  sessions: Pick<SessionRegistry, 'countByNode'>;
}

function nodeView(sources: NodeViewSources, node: NodeConfig, allStreams: StreamDto[], sessions: number): NodeDto {
  const state = sources.registry.get(node.id);
  const streams = allStreams.filter((s) => s.nodeId === node.id);
  const pulledFlv = streams.filter((s) => s.upstreamOpen > 0).length;
  const viewersOfStreams = streams.reduce((n, s) => n + s.viewers, 0);
  return {
    ...node,
    status: state?.status ?? (node.enabled ? 'up' : 'disabled'),
    activeSessions: sessions,
    activePulls: pulledFlv + Math.max(0, sessions - viewersOfStreams),
    rttMs: state?.rttMs ?? -1,
    consecutivePasses: state?.consecutivePasses ?? 0,
    consecutiveFails: state?.consecutiveFails ?? 0,
    lastCheckAt: state?.lastCheckAt ?? 0,
    lastError: state?.lastError ?? '',
    passiveFailures: state?.passiveFailures.length ?? 0,
    mbpsIn: state?.mbpsIn ?? 0,
    mbpsOut: state?.mbpsOut ?? 0,
    streams: sources.probe.streamsOn(node.id) ?? streams.map((s) => s.path).slice(0, NODE_VIEW_MAX_STREAMS),
    drain: sources.hub.drainProgress(node.id),
  };
}

/** `nodes` with their live state. */
export function nodeViews(sources: NodeViewSources, nodes: readonly NodeConfig[]): NodeDto[] {
  const streams = sources.hub.list();
  const sessionsByNode = sources.sessions.countByNode();
  return nodes.map((node) => nodeView(sources, node, streams, sessionsByNode.get(node.id) ?? 0));
}
