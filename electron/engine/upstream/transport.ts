/**
 * The one upstream transport: every request the relay makes to a node goes through it (the
 * generic proxy with either engine, FLV pulls, HLS fetches, health checks, node API probes).
 * It owns the keep-alive pools per node (transport/pool.ts), the connect, response-header,
 * idle and request-body clocks (transport/timers.ts), abort propagation (a caller's abort() or
 * an AbortSignal destroys the request at once), one classification of every failure into the
 * taxonomy (transport/classify.ts) and per-node accounting (transport/accounting.ts).
 *
 * Node's http.request is the base today. Callers see a call (UpstreamCall) and a response
 * (status, headers, body stream), not the ClientRequest, so the base can change; only the
 * http-proxy-3 engine hands in a request it made itself (adopt) with an agent from agentFor.
 *
 * A call ends exactly once: onEnd() when the body ended, onEnd(error) on any failure, classified
 * once; after the caller's own abort() nothing more is reported.
 */
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { RelayError } from '../core/errors.js';
import { TrafficBook, type NodeTraffic } from './transport/accounting.js';
import { callerClosed, classifyFailure, expiryError, lostMidResponse } from './transport/classify.js';
import { NodePools, type PoolSockets } from './transport/pool.js';
import { CallClocks, type ReaderHold, type UpstreamTimeouts } from './transport/timers.js';

export type { NodeTraffic } from './transport/accounting.js';
export type { PoolSockets } from './transport/pool.js';
export type { ReaderHold, UpstreamTimeouts } from './transport/timers.js';

/** Where a node is reached (routing/target.ts NodeEndpoint fits; addressOf makes one from a URL). */
export interface NodeAddress {
  protocol: string;
  /** Without IPv6 brackets. */
  hostname: string;
  port: number;
  /** scheme://host[:port]: the pool's key. */
  origin: string;
}

/** The address of the node a URL points at. */
export function addressOf(url: URL): NodeAddress {
  const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
  return { protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || (protocol === 'https:' ? 443 : 80), origin: url.origin };
}

/** The path and query of a URL, as a request target. */
export function pathOf(url: URL): string {
  return url.pathname + url.search;
}

/** One request to a node. */
export interface UpstreamRequest {
  /** The node (from config only). */
  to: NodeAddress;
  /** Path and query on the node, sent exactly as given (never re-parsed). */
  path: string;
  /** GET unless given. */
  method?: string;
  headers: OutgoingHttpHeaders;
  timeouts: UpstreamTimeouts;
  /** Whose counters the request counts in (the node id); the node's origin when absent. */
  nodeId?: string;
  /** Use the node's keep-alive pool (default); false: a connection of its own, closed after (live pulls, checks). */
  pooled?: boolean;
  /** Send small writes at once (Nagle off): live media. */
  noDelay?: boolean;
  /** Aborting it ends the call at once with CLIENT_CLOSED (onEnd is called). */
  signal?: AbortSignal;
  /** The body to forward: a stream (the viewer's, piped; its pauses are timed) or bytes; absent: the request ends with its head. */
  body?: Readable | Buffer | string;
  /** The reader may hold the node back: what the node's silence then means. */
  hold?: ReaderHold;
}

/** A request the http-proxy-3 engine made itself (with agentFor's agent), put under the transport's rules. */
export type AdoptedRequest = Omit<UpstreamRequest, 'path' | 'method' | 'headers' | 'pooled' | 'noDelay' | 'body'> & {
  /** The viewer's body http-proxy-3 pipes, only timed here. */
  body?: Readable;
};

/** The node's answer. */
export interface UpstreamResponse {
  status: number;
  statusMessage: string;
  /** As the node sent them (a caller may rewrite them in place before passing them on). */
  headers: IncomingHttpHeaders;
  /** The body; read it with 'data' (pause/resume hold the node back). */
  body: Readable;
}

export interface UpstreamEvents {
  /** The node answered (its headers). */
  onResponse(response: UpstreamResponse): void;
  /** The call ended: cleanly (the body ended) or with the classified failure. Called once, never after abort(). */
  onEnd(error?: RelayError): void;
}

/** One call in flight. */
export interface UpstreamCall {
  /** The connection to the node is open. */
  readonly connected: boolean;
  /** The reader made room again: the node's idle clock starts over. */
  readerResumed(): void;
  /** A failure seen by the caller's engine (http-proxy-3's callback): classified here, reported through onEnd. */
  fail(error: unknown): void;
  /** End the call now and free its connection; `reason` counts in the node's failures. Nothing more is reported. */
  abort(reason?: RelayError): void;
}

/** The HTTP client under the transport (Node's http/https.request); tests give one in memory. */
export interface HttpBase {
  request(options: BaseRequestOptions): ClientRequest;
}

/** What the base is asked to send. */
export interface BaseRequestOptions {
  protocol: string;
  hostname: string;
  port: number;
  path: string;
  method: string;
  headers: OutgoingHttpHeaders;
  /** The node's pool, or false for a connection of its own. */
  agent: http.Agent | false;
}

const nodeHttp: HttpBase = {
  request: (options) => (options.protocol === 'https:' ? https : http).request(options),
};

export interface TransportOptions {
  /** Idle keep-alive sockets kept per node (relay.maxIdleUpstreamSockets); 0: no keep-alive. */
  maxIdleSockets: number;
  base?: HttpBase;
}

