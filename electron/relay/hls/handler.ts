/**
 * HLS through the relay (routes of kind "hls"). The relay server hands over every request
 * of an hls proxy route, and the playlist requests of an hls redirect route; segment
 * requests that reach a redirect route are still answered by the plain redirect.
 *
 * Per request: pick the node (the hint of a rewritten URI first, so a stream's segments go
 * to its playlist's node; else the route's locator), build the cache key (the node URL
 * without the carried auth parameters, plus any Range), get the object from the cache, a
 * fetch in flight or a new fetch, and deliver it; a playlist is rewritten for this viewer.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { NodeConfig, RouteConfig } from '../../../shared/config.js';
import type { HlsCacheDto, HlsStreamDto } from '../../../shared/dto.js';
import type { Logger } from '../../log.js';
import type { StreamLocator } from '../../upstream/locator.js';
import type { NodeRegistry } from '../../upstream/registry.js';
import { streamKey } from '../../upstream/stream-key.js';
import { RelayError, toRelayError } from '../errors.js';
import { upstreamRequestHeaders } from '../headers.js';
import { clientAddress } from '../proxy.js';
import { sendError } from '../respond.js';
import type { RouteTable } from '../route-table.js';
import type { SessionFacts, SessionRegistry } from '../sessions.js';
import type { StatsBook } from '../stats.js';
import { nodeEndpoint, nodePath, type RequestTarget } from '../target.js';
import { HlsCache, type CacheOutcome } from './cache.js';
import { Delivery, type RenderedPlaylist } from './delivery.js';
import type { FetchSpec, SharedFetch } from './fetch.js';
import { HLS_BLOCKING_HEADER_TIMEOUT_MS, HLS_BLOCKING_PARAMS, HLS_HINT_PARAM, readHint, type StreamHint } from './hint.js';
import { hasAnyParam, pickPieces, withoutParams } from './query.js';
import { playlistTtlMs, renderPlaylist } from './render.js';
import { safeCarryPieces } from './rewrite.js';
import { clientHash, HlsStreamBook, type HlsStreamStats } from './stream-stats.js';

export interface HlsRelayDeps {
  table: () => RouteTable;
  sessions: SessionRegistry;
  stats: StatsBook;
  log: Logger;
  locator: StreamLocator;
  nodes: NodeRegistry;
  /** An upstream failure by error code (passive health checks decide whether it counts). */
  onNodeFault: (nodeId: string, code: string) => void;
  /** True once the relay is shutting down. */
  stopping: () => boolean;
}

/** A path the relay treats as a playlist before asking the node (a playlist content type also makes one). */
export const PLAYLIST_PATH = /\.m3u8?$/i;
/** Request headers never sent on a shared fetch: its answer must suit every viewer (Range is keyed and set again). */
const UNSHARED_HEADERS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range', 'accept-encoding', 'cache-control', 'pragma'];
/** Longest Range header that is passed on (and keyed), characters. */
const MAX_RANGE_CHARS = 200;
const HINT_NAMES: ReadonlySet<string> = new Set([HLS_HINT_PARAM]);

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
  /** The query sent to the node: the target's, without the relay's hint. */
  upstreamQuery: string;
}

export class HlsRelay {
  readonly cache: HlsCache;
  readonly streams: HlsStreamBook;

  constructor(private readonly deps: HlsRelayDeps) {
    const settings = () => deps.table().config.hls;
    this.streams = new HlsStreamBook(settings);
    this.cache = new HlsCache({
      settings,
      maxIdleSockets: deps.table().config.relay.maxIdleUpstreamSockets,
      playlistTtlMs: (fetch) => playlistTtlMs(fetch, settings()),
      countIn: (fetch, bytes) => this.countIn(fetch, bytes),
      fault: (fetch, code) => deps.onNodeFault(fetch.spec.nodeId, code),
    });
  }

  /** Whether this handler answers the request: all of a proxy route, playlists (and hinted URIs) of a redirect route. */
  takes(route: RouteConfig, target: RequestTarget): boolean {
    return route.mode === 'proxy' || PLAYLIST_PATH.test(target.path) || (target.query.includes(HLS_HINT_PARAM) && readHint(target.query) !== undefined);
  }

