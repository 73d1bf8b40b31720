/**
 * The http-proxy API engine (relay.proxyEngine = "http-proxy-3"), kept as a measured
 * alternative to the native engine. http-proxy-3 is the maintained successor of
 * http-proxy; every error goes to the per-call callback, so none can escape as an
 * unhandled 'error' event. Header rules, timeouts and accounting are the same
 * ProxyExchange the native engine uses.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { viewerResponseHeaders } from './headers.js';
import { rewriteNodeLocation } from './location-rewrite.js';
import { requestFraming } from './framing.js';
import { forwardedHeaders, type ProxyJob } from './proxy.js';

type HttpProxyServer = ProxyServer;

const exchanges = new WeakMap<IncomingMessage, ProxyJob['exchange']>();
/** The job of each request in flight, for the node's Location (location-rewrite.ts). */
const jobs = new WeakMap<IncomingMessage, ProxyJob>();

/** One http-proxy-3 server per relay; per-request state is found through the request. */
export function createHttpProxy3(): HttpProxyServer {
  const server = createProxyServer({ xfwd: false, changeOrigin: false, ignorePath: true, ws: false });
  // A viewer reset is reported here instead of 'error'; the exchange already handled it.
  server.on('econnreset', () => {});
  server.on('error', () => {});
  server.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage) => exchanges.get(req)?.attachUpstream(proxyReq));
  server.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage) => {
    const exchange = exchanges.get(req);
    if (!exchange) return;
    proxyRes.headers = viewerResponseHeaders(proxyRes.headers) as IncomingMessage['headers'];
    // Else http-proxy's setConnection pass answers "keep-alive" to a viewer that asked to close.
    proxyRes.headers.connection = exchange.res.shouldKeepAlive ? 'keep-alive' : 'close';
    exchange.onUpstreamResponse(proxyRes);
    const job = jobs.get(req);
    if (job && !rewriteNodeLocation(proxyRes, job.redirects, job.target.href, (error) => exchange.fail(error))) return;
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
  exchanges.set(req, exchange);
  jobs.set(req, job);
  const agent = target.endpoint.protocol === 'https:' ? job.agents.https : job.agents.http;
  // http-proxy pipes `buffer` instead of req when given: an empty one when no body is allowed (framing.ts).
  const buffer = requestFraming(req).kind === 'none' ? Readable.from([]) : undefined;
  server.web(req, exchange.res, { target: target.href, agent, buffer }, (error) => exchange.upstreamError(error as NodeJS.ErrnoException));
}
