/**
 * The viewer-facing relay server: matches the route, picks the node, then answers a
 * redirect or streams the node's response. The route table is read per request, so a
 * config change applies from the next request while requests in flight continue.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../core/net/listen.js';
import type { AddressInfo, Socket } from 'node:net';
import type { RouteConfig } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import { FlvHub } from './flv/hub.js';
import { HlsRelay } from './hls/handler.js';
import { ERROR_STATUS, errorBody, isNodeFault, RelayError, toRelayError, type ErrorCode } from '../core/errors.js';
import { admit, STREAM_METHODS, type AdmissionContext, type Refused } from '../routing/admission.js';
import type { PauseState } from '../routing/pause-switch.js';
import { ProxyExchange } from './exchange.js';
import type { Location, StreamLocator } from '../upstream/locator.js';
import type { NodeRegistry } from '../upstream/registry.js';
import { checkViewerAuth, viewerAddress } from './auth/viewer-auth.js';
import { proxyNative, rememberViewerAddress, type ProxyJob } from './proxy.js';
import type { UpstreamTransport } from '../upstream/transport.js';
import { createHttpProxy3, proxyWithHttpProxy3 } from './proxy-http-proxy3.js';
import { sendRedirect } from './respond.js';
import { answerRefused } from './refusal.js';
import { requestFacts, SessionScope } from './session-scope.js';
import { answerPreflight, corsHeaders, isPreflight } from './cors.js';
import { answerProbe } from './probes.js';
import { checkFraming } from './framing.js';
import type { RouteTable } from '../routing/route-table.js';
import type { SessionFacts, SessionRegistry } from './sessions.js';
import type { StatsBook } from './stats.js';
import { parseRequestTarget, upstreamTarget, type RequestTarget, type UpstreamTarget } from '../routing/target.js';

export interface RelayServerDeps {
  /** The current route table (swapped on every config change). */
  table: () => RouteTable;
  sessions: SessionRegistry;
  stats: StatsBook;
  log: Logger;
  /** Finds the node(s) for a request (health-aware; see electron/engine/upstream/locator.ts). */
  locator: StreamLocator;
  /** Live node state: passive failures and traffic are counted there. */
  nodes: NodeRegistry;
  /** The operator's pause (routing/pause-switch.ts): admission refuses new requests while it is on. */
  pause: PauseState;
  /** The engine's upstream transport (upstream/transport.ts): proxied requests, FLV pulls and HLS fetches go through it. */
  transport: UpstreamTransport;
}

export class RelayServer {
  private readonly server: http.Server;
  private readonly httpProxy3 = createHttpProxy3();
  /** Live FLV fan-out streams (flv routes in proxy mode with fanout on). */
  readonly hub: FlvHub;
  /** HLS through the relay: playlist rewriting, segment cache, coalescing (hls routes). */
  readonly hls: HlsRelay;
  private stopping = false;
  /** What admission reads of the relay (routing/admission.ts). */
  private readonly admission: AdmissionContext;

