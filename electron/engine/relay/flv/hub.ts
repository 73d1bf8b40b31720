/**
 * All live FLV streams of a relay, keyed by route and the node URL the relay pulls (path and
 * the route's streamParams, node-query.ts): viewers of the same stream share one FlvStream
 * (one upstream pull) whatever else their query holds. Bounded by flv.maxStreams, and per
 * client address by client-limits.ts; a stream is removed the moment it closes. Node
 * status changes reach the streams here: a disabled node's streams fail over at once, a
 * draining node's streams move (drain.ts).
 */
import { createHash } from 'node:crypto';
import type { RouteConfig } from '../../../../shared/config.js';
import type { StreamDto } from '../../../../shared/dto.js';
import type { Logger } from '../../core/log.js';
import { RelayError } from '../../core/errors.js';
import type { Location, StreamLocator } from '../../upstream/locator.js';
import type { NodeRegistry, NodeStatusChange } from '../../upstream/registry.js';
import type { DrainProgressDto } from '../../../../shared/dto.js';
import { NodeDrain } from './drain.js';
import type { RouteTable } from '../../routing/route-table.js';
import type { SessionFacts, SessionRegistry } from '../sessions.js';
import type { ViewerAdmission } from '../viewer-gate.js';
import { SessionScope } from '../session-scope.js';
import type { StatsBook } from '../stats.js';
import { upstreamUrl, type RequestTarget } from '../../routing/target.js';
import { pullQuery } from '../node-query.js';
import { ClientStreamLimits } from './client-limits.js';
import { FlvStream } from './stream.js';
import { FlvPull } from './upstream.js';
import type { UpstreamTransport } from '../../upstream/transport.js';
import { FlvViewer, type FlvOutput } from './viewer.js';
import { WriteMerge } from './write-merge.js';

export interface FlvHubDeps {
  table: () => RouteTable;
  sessions: SessionRegistry;
  stats: StatsBook;
  log: Logger;
  locator: StreamLocator;
  nodes: NodeRegistry;
  /** The engine's upstream transport (upstream/transport.ts): every pull goes through it. */
  transport: UpstreamTransport;
  /** An upstream failure of a pull, by error code (passive health, probe cache). */
  onNodeFault: (nodeId: string, code: string) => void;
}

/** Opaque, URL-safe stream id of a route, path and keyed node query (which may hold credentials, so it is hashed). */
function streamId(route: RouteConfig, path: string, keyedQuery: string): string {
  return createHash('sha256').update(`${route.id}\n${path}${keyedQuery}`).digest('base64url').slice(0, 16);
}

export class FlvHub {
  private readonly streams = new Map<string, FlvStream>();
  /** New streams per client address (flv.maxStreamsPerClient, flv.newStreamsPerClientPerMinute). */
  private readonly clientLimits = new ClientStreamLimits();
  /** Drains in progress by node id (at most one per configured node). */
  private readonly drains = new Map<string, NodeDrain>();
  /** Merged writes of the viewers over TLS (flv.tlsWriteBatchMs), one timer for all of them. */
  private readonly merge = new WriteMerge(() => this.deps.table().config.flv);

  constructor(private readonly deps: FlvHubDeps) {}

  get size(): number {
    return this.streams.size;
  }

  /** Attach a viewer (HTTP-FLV or WebSocket-FLV, by its output) to its stream, opening the stream (and its pull) when it is the first. */
  join(output: FlvOutput, route: RouteConfig, target: RequestTarget, facts: SessionFacts, location: Location, admission?: ViewerAdmission): void {
    const query = pullQuery(route, target.query);
    const id = streamId(route, target.path, query.keyed);
    let stream = this.streams.get(id);
    const table = this.deps.table();
    if (!stream) {
      if (this.streams.size >= table.config.flv.maxStreams) throw new RelayError('OVERLOADED', `relay is at flv.maxStreams (${table.config.flv.maxStreams})`);
      const admitted = this.clientLimits.admit(facts.clientAddress, table.config.flv);
      if ('error' in admitted) {
        output.setHeader('retry-after', String(admitted.retryAfterSeconds));
        throw admitted.error;
      }
      stream = this.openStream(id, route, { path: target.path, query: query.sent }, location, admitted.release);
    }
    const scope = new SessionScope(this.deps.sessions, { ...facts, nodeId: stream.nodeId || facts.nodeId }, output, undefined, admission);
    scope.session.streamId = id;
    scope.session.framesDropped = 0;
    const flv = table.config.flv;
    const owner = stream;
    const viewer = new FlvViewer(
      output,
      scope.session,
      { queueMaxBytes: flv.viewerQueueMaxBytes, slowTimeoutMs: flv.slowViewerTimeoutMs },
      this.deps.log.child(route.id),
      (v) => owner.removeViewer(v),
      this.merge,
    );
    scope.ownedBy({ abort: (_reason, code) => viewer.close(code ?? 'KICKED'), finishGracefully: () => viewer.close('STOPPING') });
    stream.addViewer(viewer);
  }