  /** Answer one request of an hls route (after route match, method and viewer auth checks). */
  handle(req: IncomingMessage, res: ServerResponse, route: RouteConfig, target: RequestTarget, table: RouteTable): void {
    try {
      const relay = table.config.relay;
      if (this.deps.stopping()) throw new RelayError('OVERLOADED', 'relay is shutting down');
      if (this.deps.sessions.size >= relay.maxSessions) throw new RelayError('OVERLOADED', `relay is at relay.maxSessions (${relay.maxSessions})`);
      const hint = readHint(target.query);
      const upstreamQuery = withoutParams(target.query, HINT_NAMES);
      const request: HlsRequest = { req, res, route, target, table, hint, upstreamQuery };
      const hinted = this.hintedNode(table, route, hint);
      if (hinted) {
        this.serve(request, hinted);
        return;
      }
      const located = this.deps.locator.locate(table, route, { path: target.path, query: upstreamQuery });
      if (!(located instanceof Promise)) {
        this.serve(request, located.nodes[0]);
        return;
      }
      located.then(
        (location) => {
          if (res.destroyed || req.socket.destroyed) {
            this.deps.stats.countError(route.id, 'CLIENT_CLOSED');
            return;
          }
          try {
            this.serve(request, location.nodes[0]);
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

  /** The node a hint names, when the route may use it and it still serves (up, or draining for its current viewers). */
  private hintedNode(table: RouteTable, route: RouteConfig, hint: StreamHint | undefined): NodeConfig | undefined {
    if (!hint) return undefined;
    const node = table.node(hint.nodeId);
    if (!node || (route.nodes && !route.nodes.includes(node.id))) return undefined;
    const status = this.deps.nodes.get(node.id)?.status ?? (node.enabled ? 'up' : 'disabled');
    return status === 'up' || status === 'draining' ? node : undefined;
  }

  private serve(request: HlsRequest, node: NodeConfig): void {
    const { req, route, target, table, hint } = request;
    const settings = table.config.hls;
    const carryNames = carrySet(settings.carryParams);
    const carry = safeCarryPieces(pickPieces(viewerQuery(req), carryNames));
    const isPlaylist = PLAYLIST_PATH.test(target.path);
    const pathOnNode = nodePath(route, target.path);
    const stream = (hint && this.streams.get(hint.streamId)) || (isPlaylist ? this.streams.open(route.id, streamKey(pathOnNode), node.id) : undefined);
    const facts = {
      routeId: route.id,
      mode: route.mode,
      method: req.method ?? '',
      path: target.path,
      nodeId: node.id,
      clientAddress: clientAddress(req),
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
    };
    if (stream) {
      if (isPlaylist) stream.nodeId = node.id;
      this.streams.seen(stream, clientHash(`${facts.clientAddress}\n${facts.userAgent}\n${carry.join('&')}`));
    }
    // Only playlists take _HLS_msn/_HLS_part, whatever their path (a rendition report may name "waitForMSN.php").
    const blocking = hasAnyParam(request.upstreamQuery, HLS_BLOCKING_PARAMS);
    const spec = this.fetchSpec(request, node, { pathOnNode, carryNames, isPlaylist, blocking, streamId: stream?.id, clientAddress: facts.clientAddress });
    const { fetch, outcome } = blocking ? this.cache.bypass(spec) : this.cache.obtain(spec);
    stream?.count(outcome, isPlaylist);
    const viewer = { table, route, streamId: stream?.id ?? '', carry, carryNames, foreignUris: settings.foreignUris };
    this.deliver(request, fetch, outcome, facts, stream, (source) => renderPlaylist(source, viewer));
  }

  /** What to ask the node, and under which cache key (the node URL without carried auth parameters, plus any Range). */
  private fetchSpec(request: HlsRequest, node: NodeConfig, facts: { pathOnNode: string; carryNames: ReadonlySet<string>; isPlaylist: boolean; blocking: boolean; streamId?: string; clientAddress: string }): FetchSpec {
    const { req, route, table, upstreamQuery } = request;
    const relay = table.config.relay;
    const endpoint = nodeEndpoint(node);
    const range = rangeOf(req);
    return {
      key: `${endpoint.origin}${endpoint.basePath}${facts.pathOnNode}${withoutParams(upstreamQuery, facts.carryNames)}${range ? `\nrange=${range}` : ''}`,
      kind: facts.isPlaylist ? 'playlist' : 'segment',
      endpoint,
      nodeId: node.id,
      path: endpoint.basePath + facts.pathOnNode + upstreamQuery,
      headers: () => sharedFetchHeaders(req, endpoint.host, facts.clientAddress, range),
      timeouts: facts.blocking ? { ...relay, headerTimeoutMs: Math.max(relay.headerTimeoutMs, HLS_BLOCKING_HEADER_TIMEOUT_MS) } : relay,
      agent: endpoint.protocol === 'https:' ? this.cache.agents.https : this.cache.agents.http,
      playlistMaxBytes: table.config.hls.playlistMaxBytes,
      objectMaxBytes: table.config.hls.segmentMaxBytes,
      streamId: facts.streamId,
      routeId: route.id,
    };
  }

  /** Open the session and hand the object to the viewer, counting bytes and the end. */
  private deliver(request: HlsRequest, fetch: SharedFetch, outcome: CacheOutcome, facts: SessionFacts, stream: HlsStreamStats | undefined, render: (source: SharedFetch) => RenderedPlaylist): void {
    const { req, res, route } = request;
    const routeStats = this.deps.stats.route(route.id);
    routeStats.proxied += 1;
    routeStats.active += 1;
    const session = this.deps.sessions.open(facts);
    const nodeState = this.deps.nodes.get(facts.nodeId);
    session.node = nodeState;
    session.abort = () => res.destroy();
    session.finishGracefully = () => res.destroy();
    const delivery = new Delivery(fetch, res, req.method === 'HEAD', outcome.toUpperCase(), {
      renderPlaylist: render,
      countOut: (bytes) => {
        session.bytesOut += bytes;
        routeStats.bytesOut += bytes;
        if (nodeState) nodeState.bytesOut += bytes;
        if (stream) stream.bytesOut += bytes;
      },
      ended: (status, errorCode) => {
        routeStats.active -= 1;
        if (stream && errorCode && errorCode !== 'CLIENT_CLOSED') stream.errors += 1;
        this.deps.sessions.close(session, status, errorCode);
      },
    });
    delivery.start();
  }

  private countIn(fetch: SharedFetch, bytes: number): void {
    this.deps.stats.route(fetch.spec.routeId).bytesIn += bytes;
    const node = this.deps.nodes.get(fetch.spec.nodeId);
    if (node) node.bytesIn += bytes;
    const stream = fetch.spec.streamId ? this.streams.get(fetch.spec.streamId) : undefined;
    if (stream) stream.bytesIn += bytes;
  }

  /** A request refused before it had a session (no node, overloaded): counted, answered, and in the request log like the relay's own. */
  private answerError(req: IncomingMessage, res: ServerResponse, route: RouteConfig, error: RelayError): void {
    this.deps.stats.countError(route.id, error.code);
    if (error.code === 'INTERNAL') this.deps.log.error(`${req.method} ${req.url}: ${error.message}`);
    sendError(res, error);
    const path = (req.url ?? '').split('?')[0].slice(0, 1024);
    const facts = { routeId: route.id, mode: route.mode, method: req.method ?? '', path, nodeId: '', clientAddress: clientAddress(req), userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256) };
    this.deps.sessions.logAnswered(facts, error.status, Date.now(), error.code);
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

/** A single Range header, when short enough to key on. */
function rangeOf(req: IncomingMessage): string | undefined {
  const range = req.headers.range;
  return typeof range === 'string' && range.length <= MAX_RANGE_CHARS ? range : undefined;
}

function sharedFetchHeaders(req: IncomingMessage, nodeHost: string, address: string, range: string | undefined): OutgoingHttpHeaders {
  const headers = upstreamRequestHeaders(req.headers, { clientAddress: address, protocol: 'http', originalHost: req.headers.host, nodeHost });
  for (const name of UNSHARED_HEADERS) delete headers[name];
  headers['accept-encoding'] = 'identity';
  if (range) headers.range = range;
  return headers;
}

