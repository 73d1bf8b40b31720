/**
 * HLS through the relay (routes of kind "hls"). The relay server hands over every request
 * of an hls proxy route, and the playlist requests of an hls redirect route; segment
 * requests that reach a redirect route are still answered by the plain redirect.
 *
 * Per request: pick the node (the hint of a rewritten URI first, so a stream's segments go
 * to its playlist's node, but a playlist hinted at a draining node goes to the locator when
 * it offers another; else the route's locator), work out the node query (only the
 * node's own pieces a hint vouches for, or the route's streamParams: upstream-query.ts),
 * build the cache key (the node URL, plus any Range), get the object from the cache, a
 * fetch in flight or a new fetch, and deliver it; a playlist is rewritten for this viewer.
 * When the node fails before the viewer got a byte, the next node that can serve the
 * stream is asked the same way (failover.ts), up to hls.maxNodeAttempts nodes.
 */
import type { UpstreamTransport } from '../../upstream/transport.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeConfig, RouteConfig } from '../../../../shared/config.js';
import type { HlsCacheDto, HlsStreamDto } from '../../../../shared/dto.js';
import type { Logger } from '../../core/log.js';
import type { Location, StreamLocator } from '../../upstream/locator.js';
import type { NodeRegistry } from '../../upstream/registry.js';
import { streamKey } from '../../upstream/stream-key.js';
import { RelayError, toRelayError } from '../../core/errors.js';
import { answerRefused } from '../refusal.js';
import { requestFacts, SessionScope } from '../session-scope.js';
import { isEncrypted } from '../tls/redirect.js';
import { admissionOf } from '../viewer-gate.js';
import type { RouteTable } from '../../routing/route-table.js';
import type { Session, SessionFacts, SessionRegistry } from '../sessions.js';
import type { StatsBook } from '../stats.js';
import { nodePath, type RequestTarget } from '../../routing/target.js';
import { HlsCache, type CacheOutcome, type Obtained } from './cache.js';
import { Delivery, type RenderedPlaylist, type Replacement } from './delivery.js';
import { NodeAttempts, shortfallOf, type Shortfall } from './failover.js';
import type { SharedFetch } from './fetch.js';
import { fetchSpec } from './fetch-spec.js';
import { HLS_BLOCKING_PARAMS, HLS_HINT_PARAM, readHint, type StreamHint } from './hint.js';
import { hasAnyParam, pickPieces } from './query.js';
import { playlistTtlMs, renderPlaylist } from './render.js';
import { safeCarryPieces } from './rewrite.js';
import { clientHash, HlsStreamBook, type HlsStreamStats } from './stream-stats.js';
import { upstreamQuery } from './upstream-query.js';

export interface HlsRelayDeps {
  table: () => RouteTable;
  sessions: SessionRegistry;
  stats: StatsBook;
  log: Logger;
  locator: StreamLocator;
  nodes: NodeRegistry;
  /** The engine's upstream transport (upstream/transport.ts): every fetch goes through it. */
  transport: UpstreamTransport;
  /** An upstream failure by error code (passive health checks decide whether it counts). */
  onNodeFault: (nodeId: string, code: string) => void;
}

/** A path the relay treats as a playlist before asking the node (a playlist content type also makes one). */
export const PLAYLIST_PATH = /\.m3u8?$/i;

const carrySets = new WeakMap<readonly string[], ReadonlySet<string>>();
function carrySet(names: readonly string[]): ReadonlySet<string> {
  let set = carrySets.get(names);
  if (!set) {
    set = new Set(names);
    carrySets.set(names, set);
  }
  return set;
}

/** One request, as the handler carries it from node choice to delivery. */
interface HlsRequest {
  req: IncomingMessage;
  res: ServerResponse;
  route: RouteConfig;
  /** The target after viewer auth (credentials removed unless the route passes them on). */
  target: RequestTarget;
  table: RouteTable;
  hint: StreamHint | undefined;
  /** The query sent to the node (upstream-query.ts). */
  upstreamQuery: string;
  /** The part of it the fetch is keyed by (and the locator sees). */
  keyQuery: string;
  /** The viewer's HLS session parameter (viewer-sessions.ts), written into the relay URIs of the playlists it gets. */
  sessionPiece?: string;
}