/** Traffic of one node: the transport's counters and its pool's sockets. */
export type NodeTrafficView = NodeTraffic & PoolSockets;

export class UpstreamTransport {
  /** Pools of nodes reached over http, and over https (each closed by destroy). */
  readonly http: NodePools;
  readonly https: NodePools;
  private readonly book = new TrafficBook();
  private readonly base: HttpBase;

  constructor(options: TransportOptions) {
    this.http = new NodePools(options.maxIdleSockets);
    this.https = new NodePools(options.maxIdleSockets);
    this.base = options.base ?? nodeHttp;
  }

  /** The keep-alive agent of the node at `url` (for an engine that makes its own requests). */
  agentFor(to: NodeAddress): http.Agent {
    return (to.protocol === 'https:' ? this.https : this.http).agentFor(to.origin, to.protocol);
  }

  /** Make a request to a node. */
  request(spec: UpstreamRequest, events: UpstreamEvents): UpstreamCall {
    const { to } = spec;
    const agent = spec.pooled === false ? false : this.agentFor(to);
    const request = this.base.request({
      protocol: to.protocol,
      hostname: to.hostname,
      port: to.port,
      path: spec.path,
      method: spec.method ?? 'GET',
      headers: spec.headers,
      agent,
    });
    const call = new Call(request, spec, events, this.book.started(spec.nodeId ?? to.origin, to.origin), this.book);
    request.on('error', (error) => call.fail(error));
    call.start(spec.noDelay ?? false, true);
    const { body } = spec;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) request.end(body);
    else body.pipe(request);
    return call;
  }

  /** Put a request made by http-proxy-3 under the transport's clocks, classification and accounting (its errors come through call.fail). */
  adopt(request: ClientRequest, spec: AdoptedRequest, events: UpstreamEvents): UpstreamCall {
    const call = new Call(request, spec, events, this.book.started(spec.nodeId ?? spec.to.origin, spec.to.origin), this.book);
    call.start(false, false);
    return call;
  }

  /** Every node's traffic and pool sockets, by node. */
  traffic(): Map<string, NodeTrafficView> {
    const views = new Map<string, NodeTrafficView>();
    for (const [node, traffic] of this.book.snapshot()) views.set(node, { ...traffic, ...this.sockets(traffic.origin) });
    return views;
  }

  /** Sockets of the node at `origin`'s pool. */
  sockets(origin: string): PoolSockets {
    return origin.startsWith('https:') ? this.https.sockets(origin) : this.http.sockets(origin);
  }

  /** Close every pool (requests in flight on them are cut). */
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

class Call implements UpstreamCall {
  private ended = false;
  private responded = false;
  private bodyEnded = false;
  private readonly clocks: CallClocks;

  constructor(
    private readonly request: ClientRequest,
    private readonly spec: AdoptedRequest | UpstreamRequest,
    private readonly events: UpstreamEvents,
    private readonly traffic: NodeTraffic,
    private readonly book: TrafficBook,
  ) {
    this.clocks = new CallClocks(spec.timeouts, (expiry, ms) => this.end(expiryError(expiry, ms)), spec.hold);
  }

  get connected(): boolean {
    return this.clocks.isConnected;
  }

  start(noDelay: boolean, ownResponse: boolean): void {
    const { request, spec } = this;
    const signal = spec.signal;
    if (signal?.aborted) {
      queueMicrotask(() => this.end(callerClosed()));
      return;
    }
    signal?.addEventListener('abort', () => this.end(callerClosed()), { once: true });
    this.clocks.started();
    request.once('finish', () => this.clocks.onRequestSent());
    const watch = (socket: Socket) => {
      if (noDelay) socket.setNoDelay(true);
      if (socket.connecting) socket.once('connect', () => this.clocks.onConnected());
      else this.clocks.onConnected();
    };
    if (request.socket) watch(request.socket);
    else request.once('socket', watch);
    const body = spec.body;
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) this.clocks.watchRequestBody(body, () => request.writableNeedDrain);
    request.on('response', (response: IncomingMessage) => this.onResponse(response, ownResponse));
  }

  private onResponse(response: IncomingMessage, report: boolean): void {
    if (this.ended) {
      response.destroy();
      return;
    }
    this.responded = true;
    this.clocks.onResponse();
    response.on('data', (chunk: Buffer) => {
      this.clocks.onData();
      this.traffic.bytesIn += chunk.length;
    });
    response.on('error', (error) => this.end(classifyFailure(error, true)));
    response.on('end', () => {
      this.bodyEnded = true;
      this.end();
    });
    response.on('close', () => {
      if (!response.complete) this.end(lostMidResponse());
    });
    if (report)
      this.events.onResponse({ status: response.statusCode ?? 0, statusMessage: response.statusMessage ?? '', headers: response.headers, body: response });
  }

  readerResumed(): void {
    this.clocks.readerResumed();
  }

  fail(error: unknown): void {
    this.end(classifyFailure(error, this.responded));
  }

  abort(reason?: RelayError): void {
    if (this.ended) return;
    this.close(reason);
  }

  private end(error?: RelayError): void {
    if (this.ended) return;
    this.close(error);
    this.events.onEnd(error);
  }

  private close(error: RelayError | undefined): void {
    this.ended = true;
    this.clocks.stop();
    this.book.ended(this.traffic, error?.code);
    // A request still in flight is cut; one whose body ended has already returned its socket to the pool.
    if (!this.bodyEnded) this.request.destroy();
  }
}
