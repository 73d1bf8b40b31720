/**
 * The viewer-facing relay server: matches the route, picks the node, then answers a
 * redirect or streams the node's response. The route table is read per request, so a
 * config change applies from the next request while requests in flight continue.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type http2 from 'node:http2';
import { listenOn } from '../core/net/listen.js';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RouteConfig } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import { FlvHub } from './flv/hub.js';
import { HttpFlvOutput } from './flv/http-output.js';
import type { FlvOutput } from './flv/viewer.js';
import { FlvWebSockets, WsFlvOutput } from './flv/ws-output.js';
import {
  asksForWebSocket,
  heldSocketOf,
  HeldSocket,
  isWebSocket,
  markWebSocket,
  responseOnSocket,
  webSocketHandshakeError,
  webSocketOriginRefusal,
  webSocketRefusal,
} from './upgrade.js';
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
import { answerPreflight, applyCors, corsHeaders, isPreflight } from './cors.js';
import { answerProbe } from './probes.js';
import { NodeHooks, type StreamRegistrySink } from './node-hooks.js';
import { checkFraming } from './framing.js';
import type { CertificateStore } from './tls/certificates.js';
import { httpsLocation, isAcmeChallenge, isEncrypted } from './tls/redirect.js';
import { alpnWhileChallenged, closeAcmeAlpnConnections, type AcmeAlpnCertificates } from './tls/acme-alpn.js';
import { answerAcmeChallenge, type AcmeChallenges } from './tls/acme-challenges.js';
import { alpnProtocols, tlsServerOptions } from './tls/server-options.js';
import type { Http2Listener } from './http2/listener.js';
import type { RouteTable } from '../routing/route-table.js';
import { AdmissionWebhooks } from './auth/webhook.js';
import { StopNotifier } from './auth/webhook-stop.js';
import { HlsViewerSessions } from './hls/viewer-sessions.js';
import { admissionOf, gated, keepLabel, releaseUnopened, ViewerGate, type Vouch } from './viewer-gate.js';
import { JwtVerifier, type JwtPass } from './auth/jwt.js';
import { streamKey as streamKeyOf } from '../upstream/stream-key.js';
import type { Admitted } from '../routing/admission.js';
import { AddressConnections, ViewerCounts } from './viewer-limits.js';
import { peerAddress } from '../core/net/address.js';
import type { SessionFacts, SessionRegistry } from './sessions.js';
import type { StatsBook } from './stats.js';
import { nodePath, parseRequestTarget, upstreamTarget, type RequestTarget, type UpstreamTarget } from '../routing/target.js';

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
  /** HTTP-01 tokens of the ACME order in flight (tls.acme): answered before routing while ACME is on. */
  acmeChallenges?: AcmeChallenges;
  /** TLS-ALPN-01 certificates of the ACME order in flight (tls.acme.challenge): answered by the HTTPS listener's handshake. */
  acmeAlpn?: AcmeAlpnCertificates;
  /** Where node publish hooks (node-hooks.ts, the reserved /_relaydeck/hooks/ prefix) are recorded: the stream registry; undefined answers them 503. */
  hookSink?: () => StreamRegistrySink | undefined;
}

export class RelayServer {
  private readonly server: http.Server;
  private readonly httpProxy3 = createHttpProxy3();
  /** Live FLV fan-out streams (flv routes in proxy mode with fanout on). */
  readonly hub: FlvHub;
  /** HLS through the relay: playlist rewriting, segment cache, coalescing (hls routes). */
  readonly hls: HlsRelay;
  private stopping = false;
  /** The HTTPS listener (tls section), once started: with HTTP/2 (tls.http2) or HTTP/1.1 only. */
  private tlsServer: https.Server | http2.Http2SecureServer | undefined;
  /** The HTTPS listener's connections and HTTP/2 sessions, when it offers HTTP/2 (http2/listener.ts). */
  private http2: Http2Listener | undefined;
  /** What admission reads of the relay (routing/admission.ts). */
  private readonly admission: AdmissionContext;
  /** WebSocket-FLV handshakes of every listener complete here (flv/ws-output.ts). */
  private readonly webSockets = new FlvWebSockets();
  /** Sockets handed over by an upgrade, until they close: no server tracks them any more, so close() cuts them after its grace. */
  private readonly upgradedSockets = new Set<Socket>();
  /** Viewers per route and stream, against routes[].limits (viewer-limits.ts). */
  readonly viewers = new ViewerCounts();
  /** Open connections per client address, against relay.maxConnectionsPerAddress. */
  readonly addresses: AddressConnections;
  /** Admission webhooks (routes[].auth.webhook) and their end-of-session calls. */
  readonly webhooks: AdmissionWebhooks;
  readonly stops: StopNotifier;
  /** HLS viewer sessions of routes with a webhook or viewer caps (hls/viewer-sessions.ts). */
  readonly hlsSessions: HlsViewerSessions;
  /** Webhook and viewer caps, after the request rules (viewer-gate.ts). */
  private readonly gate: ViewerGate;
  /** JWT viewer tokens (routes[].auth.jwt), verified after the request rules. */
  readonly jwt: JwtVerifier;
  /** Node publish hooks under /_relaydeck/hooks/ (node-hooks.ts), answered before routing. */
  readonly nodeHooks: NodeHooks;

