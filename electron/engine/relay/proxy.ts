/**
 * The native streaming reverse proxy (relay.proxyEngine = "native", the default).
 * Each upstream chunk is written to the viewer as it arrives (no buffering); when the
 * viewer's socket is full the upstream is paused until it drains (backpressure).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { upstreamRequestHeaders, viewerResponseHeaders } from './headers.js';
import { requestFraming } from './framing.js';
import type { ProxyExchange } from './exchange.js';
import { rewriteNodeLocation, type RedirectScope } from './location-rewrite.js';
import type { UpstreamTarget } from '../routing/target.js';
import { peerAddress } from '../core/net/address.js';

/** Keep-alive agents shared by all proxied requests of one relay (bounded idle pools). */
export interface UpstreamAgents {
  http: http.Agent;
  https: https.Agent;
}

/** Everything a proxy engine needs for one request. */
export interface ProxyJob {
  exchange: ProxyExchange;
  target: UpstreamTarget;
  agents: UpstreamAgents;
  /** "http" or "https": how the viewer reached the relay. */
  viewerProtocol: string;
  /** A live stream (flv/hls route): headers are flushed before the first body bytes. */
  live: boolean;
  /** Where a node's Location is mapped to a relay path (location-rewrite.ts); absent: passed unchanged. */
  redirects?: RedirectScope;
}

export function createUpstreamAgents(maxIdleSockets: number): UpstreamAgents {
  // Node's Agent reads maxFreeSockets 0 as "its default (256)": no idle pool means no keep-alive.
  const options = maxIdleSockets > 0 ? { keepAlive: true, maxFreeSockets: maxIdleSockets, scheduling: 'lifo' as const } : { keepAlive: false };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

const viewerAddresses = new WeakMap<IncomingMessage, string>();

/** Record the viewer's address as worked out (trusted proxies' X-Forwarded-For honoured). */
export function rememberViewerAddress(req: IncomingMessage, address: string): void {
  viewerAddresses.set(req, address);
}

/** The viewer's address: as remembered, else the socket's, without the IPv4-mapped IPv6 prefix. */
export function clientAddress(req: IncomingMessage): string {
  return viewerAddresses.get(req) ?? peerAddress(req.socket);
}

/** The upstream request's headers: cleaned (headers.ts), with the framing checkFraming allowed (framing.ts). */
export function forwardedHeaders(job: ProxyJob): http.OutgoingHttpHeaders {
  const { req } = job.exchange;
  const framing = requestFraming(req);
  return upstreamRequestHeaders(req.headers, {
    clientAddress: clientAddress(req),
    protocol: job.viewerProtocol,
    originalHost: req.headers.host,
    nodeHost: job.target.endpoint.host,
    contentLength: framing.kind === 'length' ? framing.bytes : undefined,
  });
}

function requestOptions(job: ProxyJob): https.RequestOptions {
  const { target, exchange } = job;
  const { endpoint } = target;
  const isHttps = endpoint.protocol === 'https:';
  return {
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port,
    path: target.path,
    method: exchange.req.method,
    agent: isHttps ? job.agents.https : job.agents.http,
    headers: forwardedHeaders(job),
  };
}

function streamBody(upstreamResponse: IncomingMessage, exchange: ProxyExchange, flushHeadersAtOnce: boolean): void {
  const { res } = exchange;
  res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.statusMessage, viewerResponseHeaders(upstreamResponse.headers));
  // A live stream's headers go out at once; a file's ride with its first body bytes.
  if (flushHeadersAtOnce) res.flushHeaders();
  const resume = () => upstreamResponse.resume();
  res.on('drain', resume);
  upstreamResponse.on('data', (chunk: Buffer) => {
    if (res.destroyed) return;
    exchange.countOut(chunk.length);
    if (!res.write(chunk)) upstreamResponse.pause();
  });
  upstreamResponse.on('end', () => {
    res.end(() => exchange.complete());
  });
}

/** Proxy one request with Node's own http client. */
export function proxyNative(job: ProxyJob): void {
  const { exchange } = job;
  const options = requestOptions(job);
  const lib = job.target.endpoint.protocol === 'https:' ? https : http;
  const upstream = lib.request(options);
  exchange.attachUpstream(upstream);
  upstream.on('error', (error: NodeJS.ErrnoException) => exchange.upstreamError(error));
  upstream.on('response', (upstreamResponse) => {
    exchange.onUpstreamResponse(upstreamResponse);
    if (!rewriteNodeLocation(upstreamResponse, job.redirects, job.target.href, (error) => exchange.fail(error))) return;
    streamBody(upstreamResponse, exchange, job.live);
  });
  // Only a body framing.ts allowed is forwarded; otherwise the request ends with its head.
  if (requestFraming(exchange.req).kind === 'none') upstream.end();
  else exchange.req.pipe(upstream);
}
