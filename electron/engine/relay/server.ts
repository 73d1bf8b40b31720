/**
 * The viewer-facing relay server: matches the route, picks the node, then answers a
 * redirect or streams the node's response. The route table is read per request, so a
 * config change applies from the next request while requests in flight continue.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../core/net/listen.js';
import type { AddressInfo, Socket } from 'node:net';
import type { RouteConfig, RouteMode } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import { FlvHub } from './flv/hub.js';
import { HlsRelay } from './hls/handler.js';
import { ERROR_STATUS, errorBody, isNodeFault, RelayError, toRelayError, type ErrorCode } from '../core/errors.js';
import { ProxyExchange } from './exchange.js';
import type { Location, StreamLocator } from '../upstream/locator.js';
import type { NodeRegistry } from '../upstream/registry.js';
import { checkViewerAuth, viewerAddress } from './auth/viewer-auth.js';
import { clientAddress, createUpstreamAgents, proxyNative, rememberViewerAddress, type ProxyJob, type UpstreamAgents } from './proxy.js';
import { createHttpProxy3, proxyWithHttpProxy3 } from './proxy-http-proxy3.js';
import { sendError, sendRedirect } from './respond.js';
import { answerPreflight, corsHeaders, isPreflight } from './cors.js';
import { answerProbe } from './probes.js';
import { checkFraming } from './framing.js';
import type { RouteTable } from '../routing/route-table.js';
import type { SessionFacts, SessionRegistry } from './sessions.js';
import { UNROUTED, type StatsBook } from './stats.js';
import { checkLenientRoute, checkRouteTarget, parseRequestTarget, upstreamTarget, type RequestTarget, type UpstreamTarget } from '../routing/target.js';

/** Methods a stream route (flv, hls) accepts; file routes pass any method through. */
const STREAM_METHODS = new Set(['GET', 'HEAD']);

export interface RelayServerDeps {
  /** The current route table (swapped on every config change). */
  table: () => RouteTable;
  sessions: SessionRegistry;
  stats: StatsBook;
  log: Logger;
  /** Finds the node(s) for a request (health-aware; see electron/upstream/locator.ts). */
  locator: StreamLocator;
  /** Live node state: passive failures and traffic are counted there. */
  nodes: NodeRegistry;
}

export class RelayServer {
  private readonly server: http.Server;
  private readonly agents: UpstreamAgents;
  private readonly httpProxy3 = createHttpProxy3();
  /** Live FLV fan-out streams (flv routes in proxy mode with fanout on). */
  readonly hub: FlvHub;
  /** HLS through the relay: playlist rewriting, segment cache, coalescing (hls routes). */
  readonly hls: HlsRelay;
  private stopping = false;