  constructor(private readonly deps: RelayServerDeps) {
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
    const config = () => deps.table().config;
    this.addresses = new AddressConnections(() => config().relay.addressLimitIpv6Prefix);
    this.webhooks = new AdmissionWebhooks(() => config().webhooks, deps.log.child('webhook'));
    this.stops = new StopNotifier(() => config().webhooks, this.webhooks.agents, deps.log.child('webhook'));
    this.hlsSessions = new HlsViewerSessions(() => config().hls);
    this.jwt = new JwtVerifier({ log: deps.log.child('jwt') });
    this.nodeHooks = new NodeHooks({ nodes: () => config().nodes, sink: () => deps.hookSink?.(), log: deps.log.child('hooks') });
    this.gate = new ViewerGate({ webhooks: this.webhooks, stops: this.stops, viewers: this.viewers, hlsSessions: this.hlsSessions });
    this.server = http.createServer(this.viewerServerOptions(), (req, res) => this.handle(req, res));
    this.configure(this.server);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
  }

  /** Options both listeners share: the viewer-side limits of the relay section. */
  private viewerServerOptions(): http.ServerOptions {
    const settings = this.deps.table().config.relay;
    return {
      noDelay: true,
      maxHeaderSize: settings.maxHeaderBytes,
      // Slowloris: the whole request head within headerReadTimeoutMs, checked often enough to answer in time.
      headersTimeout: settings.headerReadTimeoutMs,
      requestTimeout: 0,
      connectionsCheckingInterval: Math.min(1_000, settings.headerReadTimeoutMs),
      // A missing Host is refused by checkFraming (framing.ts) with a JSON body, unlike Node's bare 400.
      requireHostHeader: false,
    };
  }

