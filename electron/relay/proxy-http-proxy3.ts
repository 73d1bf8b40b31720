/**
 * The http-proxy API engine (relay.proxyEngine = "http-proxy-3"), kept as a measured
 * alternative to the native engine. http-proxy-3 is the maintained successor of
 * http-proxy; every error goes to the per-call callback, so none can escape as an
 * unhandled 'error' event. Header rules, timeouts and accounting are the same
 * ProxyExchange the native engine uses.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { createProxyServer, type ProxyServer } from 'http-proxy-3';
import { upstreamRequestHeaders, viewerResponseHeaders } from './headers.js';
import { clientAddress, type ProxyJob } from './proxy.js';

type HttpProxyServer = ProxyServer;

const exchanges = new WeakMap<IncomingMessage, ProxyJob['exchange']>();

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
    exchange.onUpstreamResponse(proxyRes);
    proxyRes.on('data', (chunk: Buffer) => exchange.countOut(chunk.length));
    proxyRes.on('end', () => exchange.res.once('finish', () => exchange.complete()));
  });
  return server;
}

export function proxyWithHttpProxy3(server: HttpProxyServer, job: ProxyJob): void {
  const { exchange, target } = job;
  const { req } = exchange;
  // http-proxy copies req.headers to the upstream request: give it the cleaned set.
  req.headers = upstreamRequestHeaders(req.headers, {
    clientAddress: clientAddress(req),
    protocol: job.viewerProtocol,
    originalHost: req.headers.host,
    nodeHost: target.endpoint.host,
  }) as IncomingMessage['headers'];
  exchanges.set(req, exchange);
  const agent = target.endpoint.protocol === 'https:' ? job.agents.https : job.agents.http;
  server.web(req, exchange.res, { target: target.href, agent }, (error) => exchange.upstreamError(error as NodeJS.ErrnoException));
}