  constructor(private readonly deps: RelayServerDeps) {
    const settings = deps.table().config.relay;
    this.agents = createUpstreamAgents(settings.maxIdleUpstreamSockets);
    this.hub = new FlvHub({ table: deps.table, sessions: deps.sessions, stats: deps.stats, log: deps.log, locator: deps.locator, nodes: deps.nodes, onNodeFault: (nodeId, code) => this.nodeFault(nodeId, code) });
    this.hls = new HlsRelay({ ...deps, log: deps.log.child('hls'), onNodeFault: (nodeId, code) => this.nodeFault(nodeId, code), stopping: () => this.stopping });
    this.server = http.createServer(
      {
        noDelay: true,
        maxHeaderSize: settings.maxHeaderBytes,
        // Slowloris: the whole request head within headerReadTimeoutMs, checked often enough to answer in time.
        headersTimeout: settings.headerReadTimeoutMs,
        requestTimeout: 0,
        connectionsCheckingInterval: Math.min(1_000, settings.headerReadTimeoutMs),
        // A missing Host is refused by checkFraming (framing.ts) with a JSON body, unlike Node's bare 400.
        requireHostHeader: false,
      },
      (req, res) => this.handle(req, res),
    );
    // One more than allowed, so an excess is seen (Node drops header fields past this count).
    this.server.maxHeadersCount = settings.maxHeaderCount + 1;
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
    // CONNECT (tunnels) goes to no route: answered 405 here, where Node would close the socket unanswered.
    this.server.on('connect', (_req: IncomingMessage, socket: Socket) => writeRawError(socket, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported', 'allow: GET, HEAD\r\n'));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port, this.deps.table().config.relay.listenBacklog);
  }

  /** Stop accepting, end streams cleanly, and cut whatever is left after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    for (const session of this.deps.sessions.all()) session.finishGracefully();
    this.hub.closeAll('relay stopping');
    this.hls.close();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** Why new requests would be refused now (readiness probe), or undefined when ready. */
  private unready(table: RouteTable): string | undefined {
    if (this.stopping) return 'stopping';
    if (!this.server.listening) return 'not listening';
    try {
      table.match('/'); // a gated table (live/pause-gate.ts) refuses while paused
    } catch (error) {
      return error instanceof RelayError ? error.message : 'route table unavailable';
    }
    return undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let route: RouteConfig | undefined;
    // Framing first (request smuggling, framing.ts): a refused request's connection is closed, so no byte of it is read as another request.
    try {
      checkFraming(req);
    } catch (error) {
      res.shouldKeepAlive = false;
      return this.answerError(req, res, undefined, toRelayError(error));
    }
    // Health probes before any routing: cheap, outside routes, stats and the request log (probes.ts).
    if (answerProbe(req, res, this.deps.table().config.relay, () => this.unready(this.deps.table()))) return;
    try {
      const table = this.deps.table();
      let target = parseRequestTarget(req.url);
      route = table.match(target.path);
      if (!route) throw new RelayError('NO_ROUTE', `no route matches ${target.path}`);
      checkRouteTarget(route, target);
      checkLenientRoute(table.config.routes, route, target);
      // CORS preflights are the relay's to answer, never the node's (cors.ts); file routes pass any method.
      if (isPreflight(req)) return answerPreflight(req, res, route.kind === 'file' ? 'any' : [...STREAM_METHODS]);
      const routeStats = this.deps.stats.route(route.id);
      routeStats.requests += 1;
      const settings = table.config.relay;
      if (req.rawHeaders.length / 2 > settings.maxHeaderCount) {
        throw new RelayError('HEADERS_TOO_LARGE', `more than relay.maxHeaderCount (${settings.maxHeaderCount}) header fields`);
      }
      if (route.kind !== 'file' && !STREAM_METHODS.has(req.method ?? '')) {
        res.setHeader('allow', 'GET, HEAD');
        throw new RelayError('METHOD_NOT_ALLOWED', `method ${req.method} is not allowed on ${route.kind} route "${route.id}"`);
      }
      const viewer = viewerAddress(req, settings.trustedProxies);
      rememberViewerAddress(req, viewer);
      const auth = checkViewerAuth(route, target, viewer);
      if (auth.tokenLabel) routeStats.tokens[auth.tokenLabel] = (routeStats.tokens[auth.tokenLabel] ?? 0) + 1;
      if (auth.query !== target.query) target = { path: target.path, query: auth.query };
      if (route.kind === 'hls' && this.hls.takes(route, target)) return this.hls.handle(req, res, route, target, table);
      const located = this.deps.locator.locate(table, route, target);
      const found = route;
      if (located instanceof Promise) {
        located.then(
          (location) => this.dispatchLocated(req, res, found, target, table, location),
          (error) => this.answerError(req, res, found, toRelayError(error)),
        );
      } else {
        this.dispatch(req, res, route, target, table, located);
      }
    } catch (error) {
      this.answerError(req, res, route, toRelayError(error));
    }
  }

  /** After an asynchronous lookup: the viewer may have left meanwhile. */
  private dispatchLocated(req: IncomingMessage, res: ServerResponse, route: RouteConfig, target: RequestTarget, table: RouteTable, location: Location): void {
    if (res.destroyed || req.socket.destroyed) {
      this.deps.stats.countError(route.id, 'CLIENT_CLOSED');
      return;
    }
    try {
      this.dispatch(req, res, route, target, table, location);
    } catch (error) {
      this.answerError(req, res, route, toRelayError(error));
    }
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, route: RouteConfig, target: RequestTarget, table: RouteTable, location: Location): void {
    const node = location.nodes[0];
    const upstream = upstreamTarget(node, route, target);
    if (route.mode === 'redirect') this.redirect(req, res, route, node.id, upstream, target);
    else this.proxy(req, res, route, node.id, upstream, target, table, location);
  }

  /** A failure that is the node's fault (errors.ts isNodeFault) counts against it (passive health check). */
  private nodeFault(nodeId: string, code: string): void {
    if (isNodeFault(code)) this.deps.nodes.recordFailure(nodeId, code);
  }

  private redirect(req: IncomingMessage, res: ServerResponse, route: RouteConfig, nodeId: string, upstream: UpstreamTarget, target: RequestTarget): void {
    this.deps.stats.route(route.id).redirects += 1;
    sendRedirect(res, route.status, upstream.href);
    this.deps.sessions.logAnswered(this.requestFacts(req, route, nodeId, target), route.status, Date.now());
  }

  private proxy(req: IncomingMessage, res: ServerResponse, route: RouteConfig, nodeId: string, upstream: UpstreamTarget, target: RequestTarget, table: RouteTable, location: Location): void {
    const settings = table.config.relay;
    if (this.stopping) throw new RelayError('OVERLOADED', 'relay is shutting down');
    if (this.deps.sessions.size >= settings.maxSessions) {
      throw new RelayError('OVERLOADED', `relay is at relay.maxSessions (${settings.maxSessions})`);
    }
    if (route.kind === 'flv' && route.fanout && req.method === 'GET') {
      this.hub.join(req, res, route, target, this.requestFacts(req, route, nodeId, target), location);
      return;
    }
    const routeStats = this.deps.stats.route(route.id);
    routeStats.proxied += 1;
    routeStats.active += 1;
    const session = this.deps.sessions.open(this.requestFacts(req, route, nodeId, target));
    session.node = this.deps.nodes.get(nodeId);
    const exchange = new ProxyExchange(req, res, session, this.deps.sessions, settings, this.deps.log.child(route.id), (code) => this.nodeFault(nodeId, code));
    const job: ProxyJob = { exchange, target: upstream, agents: this.agents, viewerProtocol: 'http', live: route.kind !== 'file', redirects: { table, route } };
    if (settings.proxyEngine === 'http-proxy-3') proxyWithHttpProxy3(this.httpProxy3, job);
    else proxyNative(job);
  }

  private requestFacts(req: IncomingMessage, route: RouteConfig, nodeId: string, target: RequestTarget): SessionFacts {
    return requestFacts(req, route.id, route.mode, nodeId, target.path);
  }

  private answerError(req: IncomingMessage, res: ServerResponse, route: RouteConfig | undefined, error: RelayError): void {
    const routeId = route?.id ?? UNROUTED;
    if (!route) this.deps.stats.route(UNROUTED).requests += 1;
    this.deps.stats.countError(routeId, error.code);
    if (error.code === 'INTERNAL') this.deps.log.error(`${req.method} ${req.url}: ${error.message}`);
    sendError(res, error);
    // Refused requests show in the request log too (path only: the query may hold credentials).
    const path = (req.url ?? '').split('?')[0].slice(0, 1024);
    this.deps.sessions.logAnswered(requestFacts(req, routeId, route?.mode ?? 'proxy', '', path), error.status, Date.now(), error.code);
  }
}

/** What the sessions API and the request log show of a request (the path without its query). */
function requestFacts(req: IncomingMessage, routeId: string, mode: RouteMode, nodeId: string, path: string): SessionFacts {
  return {
    routeId,
    mode,
    method: req.method ?? '',
    path,
    nodeId,
    clientAddress: clientAddress(req),
    userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
  };
}

/** True when the rejected bytes start like a request line ("BREW /x HTTP/1.1"), not like binary garbage. */
function looksLikeRequestLine(error: NodeJS.ErrnoException): boolean {
  const raw = (error as { rawPacket?: Buffer }).rawPacket;
  return raw !== undefined && /^[A-Z][A-Z-]{0,31} \/[\x21-\x7e]* HTTP\/1\.[01]\r\n/.test(raw.subarray(0, 2048).toString('latin1'));
}

/**
 * Malformed requests rejected by Node's parser (also a bad chunk in a body being forwarded) get
 * a JSON answer, then the socket closes. Once a response on the socket has started, nothing
 * may be written between its bytes (the answer would be read as part of it): the socket is
 * only closed, as Node's own default does.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
  if (!socket.writable || error.code === 'ECONNRESET' || inFlight?._headerSent) {
    socket.destroy();
    return;
  }
  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? 'HEADERS_TOO_LARGE'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? 'REQUEST_TIMEOUT'
        : error.code === 'HPE_INVALID_METHOD' && looksLikeRequestLine(error)
          ? 'METHOD_NOT_ALLOWED' // a well-formed but unknown method is allowed on no route
          : 'BAD_REQUEST';
  const reason = (error as { reason?: string }).reason;
  writeRawError(socket, code, `malformed request: ${error.code ?? error.message}${reason ? ` (${reason})` : ''}`);
  // A response not started yet must never follow: cut the socket (its exchange sees the viewer leave).
  if (inFlight) socket.destroy();
}

/** A JSON error written straight to a socket no response object owns, then the socket closes. */
function writeRawError(socket: Socket, code: ErrorCode, message: string, extraHeaders = ''): void {
  const status = ERROR_STATUS[code];
  const text = http.STATUS_CODES[status] ?? 'Error';
  const body = JSON.stringify(errorBody(code, message));
  const cors = Object.entries(corsHeaders()).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${cors}${extraHeaders}connection: close\r\n\r\n${body}`);
}