/** One request's way through its nodes: how to ask a node, and what has been asked so far. */
interface HlsFlow {
  attempts: NodeAttempts;
  /** Ask `node` for the request's object: from the cache, a fetch in flight, or a new fetch. */
  obtain: (node: NodeConfig) => Obtained;
  /** How the fetch being delivered was obtained. */
  outcome: CacheOutcome;
  facts: SessionFacts;
  stream: HlsStreamStats | undefined;
  isPlaylist: boolean;
}

export class HlsRelay {
  readonly cache: HlsCache;
  readonly streams: HlsStreamBook;

  constructor(private readonly deps: HlsRelayDeps) {
    const settings = () => deps.table().config.hls;
    this.streams = new HlsStreamBook(settings);
    this.cache = new HlsCache({
      settings,
      playlistTtlMs: (fetch) => playlistTtlMs(fetch, settings()),
      countIn: (fetch, bytes) => this.countIn(fetch, bytes),
      fault: (fetch, code) => deps.onNodeFault(fetch.spec.nodeId, code),
    });
  }

  /** Whether this handler answers the request: all of a proxy route, playlists (and hinted URIs) of a redirect route. */
  takes(route: RouteConfig, target: RequestTarget): boolean {
    return route.mode === 'proxy' || PLAYLIST_PATH.test(target.path) || (target.query.includes(HLS_HINT_PARAM) && readHint(target.query) !== undefined);
  }

  /** Answer one request of an hls route, once admitted (routing/admission.ts: route, method, viewer auth, stopping, maxSessions). */
  handle(req: IncomingMessage, res: ServerResponse, route: RouteConfig, target: RequestTarget, table: RouteTable, sessionPiece?: string): void {
    try {
      const hint = readHint(target.query);
      const query = upstreamQuery(route, target, hint, carrySet(table.config.hls.carryParams));
      const request: HlsRequest = { req, res, route, target, table, hint, upstreamQuery: query.sent, keyQuery: query.keyed, sessionPiece };
      const hinted = this.hintedNode(table, route, hint);
      // A playlist leaves a draining node when another can serve; segments its playlist named may still come from it.
      const leaving = hinted && PLAYLIST_PATH.test(target.path) && this.deps.nodes.get(hinted.id)?.status === 'draining' ? hinted : undefined;
      if (hinted && !leaving) {
        this.serve(request, this.attempts(request, [hinted], false));
        return;
      }
      const located = leaving ? this.locateOffDraining(request, leaving) : this.locate(request);
      if (!(located instanceof Promise)) {
        this.serve(request, this.attempts(request, located.nodes, true));
        return;
      }
      located.then(
        (location) => {
          if (res.destroyed || req.socket.destroyed) {
            this.deps.stats.countError(route.id, 'CLIENT_CLOSED');
            return;
          }
          try {
            this.serve(request, this.attempts(request, location.nodes, true));
          } catch (error) {
            this.answerError(req, res, route, toRelayError(error));
          }
        },
        (error) => this.answerError(req, res, route, toRelayError(error)),
      );
    } catch (error) {
      this.answerError(req, res, route, toRelayError(error));
    }
  }

  /**
   * The nodes the request may try: after a hinted node the locator is asked when it fails;
   * after the nodes of a "probe" lookup it is asked again (the failed node's location was
   * just forgotten, so a fresh probe may find the stream elsewhere).
   */
  private attempts(request: HlsRequest, nodes: NodeConfig[], located: boolean): NodeAttempts {
    const locate = !located || request.route.locate === 'probe' ? (tried: ReadonlySet<string>) => this.locate(request, tried) : undefined;
    return new NodeAttempts(nodes, { maxAttempts: request.table.config.hls.maxNodeAttempts, method: request.req.method ?? '', located, locate });
  }

  private locate(request: HlsRequest, exclude?: ReadonlySet<string>): Location | Promise<Location> {
    return this.deps.locator.locate(request.table, request.route, { path: request.target.path, query: request.keyQuery }, exclude);
  }