  constructor(private readonly deps: RelayServerDeps) {
    const settings = deps.table().config.relay;
    this.hub = new FlvHub({
      table: deps.table,
      sessions: deps.sessions,
      stats: deps.stats,
      log: deps.log,
      locator: deps.locator,
      nodes: deps.nodes,
      transport: deps.transport,
      onNodeFault: (nodeId, code) => this.nodeFault(nodeId, code),
    });
    this.hls = new HlsRelay({ ...deps, log: deps.log.child('hls'), onNodeFault: (nodeId, code) => this.nodeFault(nodeId, code) });
    this.admission = {
      pause: deps.pause,
      stopping: () => this.stopping,
      liveSessions: () => deps.sessions.size,
      opensSession: (route, target) => route.mode === 'proxy' || (route.kind === 'hls' && this.hls.takes(route, target)),
      checkViewer: checkViewerAuth,
    };
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
    this.server.on('connect', (_req: IncomingMessage, socket: Socket) =>
      writeRawError(socket, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported', 'allow: GET, HEAD\r\n'),
    );
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
  }

  /** Why new requests would be refused now (readiness probe), or undefined when ready. */
  private unready(): string | undefined {
    if (this.stopping) return 'stopping';
    if (!this.server.listening) return 'not listening';
    if (this.deps.pause.paused) return 'the relay is paused by the operator';
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
    if (answerProbe(req, res, this.deps.table().config.relay, () => this.unready())) return;
    try {
      const table = this.deps.table();
      const viewer = viewerAddress(req, table.config.relay.trustedProxies);
      const facts = {
        target: parseRequestTarget(req.url),
        method: req.method ?? '',
        headerCount: req.rawHeaders.length / 2,
        viewerAddress: viewer,
        preflight: isPreflight(req),
      };
      rememberViewerAddress(req, viewer);
      const admission = admit(table, facts, this.admission);
      if (!admission.admitted) return this.refuse(req, res, admission);
      route = admission.route;
      const target = admission.target;
      // CORS preflights are the relay's to answer, never the node's (cors.ts); file routes pass any method.
      if (admission.preflight) return answerPreflight(req, res, route.kind === 'file' ? 'any' : [...STREAM_METHODS]);
      const routeStats = this.deps.stats.route(route.id);
      routeStats.requests += 1;
      if (admission.tokenLabel) routeStats.tokens[admission.tokenLabel] = (routeStats.tokens[admission.tokenLabel] ?? 0) + 1;
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

  /** A request admission refused: counted against its route once the route's own checks passed (admission.ts). */
  private refuse(req: IncomingMessage, res: ServerResponse, refused: Refused): void {
    if (refused.route && refused.rule !== 'route') this.deps.stats.route(refused.route.id).requests += 1;
    for (const [name, value] of Object.entries(refused.headers ?? {})) res.setHeader(name, value);
    this.answerError(req, res, refused.route, refused.error);
  }

  /** After an asynchronous lookup: the viewer may have left meanwhile. */
  private dispatchLocated(req: IncomingMessage, res: ServerResponse, route: RouteConfig, target: RequestTarget, table: RouteTable, location: Location): void {
    if (res.destroyed || req.socket.destroyed) {
      this.deps.stats.countError(route.id, 'CLIENT_CLOSED');
      return;
    }
    try {
      // Shutdown began during the lookup: a session opened now would miss the graceful finish.
      if (this.stopping && route.mode === 'proxy') throw new RelayError('OVERLOADED', 'relay is shutting down');
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

  private proxy(
    req: IncomingMessage,
    res: ServerResponse,
    route: RouteConfig,
    nodeId: string,
    upstream: UpstreamTarget,
    target: RequestTarget,
    table: RouteTable,
    location: Location,
  ): void {
    const settings = table.config.relay;
    if (route.kind === 'flv' && route.fanout && req.method === 'GET') {
      this.hub.join(req, res, route, target, this.requestFacts(req, route, nodeId, target), location);
      return;
    }
    const scope = new SessionScope(this.deps.sessions, this.requestFacts(req, route, nodeId, target), res, this.deps.nodes.get(nodeId));
    const exchange = new ProxyExchange(req, res, scope.session, settings, this.deps.log.child(route.id), (code) => this.nodeFault(nodeId, code));
    scope.ownedBy(exchange);
    const job: ProxyJob = {
      exchange,
      target: upstream,
      transport: this.deps.transport,
      viewerProtocol: 'http',
      live: route.kind !== 'file',
      redirects: { table, route },
    };
    if (settings.proxyEngine === 'http-proxy-3') proxyWithHttpProxy3(this.httpProxy3, job);
    else proxyNative(job);
  }

  private requestFacts(req: IncomingMessage, route: RouteConfig, nodeId: string, target: RequestTarget): SessionFacts {
    return requestFacts(req, route.id, route.mode, nodeId, target.path);
  }

  private answerError(req: IncomingMessage, res: ServerResponse, route: RouteConfig | undefined, error: RelayError): void {
    answerRefused(this.deps, req, res, route, error);
  }
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
  const cors = Object.entries(corsHeaders())
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${cors}${extraHeaders}connection: close\r\n\r\n${body}`,
  );
}
