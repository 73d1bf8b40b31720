/**
 * The native streaming reverse proxy (relay.proxyEngine = "native", the default).
 * Each upstream chunk is written to the viewer as it arrives (no buffering); when the
 * viewer's socket is full the upstream is paused until it drains (backpressure). A file
 * route with routes[].limits.viewerBytesPerSecond hands the body to the exchange's paced
 * pipe instead (pacing.ts), with the same backpressure.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { underRouteCors } from './cors.js';
import { upstreamRequestHeaders, viewerResponseHeaders } from './headers.js';
import { requestFraming } from './framing.js';
import type { ProxyExchange } from './exchange.js';
import { rewriteNodeLocation, type RedirectScope } from './location-rewrite.js';
import type { UpstreamTarget } from '../routing/target.js';
import { peerAddress } from '../core/net/address.js';
import type { UpstreamTransport, UpstreamResponse } from '../upstream/transport.js';

/** Everything a proxy engine needs for one request. */
export interface ProxyJob {
  exchange: ProxyExchange;
  target: UpstreamTarget;
  /** The engine's upstream transport (upstream/transport.ts) the request goes through. */
  transport: UpstreamTransport;
  /** "http" or "https": how the viewer reached the relay. */
  viewerProtocol: string;
  /** A live stream (flv/hls route): headers are flushed before the first body bytes. */
  live: boolean;
  /** Where a node's Location is mapped to a relay path (location-rewrite.ts); absent: passed unchanged. */
  redirects?: RedirectScope;
}

/** Where a request keeps its viewer's address (a property rather than a WeakMap entry: this is set on every request). */
const VIEWER_ADDRESS = Symbol('relaydeck.viewerAddress');
type AddressedRequest = IncomingMessage & { [VIEWER_ADDRESS]?: string };

/** Record the viewer's address as worked out (trusted proxies' X-Forwarded-For honoured). */
export function rememberViewerAddress(req: IncomingMessage, address: string): void {
  (req as AddressedRequest)[VIEWER_ADDRESS] = address;
}

/** The viewer's address: as remembered, else the socket's, without the IPv4-mapped IPv6 prefix. */
export function clientAddress(req: IncomingMessage): string {
  return (req as AddressedRequest)[VIEWER_ADDRESS] ?? peerAddress(req.socket);
}

/** The upstream request's headers: cleaned (headers.ts), with the framing checkFraming allowed (framing.ts). */
export function forwardedHeaders(job: ProxyJob): OutgoingHttpHeaders {
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

/**
 * The rate the viewer's response is paced at (routes[].limits.viewerBytesPerSecond of the
 * route the request matched, read as the response starts); 0: not paced. Live streams (an
 * flv route without fan-out) are never paced.
 */
export function viewerRateOf(job: ProxyJob): number {
  if (job.live) return 0;
  return job.redirects?.route.limits.viewerBytesPerSecond ?? 0;
}

/** The node's Location mapped to a relay path (location-rewrite.ts reads and sets only the headers); false when refused. */
export function rewriteLocation(job: ProxyJob, headers: IncomingMessage['headers']): boolean {
  const { exchange } = job;
  return rewriteNodeLocation({ headers } as IncomingMessage, job.redirects, job.target.href, (error) => exchange.fail(error));
}

function streamBody(response: UpstreamResponse, exchange: ProxyExchange, flushHeadersAtOnce: boolean, bytesPerSecond: number): void {
  const { res } = exchange;
  const body = response.body;
  res.writeHead(response.status || 502, response.statusMessage, underRouteCors(res, viewerResponseHeaders(response.headers)));
  // A live stream's headers go out at once; a file's ride with its first body bytes.
  if (flushHeadersAtOnce) res.flushHeaders();
  if (bytesPerSecond > 0) {
    exchange.pipePaced(body, bytesPerSecond);
    return;
  }
  const resume = () => body.resume();
  res.on('drain', resume);
  body.on('data', (chunk: Buffer) => {
    if (res.destroyed) return;
    exchange.countOut(chunk.length);
    if (!res.write(chunk)) body.pause();
  });
  body.on('end', () => {
    res.end(() => exchange.complete());
  });
}

/** Proxy one request through the transport with Node's own http client. */
export function proxyNative(job: ProxyJob): void {
  const { exchange, target } = job;
  const { req } = exchange;
  const bytesPerSecond = viewerRateOf(job);
  const call = job.transport.request(
    {
      to: target.endpoint,
      path: target.path,
      method: req.method,
      headers: forwardedHeaders(job),
      timeouts: exchange.timeouts,
      nodeId: exchange.session.facts.nodeId,
      hold: exchange.hold,
      // Only a body framing.ts allowed is forwarded; otherwise the request ends with its head.
      body: requestFraming(req).kind === 'none' ? undefined : req,
    },
    {
      onResponse: (response) => {
        exchange.onResponse(response);
        if (rewriteLocation(job, response.headers)) streamBody(response, exchange, job.live, bytesPerSecond);
      },
      onEnd: (error) => exchange.onEnd(error),
    },
  );
  exchange.attach(call);
}