  /** The locator's nodes for a playlist hinted at a draining node; the draining node itself when no other can serve. */
  private locateOffDraining(request: HlsRequest, draining: NodeConfig): Location | Promise<Location> {
    const stay = (error: unknown): Location => {
      if (!(error instanceof RelayError) || error.code !== 'NO_NODE') throw error;
      return { nodes: [draining], locator: request.route.locate, streamKey: '', reason: `node ${draining.id} is draining and no other node can serve` };
    };
    try {
      const located = this.locate(request);
      return located instanceof Promise ? located.catch(stay) : located;
    } catch (error) {
      return stay(error);
    }
  }

  /** The node a hint names, when the route may use it and it still serves (up, or draining for its current viewers). */
  private hintedNode(table: RouteTable, route: RouteConfig, hint: StreamHint | undefined): NodeConfig | undefined {
    if (!hint) return undefined;
    const node = table.node(hint.nodeId);
    if (!node || (route.nodes && !route.nodes.includes(node.id))) return undefined;
    const status = this.deps.nodes.get(node.id)?.status ?? (node.enabled ? 'up' : 'disabled');
    return status === 'up' || status === 'draining' ? node : undefined;
  }

  private serve(request: HlsRequest, attempts: NodeAttempts): void {
    const { req, route, target, table, hint } = request;
    const node = attempts.current;
    const settings = table.config.hls;
    const carryNames = carrySet(settings.carryParams);
    const carried = safeCarryPieces(pickPieces(viewerQuery(req), carryNames));
    const carry = request.sessionPiece ? [...carried, request.sessionPiece] : carried;
    const isPlaylist = PLAYLIST_PATH.test(target.path);
    const pathOnNode = nodePath(route, target.path);
    const stream = (hint && this.streams.get(hint.streamId)) || (isPlaylist ? this.streams.open(route.id, streamKey(pathOnNode), node.id) : undefined);
    const facts = requestFacts(req, route.id, route.mode, node.id, target.path);
    if (stream) {
      if (isPlaylist) stream.nodeId = node.id;
      this.streams.seen(stream, clientHash(`${facts.clientAddress}\n${facts.userAgent}\n${carry.join('&')}`));
    }
    // Only playlists take _HLS_msn/_HLS_part, whatever their path (a rendition report may name "waitForMSN.php").
    const blocking = hasAnyParam(request.upstreamQuery, HLS_BLOCKING_PARAMS);
    const shape = { pathOnNode, isPlaylist, blocking, streamId: stream?.id, clientAddress: facts.clientAddress };
    const obtain = (from: NodeConfig): Obtained => {
      const spec = fetchSpec(request, from, shape, this.deps.transport);
      return blocking ? this.cache.bypass(spec) : this.cache.obtain(spec);
    };
    const first = obtain(node);
    stream?.count(first.outcome, isPlaylist);
    const viewer = { table, route, streamId: stream?.id ?? '', carry, carryNames, foreignUris: settings.foreignUris };
    const flow: HlsFlow = { attempts, obtain, outcome: first.outcome, facts, stream, isPlaylist };
    this.deliver(request, first.fetch, flow, (source) => renderPlaylist(source, viewer));
  }

  /** Open the session and hand the object to the viewer, counting bytes and the end. */
  private deliver(request: HlsRequest, fetch: SharedFetch, flow: HlsFlow, render: (source: SharedFetch) => RenderedPlaylist | Promise<RenderedPlaylist>): void {
    const { req, res } = request;
    const { stream } = flow;
    const scope = new SessionScope(this.deps.sessions, flow.facts, res, this.deps.nodes.get(flow.facts.nodeId), admissionOf(req));
    const session = scope.session;
    const routeStats = session.routeStats;
    const delivery = new Delivery(fetch, res, req.method === 'HEAD', isEncrypted(req), flow.outcome, {
      review: (source) => this.review(request, flow, session, source),
      renderPlaylist: render,
      countOut: (bytes) => {
        session.bytesOut += bytes;
        routeStats.bytesOut += bytes;
        if (session.node) session.node.bytesOut += bytes;
        if (stream) stream.bytesOut += bytes;
      },
      ended: (status, errorCode) => {
        if (stream && errorCode && errorCode !== 'CLIENT_CLOSED') stream.errors += 1;
        scope.close(status, errorCode);
      },
    });
    // A kick cuts the response (the delivery ends with CLIENT_CLOSED); so does a stop, except for a body in hand being written,
    // which goes on to its end while the connections are given relay.shutdownGraceMs.
    scope.ownedBy({
      abort: () => res.destroy(),
      finishGracefully: () => {
        if (!delivery.sendingBody) res.destroy();
      },
    });
    // Segments (and other objects) are paced per viewer at the route's limit, read now; playlists never.
    if (!flow.isPlaylist) delivery.paceAt(request.route.limits.viewerBytesPerSecond);
    delivery.start();
  }

