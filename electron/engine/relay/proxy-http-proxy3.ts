/**
 * The http-proxy API engine (relay.proxyEngine = "http-proxy-3"), kept as a measured
 * alternative to the native engine. http-proxy-3 is the maintained successor of
 * http-proxy; every error goes to the per-call callback, so none can escape as an
 * unhandled 'error' event. Its requests use the transport's keep-alive agent and are
 * adopted by the transport (upstream/transport.ts) for the same clocks, classification and
 * accounting; header rules and the session are the same ProxyExchange the native engine uses.
 * A paced file route (routes[].limits.viewerBytesPerSecond) asks http-proxy-3 to leave the
 * response to us (selfHandleResponse): the head is written here and the body goes through
 * the exchange's paced pipe (pacing.ts), as with the native engine.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { underRouteCors } from './cors.js';
import { viewerResponseHeaders } from './headers.js';
import { requestFraming } from './framing.js';
import { forwardedHeaders, rewriteLocation, viewerRateOf, type ProxyJob } from './proxy.js';

type HttpProxyServer = ProxyServer;

/** The job of each request in flight, found through the viewer's request. */
const jobs = new WeakMap<IncomingMessage, ProxyJob>();

/** One http-proxy-3 server per relay; per-request state is found through the request. */
export function createHttpProxy3(): HttpProxyServer {
  const server = createProxyServer({ xfwd: false, changeOrigin: false, ignorePath: true, ws: false });
  // A viewer reset is reported here instead of 'error'; the exchange already handled it.
  server.on('econnreset', () => {});
  server.on('error', () => {});
  server.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) => {
    const job = jobs.get(req);
    if (job) adopt(job, proxyReq);
  });
  server.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage) => {
    const job = jobs.get(req);
    if (!job) return;
    const { exchange } = job;
    proxyRes.headers = underRouteCors(exchange.res, viewerResponseHeaders(proxyRes.headers)) as IncomingMessage['headers'];
    // Else http-proxy's setConnection pass answers "keep-alive" to a viewer that asked to close.
    proxyRes.headers.connection = exchange.res.shouldKeepAlive ? 'keep-alive' : 'close';
    exchange.onResponse({ status: proxyRes.statusCode ?? 0, statusMessage: proxyRes.statusMessage ?? '', headers: proxyRes.headers, body: proxyRes });
    if (!rewriteLocation(job, proxyRes.headers)) return;
    const bytesPerSecond = viewerRateOf(job);
    if (bytesPerSecond > 0) {
      // selfHandleResponse: http-proxy-3 writes neither the head nor the body. The headers are
      // already the viewer's (hop-by-hop ones removed, connection set, CORS applied above).
      exchange.res.writeHead(proxyRes.statusCode || 502, proxyRes.statusMessage ?? '', proxyRes.headers);
      exchange.pipePaced(proxyRes, bytesPerSecond);
      return;
    }
    proxyRes.on('data', (chunk: Buffer) => exchange.countOut(chunk.length));
    proxyRes.on('end', () => exchange.res.once('finish', () => exchange.complete()));
  });
  return server;
}

export function proxyWithHttpProxy3(server: HttpProxyServer, job: ProxyJob): void {
  const { exchange, target } = job;
  const { req } = exchange;
  // http-proxy copies req.headers to the upstream request: give it the cleaned set, framing included.
  req.headers = forwardedHeaders(job) as IncomingMessage['headers'];
  jobs.set(req, job);
  const agent = job.transport.agentFor(target.endpoint);
  // http-proxy pipes `buffer` instead of req when given: an empty one when no body is allowed (framing.ts).
  const buffer = requestFraming(req).kind === 'none' ? Readable.from([]) : undefined;
  const selfHandleResponse = viewerRateOf(job) > 0;
  server.web(req, exchange.res, { target: target.href, agent, buffer, selfHandleResponse }, (error) => exchange.upstreamError(error));
}

/** The request http-proxy-3 made goes under the transport's clocks, classification and accounting. */
function adopt(job: ProxyJob, proxyReq: ClientRequest): void {
  const { exchange } = job;
  const { req } = exchange;
  const body = requestFraming(req).kind === 'none' ? undefined : req;
  exchange.attach(
    job.transport.adopt(
      proxyReq,
      { to: job.target.endpoint, timeouts: exchange.timeouts, nodeId: exchange.session.facts.nodeId, hold: exchange.hold, body },
      exchange,
    ),
  );
}
