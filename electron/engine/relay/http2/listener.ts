/**
 * The HTTPS listener with HTTP/2 (tls.http2): one TLS port where ALPN picks h2 or HTTP/1.1
 * (clients that offer no ALPN get HTTP/1.1), both answered by RelayServer.handle through
 * Node's compatibility API (compat.ts). No h2c: HTTP/2 only over TLS, as browsers use it.
 *
 * Limits: HTTP/1.1 connections on this port get the same ones as the plain listener (Node's
 * HTTP/1.1 server reads them from this server object); HTTP/2 sessions get nghttp2's settings
 * here (concurrent streams, header list size and pairs, session memory) and the per-session
 * guards of sessions.ts (first request, idle, rapid reset, SETTINGS/PING floods).
 */
import type http from 'node:http';
import http2 from 'node:http2';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { RelaySettings, TlsSettings } from '../../../../shared/config.js';
import type { Logger } from '../../core/log.js';
import { RelayHttp2Request, RelayHttp2Response } from './compat.js';
import { Http2Sessions } from './sessions.js';

/** Pseudo-header fields a request carries besides its header fields (:method, :scheme, :authority, :path). */
const REQUEST_PSEUDO_HEADERS = 4;
const MIB = 1_048_576;

export interface Http2ListenerSettings {
  relay: RelaySettings;
  tls: TlsSettings;
}

export class Http2Listener {
  readonly server: http2.Http2SecureServer;
  readonly sessions: Http2Sessions;
  /** HTTP/1.1 connections on this port, until they close: Node tracks them privately, and close() must be able to cut them. */
  private readonly http1Sockets = new Set<TLSSocket>();

  constructor(
    tlsOptions: TlsOptions,
    /** The HTTP/1.1 server options the plain listener has (RelayServer.viewerServerOptions). */
    http1: http.ServerOptions & { keepAliveTimeout: number },
    settings: () => Http2ListenerSettings,
    handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
    log: Logger,
  ) {
    const { relay, tls } = settings();
    this.server = http2.createSecureServer(
      {
        ...tlsOptions,
        allowHTTP1: true,
        noDelay: true,
        Http2ServerRequest: RelayHttp2Request as unknown as typeof http2.Http2ServerRequest,
        Http2ServerResponse: RelayHttp2Response as unknown as typeof http2.Http2ServerResponse,
        settings: { maxConcurrentStreams: tls.http2MaxConcurrentStreams, maxHeaderListSize: relay.maxHeaderBytes, enablePush: false },
        // One more than allowed, so an excess reaches admission (431 with a JSON body) rather than a bare stream reset.
        maxHeaderListPairs: relay.maxHeaderCount + REQUEST_PSEUDO_HEADERS + 1,
        maxSessionMemory: Math.max(1, Math.floor(tls.http2MaxSessionMemoryBytes / MIB)),
        unknownProtocolTimeout: tls.handshakeTimeoutMs,
      },
      // Both protocols' requests: an HTTP/2 one is a RelayHttp2Request/Response, made to read as HTTP/1.1 (compat.ts).
      handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
    );
    // Node's HTTP/1.1 server, used for the HTTP/1.1 connections, reads its limits from this object.
    Object.assign(this.server, {
      maxHeaderSize: http1.maxHeaderSize,
      headersTimeout: http1.headersTimeout,
      requestTimeout: http1.requestTimeout,
      connectionsCheckingInterval: http1.connectionsCheckingInterval,
      requireHostHeader: http1.requireHostHeader,
      keepAliveTimeout: http1.keepAliveTimeout,
    });
    this.sessions = new Http2Sessions(() => {
      const current = settings();
      return {
        firstRequestTimeoutMs: current.relay.headerReadTimeoutMs,
        idleTimeoutMs: current.tls.http2IdleTimeoutMs,
        maxResetsPerSecond: current.tls.http2MaxResetsPerSecond,
        maxControlFramesPerSecond: current.tls.http2MaxControlFramesPerSecond,
      };
    }, log);
    this.server.on('session', (session) => this.sessions.watch(session));
    this.server.on('sessionError', (error: NodeJS.ErrnoException) => log.debug(`HTTP/2 connection error: ${error.code ?? error.message}`));
    // ALPN chose something else than h2 or http/1.1 (allowHTTP1 answers both): nothing this port speaks.
    this.server.on('unknownProtocol', (socket: TLSSocket) => socket.destroy());
    this.server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') return;
      this.http1Sockets.add(socket);
      socket.once('close', () => this.http1Sockets.delete(socket));
    });
  }

  /** Stop accepting connections; `callback` runs once every connection has closed. */
  close(callback: () => void): void {
    this.server.close(() => callback());
  }

  /** Shutdown, first step: idle HTTP/1.1 connections close, HTTP/2 sessions take no new request and close once their open ones end. */
  closeIdleConnections(): void {
    // Node 20 has it for the HTTP/1.1 connections of an allowHTTP1 server; its types do not say so.
    (this.server as unknown as Pick<http.Server, 'closeIdleConnections'>).closeIdleConnections();
    this.sessions.closeGracefully();
  }

  /** Shutdown, after the grace: every connection is cut. */
  closeAllConnections(): void {
    for (const socket of this.http1Sockets) socket.destroy();
    this.sessions.destroyAll();
  }
}