  /** A fetch whose status is known (or that failed) before the viewer got a byte: the next node's fetch instead, an error, or undefined to deliver it. */
  private review(request: HlsRequest, flow: HlsFlow, session: Session, source: SharedFetch): Replacement | Promise<Replacement | undefined> | undefined {
    const why = shortfallOf(source);
    if (!why) return undefined;
    const { attempts } = flow;
    const movingOn = attempts.mayMoveOn(why);
    // The probe's cached location is wrong about a failed node, or about one without the stream when another has it.
    if (why !== 'not-found' || movingOn) this.forgetLocation(request, source.spec.nodeId);
    if (!movingOn) return attempts.finalError(source, why);
    const moveTo = (node: NodeConfig | undefined): Replacement | undefined => {
      if (!node || request.res.destroyed) return attempts.finalError(source, why);
      return this.moveTo(request, flow, session, node, why);
    };
    const next = attempts.advance();
    return next instanceof Promise ? next.then(moveTo) : moveTo(next);
  }

  /** Ask the next node for the request, through the cache (viewers moving on together share one fetch). */
  private moveTo(request: HlsRequest, flow: HlsFlow, session: Session, node: NodeConfig, why: Shortfall): Obtained {
    this.deps.log.debug(`${request.req.method} ${request.target.path}: node ${session.facts.nodeId} fell short (${why}); trying node ${node.id}`);
    const next = flow.obtain(node);
    flow.stream?.recount(flow.outcome, next.outcome);
    flow.outcome = next.outcome;
    if (flow.stream && flow.isPlaylist) flow.stream.nodeId = node.id;
    this.deps.sessions.moveTo(session, node.id);
    session.node = this.deps.nodes.get(node.id);
    return next;
  }

  /** A probed location that named this node for the request's stream is dropped (as a failed FLV pull does). */
  private forgetLocation(request: HlsRequest, nodeId: string): void {
    if (request.route.locate === 'probe') this.deps.locator.forgetLocation(request.route, request.target, nodeId);
  }

  private countIn(fetch: SharedFetch, bytes: number): void {
    this.deps.stats.route(fetch.spec.routeId).bytesIn += bytes;
    const node = this.deps.nodes.get(fetch.spec.nodeId);
    if (node) node.bytesIn += bytes;
    const stream = fetch.spec.streamId ? this.streams.get(fetch.spec.streamId) : undefined;
    if (stream) stream.bytesIn += bytes;
  }

  /** A request refused before it had a session (no node): counted, answered, and in the request log like the relay's own (refusal.ts). */
  private answerError(req: IncomingMessage, res: ServerResponse, route: RouteConfig, error: RelayError): void {
    answerRefused(this.deps, req, res, route, error);
  }

  listStreams(): HlsStreamDto[] {
    return this.streams.list();
  }

  cacheStats(): HlsCacheDto {
    return this.cache.stats();
  }

  close(): void {
    this.cache.close();
  }
}

/** The viewer's own query as sent (before viewer auth removed its credentials). */
function viewerQuery(req: IncomingMessage): string {
  const url = req.url ?? '';
  const at = url.indexOf('?');
  if (at < 0) return '';
  const hash = url.indexOf('#', at);
  return hash < 0 ? url.slice(at) : url.slice(at, hash);
}