  /** What every listener does besides requests: header count, malformed requests, CONNECT. */
  private configure(server: http.Server | http2.Http2SecureServer): void {
    // One more than allowed, so an excess is seen (Node drops header fields past this count); also read by the HTTPS listener's HTTP/1.1 connections.
    Object.assign(server, { maxHeadersCount: this.deps.table().config.relay.maxHeaderCount + 1 });
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket));
    // Every TCP connection, TLS or not, counts for relay.maxConnectionsPerAddress until it closes.
    server.on('connection', (socket: Socket) => this.addresses.track(socket));
    // CONNECT (tunnels) goes to no route: answered 405 here, where Node would close the socket unanswered.
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      if (req.httpVersionMajor !== 2) return writeRawError(socket, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported', 'allow: GET, HEAD\r\n');
      // Over HTTP/2 a CONNECT is a request on its own stream, with a response (not a socket) to answer on.
      const res = socket as unknown as ServerResponse;
      res.setHeader('allow', 'GET, HEAD');
      this.answerError(req, res, undefined, new RelayError('METHOD_NOT_ALLOWED', 'CONNECT is not supported'));
    });
  }

  /** Every listener: the plain one, and the HTTPS one when it was started. */
  private get servers(): ClosingListener[] {
    // Without HTTP/2 the HTTPS listener is an https.Server.
    const tls = this.http2 ?? (this.tlsServer as https.Server | undefined);
    return tls ? [this.server, tls] : [this.server];
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listenOn(this.server, host, port, this.deps.table().config.relay.listenBacklog);
  }

  /**
   * Start the HTTPS listener (tls section): the same requests, routes and limits as the plain
   * one, over TLS with the store's certificates; a certificate change applies to new connections.
   */
  async listenTls(host: string, port: number, certificates: CertificateStore): Promise<AddressInfo> {
    const settings = () => this.deps.table().config.tls;
    const options = tlsServerOptions(settings(), certificates, this.deps.acmeAlpn);
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    let server: https.Server | http2.Http2SecureServer;
    if (settings().http2) {
      // HTTP/2 by ALPN, HTTP/1.1 for the rest, with the plain listener's HTTP/1.1 limits (http2/listener.ts).
      const http1 = { ...this.viewerServerOptions(), keepAliveTimeout: this.server.keepAliveTimeout };
      // Loaded here only: node:http2 costs a few MB of RSS that a relay without HTTP/2 does not pay.
      const { Http2Listener } = await import('./http2/listener.js');
      this.http2 = new Http2Listener(options, http1, () => this.deps.table().config, handler, this.deps.log.child('http2'));
      server = this.http2.server;
    } else {
      server = https.createServer({ ...this.viewerServerOptions(), ...options }, handler);
    }
    this.configure(server);
    // WebSocket-FLV (wss://): an upgrade exists only on HTTP/1.1 connections, which this listener still serves.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.handleUpgrade(req, socket, head));
    // A failed handshake (garbage, no shared cipher, timeout) ends its socket; nothing was admitted, nothing to answer.
    server.on('tlsClientError', (_error, socket) => socket.destroy());
    // A TLS-ALPN-01 check ends with its handshake: it never reaches HTTP/1.1 or HTTP/2 (after every other secureConnection listener).
    closeAcmeAlpnConnections(server);
    // ALPN is chosen natively (no JS call per handshake) except while a TLS-ALPN-01 challenge certificate is held.
    if (this.deps.acmeAlpn) alpnWhileChallenged(server, alpnProtocols(settings()), this.deps.acmeAlpn);
    certificates.onChange = () => server.setSecureContext(tlsServerOptions(settings(), certificates));
    this.tlsServer = server;
    return listenOn(server, host, port, this.deps.table().config.relay.listenBacklog);
  }

  /** Stop accepting, end streams cleanly, and cut whatever is left after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    const servers = this.servers;
    const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const server of servers) server.closeIdleConnections();
    for (const session of this.deps.sessions.all()) session.finishGracefully();
    this.hub.closeAll('relay stopping');
    this.hls.close();
    this.hlsSessions.close();
    this.stops.close();
    this.webhooks.close();
    // A JWKS fetch in flight would otherwise hold the process up to jwksTimeoutMs.
    this.jwt.close();
    const timer = setTimeout(() => {
      servers.forEach((server) => server.closeAllConnections());
      for (const socket of this.upgradedSockets) socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }

  /**
   * tls.redirectPlain: a plain request (not an ACME challenge) is answered 308 to HTTPS,
   * before any routing; a Host header that is not a plain name or address gets 400.
   */
  private redirectedToHttps(req: IncomingMessage, res: ServerResponse): boolean {
    const { tls, relay } = this.deps.table().config;
    if (!tls.redirectPlain || isEncrypted(req) || isAcmeChallenge(req.url)) return false;
    const port = (this.tlsServer?.address() as AddressInfo | null)?.port;
    if (port === undefined) return false;
    const location = httpsLocation(req, port, relay.publicUrl);
    if (!location) {
      this.answerError(req, res, undefined, new RelayError('BAD_REQUEST', 'the Host header is not a host name or address'));
      return true;
    }
    res.writeHead(308, { location, 'content-length': 0, 'cache-control': 'no-store' });
    res.end();
    return true;
  }

  /** Why new requests would be refused now (readiness probe), or undefined when ready. */
  private unready(): string | undefined {
    if (this.stopping) return 'stopping';
    if (!this.server.listening) return 'not listening';
    if (this.deps.pause.paused) return 'the relay is paused by the operator';
    return undefined;
  }

  /**
   * An HTTP upgrade, on whichever listener received it (each attaches this method to its
   * `upgrade` event). A WebSocket handshake is a WebSocket-FLV viewer: a garbled handshake
   * gets 400 at once; a sound one is handled as the request it is (handle): framing, admission,
   * CORS, stats, request log and node lookup as for HTTP-FLV, then it joins its stream with a
   * WebSocket output (proxy), or gets 400 on a route that does not serve WebSocket
   * (webSocketRefusal), or 403 ORIGIN_DENIED when its Origin is not in the route's corsOrigins
   * (webSocketOriginRefusal). Every answer before the handshake completes is the relay's usual HTTP
   * answer, after which the connection closes. Any other upgrade (h2c) is served as the plain
   * HTTP request it also is, on a connection that then closes.
   */
  handleUpgrade(req: IncomingMessage, duplex: Duplex, head: Buffer): void {
    const socket = duplex as Socket;
    socket.on('error', () => {}); // Node's own listener went with the upgrade: a reset must not throw
    this.upgradedSockets.add(socket);
    socket.once('close', () => this.upgradedSockets.delete(socket));
    const held = new HeldSocket(socket, head);
    const res = responseOnSocket(req, socket);
    if (!asksForWebSocket(req)) {
      if (req.complete) return this.handle(req, res);
      applyCors(req, res);
      return this.answerError(req, res, undefined, new RelayError('BAD_REQUEST', 'a request that asks for a protocol upgrade may carry no body'));
    }
    markWebSocket(req, held);
    const invalid = webSocketHandshakeError(req);
    if (!invalid) return this.handleWebSocket(req, res);
    for (const [name, value] of Object.entries(invalid.headers ?? {})) res.setHeader(name, value);
    applyCors(req, res);
    this.answerError(req, res, undefined, new RelayError('BAD_REQUEST', `invalid WebSocket handshake: ${invalid.message}`));
  }

  /** A sound WebSocket handshake is handled once `ws` is loaded (the first one loads it, FlvWebSockets). */
  private handleWebSocket(req: IncomingMessage, res: ServerResponse): void {
    if (this.webSockets.ready) return this.handle(req, res);
    this.webSockets.load().then(
      () => !req.socket.destroyed && this.handle(req, res),
      (error: Error) => this.answerError(req, res, undefined, new RelayError('INTERNAL', `WebSocket support failed to load: ${error.message}`)),
    );
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let route: RouteConfig | undefined;
    // Framing first (request smuggling, framing.ts): a refused request's connection is closed, so no byte of it is read as another request.
    try {
      checkFraming(req);
    } catch (error) {
      res.shouldKeepAlive = false;
      applyCors(req, res);
      return this.answerError(req, res, undefined, toRelayError(error));
    }
    // Health probes before any routing: cheap, outside routes, stats and the request log (probes.ts).
    if (answerProbe(req, res, this.deps.table().config.relay, () => this.unready())) return;
    // Node publish hooks (reserved prefix /_relaydeck/hooks/): never routed, never forwarded (node-hooks.ts).
    if (this.nodeHooks.answer(req, res)) return;
    // ACME HTTP-01 challenges (tls.acme) before routing and before the redirect to HTTPS: an exact token, else 404 (acme-challenges.ts).
    const { acmeChallenges } = this.deps;
    if (acmeChallenges && this.deps.table().config.tls.acme.enabled && answerAcmeChallenge(req, res, acmeChallenges)) return;
    // The default CORS policy until a route matches (an unrouted 404 keeps it); then the route's, on every answer (cors.ts).
    applyCors(req, res);
    if (this.redirectedToHttps(req, res)) return;
    try {
      const table = this.deps.table();
      const viewer = viewerAddress(req, table.config.relay.trustedProxies);
      const facts = {
        target: parseRequestTarget(req.url),
        method: req.method ?? '',
        headerCount: req.rawHeaders.length / 2,
        viewerAddress: viewer,
        preflight: isPreflight(req),
        authorization: req.headers.authorization,
      };
      rememberViewerAddress(req, viewer);
      const tooMany = this.addressRefusal(req, table);
      if (tooMany) {
        res.shouldKeepAlive = false;
        return this.answerError(req, res, undefined, tooMany);
      }
      const admission = admit(table, facts, this.admission);
      if (admission.route) applyCors(req, res, admission.route);
      if (!admission.admitted) return this.refuse(req, res, admission);
      route = admission.route;
      const target = admission.target;
      // CORS preflights are the relay's to answer, never the node's (cors.ts); file routes pass any method.
      if (admission.preflight) return answerPreflight(req, res, route.kind === 'file' ? 'any' : [...STREAM_METHODS], route);
      this.deps.stats.route(route.id).requests += 1;
      const noWebSocket = isWebSocket(req) ? webSocketRefusal(route) : undefined;
      if (noWebSocket) return this.answerError(req, res, route, new RelayError('BAD_REQUEST', noWebSocket));
      // Browsers apply no CORS to WebSocket: the route's corsOrigins is checked against the page's Origin here (upgrade.ts).
      const foreignPage = isWebSocket(req) ? webSocketOriginRefusal(route, req.headers.origin) : undefined;
      if (foreignPage) return this.answerError(req, res, route, new RelayError('ORIGIN_DENIED', foreignPage));
      const hls = route.kind === 'hls' && this.hls.takes(route, target);
      const vouched = this.vouch(req, route, target, viewer, hls, admission);
      if (!(vouched instanceof Promise)) return this.serveAdmitted(req, res, route, target, table, hls, vouched);
      const found = route;
      vouched.then(
        (vouch) => this.serveVouched(req, res, found, target, hls, vouch),
        (error) => this.answerError(req, res, found, toRelayError(error)),
      );
    } catch (error) {
      this.answerError(req, res, route, toRelayError(error));
    }
  }

  /**
   * The viewer behind an admitted request: its JWT verified (routes[].auth.jwt), then the
   * gate's webhook and caps (viewer-gate.ts). Synchronous when nothing has to be fetched or
   * asked (a route with neither, a JWT already verified); throws or rejects the refusal.
   */
  private vouch(req: IncomingMessage, route: RouteConfig, target: RequestTarget, viewer: string, hls: boolean, admission: Admitted): Vouch | Promise<Vouch> {
    const next = (label: string | undefined): Vouch | Promise<Vouch> =>
      gated(route)
        ? this.gate.pass({ req, route, target, viewerAddress: viewer, opensSession: this.admission.opensSession(route, target), hls, label })
        : { label };
    if (admission.jwt === undefined) return next(admission.tokenLabel);
    const key = streamKeyOf(nodePath(route, target.path));
    const checked = this.jwt.verify(route, admission.jwt, { path: target.path, streamKey: key });
    const afterJwt = (pass: JwtPass) => next(pass.label ?? admission.tokenLabel);
    return checked instanceof Promise ? checked.then(afterJwt) : afterJwt(checked);
  }

  /** relay.maxConnectionsPerAddress: the refusal when the request's connection comes from an address with too many open. */
  private addressRefusal(req: IncomingMessage, table: RouteTable): RelayError | undefined {
    const max = table.config.relay.maxConnectionsPerAddress;
    if (max === 0) return undefined;
    try {
      this.addresses.check(peerAddress(req.socket), max);
      return undefined;
    } catch (error) {
      return toRelayError(error);
    }
  }

  /** After the webhook answered: the viewer may have left, or the relay begun to stop, meanwhile; the route table is read afresh. */
  private serveVouched(req: IncomingMessage, res: ServerResponse, route: RouteConfig, target: RequestTarget, hls: boolean, vouch: Vouch): void {
    if (res.destroyed || req.socket.destroyed) {
      releaseUnopened(req);
      this.deps.stats.countError(route.id, 'CLIENT_CLOSED');
      return;
    }
    try {
      if (this.stopping && this.admission.opensSession(route, target)) throw new RelayError('OVERLOADED', 'relay is shutting down');
      this.serveAdmitted(req, res, route, target, this.deps.table(), hls, vouch);
    } catch (error) {
      this.answerError(req, res, route, toRelayError(error));
    }
  }

  /** An admitted request, its viewer vouched for: count its label, then HLS, or find the node and redirect or proxy. */
  private serveAdmitted(
    req: IncomingMessage,
    res: ServerResponse,
    route: RouteConfig,
    target: RequestTarget,
    table: RouteTable,
    hls: boolean,
    vouch: Vouch,
  ): void {
    if (vouch.label) {
      this.deps.stats.countLabel(route.id, vouch.label);
      keepLabel(req, vouch.label);
    }
    if (hls) return this.hls.handle(req, res, route, target, table, vouch.hlsPiece);
    try {
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
      releaseUnopened(req);
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
    const facts = this.requestFacts(req, route, nodeId, target);
    const label = admissionOf(req)?.label;
    if (label !== undefined) facts.label = label;
    this.deps.sessions.logAnswered(facts, route.status, Date.now());
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
      this.hub.join(this.flvOutput(req, res, route), route, target, this.requestFacts(req, route, nodeId, target), location, admissionOf(req));
      return;
    }
    const scope = new SessionScope(this.deps.sessions, this.requestFacts(req, route, nodeId, target), res, this.deps.nodes.get(nodeId), admissionOf(req));
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

  /** Where an FLV fan-out viewer's bytes go: its WebSocket when it came through handleUpgrade, else its response. */
  private flvOutput(req: IncomingMessage, res: ServerResponse, route: RouteConfig): FlvOutput {
    const held = heldSocketOf(req);
    return held ? new WsFlvOutput(this.webSockets, req, res, held, this.deps.log.child(route.id)) : new HttpFlvOutput(res);
  }

  private requestFacts(req: IncomingMessage, route: RouteConfig, nodeId: string, target: RequestTarget): SessionFacts {
    return requestFacts(req, route.id, route.mode, nodeId, target.path);
  }

  private answerError(req: IncomingMessage, res: ServerResponse, route: RouteConfig | undefined, error: RelayError): void {
    answerRefused(this.deps, req, res, route, error);
  }
}

/** What close() needs of a listener: the plain http.Server, the HTTPS one, or the HTTP/2 listener (http2/listener.ts). */
type ClosingListener = Pick<http.Server, 'closeIdleConnections' | 'closeAllConnections'> & { close(callback: () => void): unknown };

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
