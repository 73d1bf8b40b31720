/**
 * All live FLV streams of a relay, keyed by route and upstream path: viewers of the same
 * stream share one FlvStream (one upstream pull). Bounded by flv.maxStreams; a stream is
 * removed the moment it closes.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteConfig } from '../../../shared/config.js';
import type { StreamDto } from '../../../shared/dto.js';
import type { Logger } from '../../log.js';
import { RelayError } from '../errors.js';
import type { Location, StreamLocator } from '../../upstream/locator.js';
import type { NodeRegistry } from '../../upstream/registry.js';
import type { RouteTable } from '../route-table.js';
import type { SessionFacts, SessionRegistry } from '../sessions.js';
import type { StatsBook } from '../stats.js';
import { upstreamUrl, type RequestTarget } from '../target.js';
import { FlvStream } from './stream.js';
import { FlvViewer } from './viewer.js';

export interface FlvHubDeps {
  table: () => RouteTable;
  sessions: SessionRegistry;
  stats: StatsBook;
  log: Logger;
  locator: StreamLocator;
  nodes: NodeRegistry;
  /** An upstream failure of a pull, by error code (passive health, probe cache). */
  onNodeFault: (nodeId: string, code: string) => void;
}

/** Opaque, URL-safe stream id (the upstream query may hold credentials, so it is hashed). */
function streamId(route: RouteConfig, target: RequestTarget): string {
  const digest = createHash('sha256').update(`${route.id}\n${target.path}${target.query}`).digest('base64url').slice(0, 16);
  return digest;
}

export class FlvHub {
  private readonly streams = new Map<string, FlvStream>();

  constructor(private readonly deps: FlvHubDeps) {}

  get size(): number {
    return this.streams.size;
  }

  /** Attach a viewer to its stream, opening the stream (and its pull) when it is the first. */
  join(req: IncomingMessage, res: ServerResponse, route: RouteConfig, target: RequestTarget, facts: SessionFacts, location: Location): void {
    const id = streamId(route, target);
    let stream = this.streams.get(id);
    const table = this.deps.table();
    if (!stream) {
      if (this.streams.size >= table.config.flv.maxStreams) throw new RelayError('OVERLOADED', `relay is at flv.maxStreams (${table.config.flv.maxStreams})`);
      stream = this.openStream(id, route, target, location);
    }
    const session = this.deps.sessions.open({ ...facts, nodeId: stream.nodeId || facts.nodeId });
    session.streamId = id;
    session.framesDropped = 0;
    const routeStats = session.routeStats;
    routeStats.proxied += 1;
    routeStats.active += 1;
    const flv = table.config.flv;
    const owner = stream;
    const viewer = new FlvViewer(req, res, session, { queueMaxBytes: flv.viewerQueueMaxBytes, slowTimeoutMs: flv.slowViewerTimeoutMs }, this.deps.log.child(route.id), (v) => owner.removeViewer(v));
    viewer.closeSession = (status, errorCode) => this.deps.sessions.close(session, status, errorCode);
    session.abort = () => viewer.close('KICKED');
    session.finishGracefully = () => viewer.close('END');
    stream.addViewer(viewer);
  }

  private openStream(id: string, route: RouteConfig, target: RequestTarget, first: Location): FlvStream {
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
        if (this.streams.get(id) === closed) this.streams.delete(id);
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
    for (const stream of [...this.streams.values()]) stream.close(reason);
  }
}