  /** A new stream pulling `target` (its query already the node's, pullQuery); `release` gives its opener's slot back when it closes. */
  private openStream(id: string, route: RouteConfig, target: RequestTarget, first: Location, release: () => void): FlvStream {
    const log = this.deps.log.child(`flv ${route.id}${target.path}`);
    let pending: Location | undefined = first;
    const stream = new FlvStream({
      id,
      route,
      target,
      // The request's own lookup serves the first pull; reconnects look up afresh.
      rankNodes: async () => {
        const location = pending ?? (await this.deps.locator.locate(this.deps.table(), route, target));
        pending = undefined;
        return location.nodes;
      },
      nodeState: (nodeId) => this.deps.nodes.get(nodeId),
      openPull: (url, timeouts, events, nodeId) => new FlvPull(url, timeouts, events, this.deps.transport, nodeId),
      onNodeFault: (nodeId, code) => {
        this.deps.onNodeFault(nodeId, code);
        if (route.locate === 'probe') this.deps.locator.forgetLocation(route, target, nodeId);
      },
      urlOn: (node) => upstreamUrl(node, route, target),
      flv: () => this.deps.table().config.flv,
      timeouts: () => this.deps.table().config.relay,
      log,
      countError: (code) => this.deps.stats.countError(route.id, code),
      countBytesIn: (bytes) => {
        this.deps.stats.route(route.id).bytesIn += bytes;
      },
      onClosed: (closed) => {
        release();
        if (this.streams.get(id) === closed) this.streams.delete(id);
      },
      // Viewers' sessions name the node that serves their bytes (and record where they were before).
      onLive: (live) => {
        for (const viewer of live.viewers) this.deps.sessions.moveTo(viewer.session, live.nodeId);
      },
    });
    this.streams.set(id, stream);
    return stream;
  }

  list(): StreamDto[] {
    return [...this.streams.values()].map((s) => s.toDto());
  }

  /** Operator action: end one stream and its viewers. */
  closeStream(id: string): void {
    const stream = this.streams.get(id);
    if (!stream) throw new RelayError('NOT_FOUND', `no live stream with id "${id}"`);
    stream.close('closed by operator');
  }

  closeAll(reason: string): void {
    for (const drain of this.drains.values()) drain.stop();
    this.drains.clear();
    for (const stream of [...this.streams.values()]) stream.close(reason);
    this.merge.release();
  }

  /** A node changed status: disabled moves its streams off at once, draining moves them make-before-break. */
  onNodeStatus(change: NodeStatusChange): void {
    const { nodeId } = change;
    if (change.to === 'draining' && !this.drains.has(nodeId)) {
      const drain = new NodeDrain(nodeId, this.deps.table().config.relay.drainDeadlineMs, () => this.streamsOn(nodeId), this.deps.log.child(`drain ${nodeId}`));
      this.drains.set(nodeId, drain);
      drain.start();
    } else if (change.to !== 'draining') {
      this.drains.get(nodeId)?.stop();
      this.drains.delete(nodeId);
    }
    if (change.to === 'disabled') for (const stream of this.streamsOn(nodeId)) stream.leaveNode(nodeId, 'was disabled');
  }

  /** What is left on a draining node, and why (undefined when it is not draining). */
  drainProgress(nodeId: string): DrainProgressDto | undefined {
    return this.drains.get(nodeId)?.progress();
  }

  private streamsOn(nodeId: string): FlvStream[] {
    return [...this.streams.values()].filter((s) => s.nodeId === nodeId && !s.isClosing);
  }
}
