/**
 * The admin HTTP server: the operator API (routes derived from shared/api.ts), Prometheus
 * `/metrics`, and the built UI. API and metrics need `Authorization: Bearer TOKEN`.
 * No CORS headers are sent, so other origins cannot read any answer. Every request must name
 * the port as it is reached in its Host header (admin/host-check.ts: 421 otherwise, against
 * DNS rebinding); browsers' cross-site calls are refused; only a wrong bearer token counts
 * as a failed login (a request with none, as an <img> on any page sends, is a plain 401).
 */
import { peerAddress } from '../core/net/address.js';
import { secretsMatch } from '../core/net/secret.js';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from '../core/net/listen.js';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { API_CALL_NAMES, API_CALLS, type ApiCallName, type RelayDeckApi } from '../../../shared/api.js';
import { EVENTS_PATH } from '../../../shared/events.js';
import type { Logger } from '../core/log.js';
import type { EventStreamServer } from './events.js';
import { errorBody, RelayError, toRelayError } from '../core/errors.js';
import { hostOfHeader, uiContentSecurityPolicy, type PreviewSources } from './csp.js';
import { serveStatic } from './static.js';
import type { AuditLog } from './audit-log.js';
import { LoginLimiter } from './login-limiter.js';
import { hostAllowed } from './host-check.js';
import { readJsonBody } from './json-body.js';

export interface AdminServerDeps {
  api: RelayDeckApi;
  /** The current admin token (read per request: it may change). */
  token: () => string;
  metrics: Registry;
  uiDir?: string;
  /** Where the UI's stream preview may fetch from, besides loopback (read per page: config changes apply). */
  previewSources?: () => Omit<PreviewSources, 'pageHost'>;
  /** The SSE event stream served at EVENTS_PATH (admin/events.ts); absent: no events. */
  events?: EventStreamServer;
  log: Logger;
  maxBodyBytes: () => number;
  /** Failed logins allowed per address per minute (admin.maxFailedAuthPerMinute). */
  maxFailedAuthPerMinute?: () => number;
  /** Where changing calls are recorded. */
  audit?: AuditLog;
  /** Names answered in the Host header besides the port's own addresses (admin.allowedHosts). */
  allowedHosts?: () => readonly string[];
}

interface CompiledCall {
  name: ApiCallName;
  method: string;
  pattern: RegExp;
  body: boolean;
}

function compileCalls(): CompiledCall[] {
  return API_CALL_NAMES.map((name) => {
    const binding = API_CALLS[name];
    const source = binding.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(':id', '([^/]+)');
    return { name, method: binding.method, pattern: new RegExp(`^${source}$`), body: binding.body };
  });
}

/** Constant-time bearer token check. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (!token || !header?.startsWith('Bearer ')) return false;
  return secretsMatch(header.slice(7), token);
}

/**
 * Only the admin UI's own origin may call the API from a browser: a request that carries
 * an Origin other than its own Host, or that the browser marks cross-site, is refused (no
 * CORS headers are ever sent either).
 */
function refuseForeignOrigin(req: IncomingMessage): void {
  if (req.headers['sec-fetch-site'] === 'cross-site') throw new RelayError('CORS_FORBIDDEN', 'cross-site call refused');
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host = '';
  try {
    host = new URL(origin).host;
  } catch {
    /* a malformed Origin is foreign */
  }
  if (host === '' || host !== req.headers.host) throw new RelayError('CORS_FORBIDDEN', `cross-origin call from ${String(origin).slice(0, 100)} refused`);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** A path segment's id, percent-decoded; malformed encoding is the client's fault (400). */
function decodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RelayError('BAD_REQUEST', 'malformed percent-encoding in the id');
  }
}

export class AdminServer {
  private readonly server: http.Server;
  private readonly calls = compileCalls();
  private readonly limiter: LoginLimiter;
  /** admin.host as passed to listen() (the Host rule depends on it). */
  private listenHost = '';

  constructor(private readonly deps: AdminServerDeps) {
    this.limiter = new LoginLimiter(deps.maxFailedAuthPerMinute ?? (() => 10));
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error) => this.answerError(res, toRelayError(error)));
    });
    this.server.on('clientError', (_error, socket) => socket.destroy());
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    this.listenHost = host;
    return listenOn(this.server, host, port);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    this.refuseMisdirected(req, res);
    if (path === '/metrics' || path.startsWith('/api/')) {
      refuseForeignOrigin(req);
      this.authenticate(req, res);
      if (path === '/metrics') return this.serveMetrics(res);
      if (path === EVENTS_PATH && this.deps.events) return this.deps.events.serve(req, res);
      return this.serveApi(req, res, path);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new RelayError('METHOD_NOT_ALLOWED', `method ${req.method} is not allowed here`);
    if (!this.deps.uiDir) throw new RelayError('NOT_FOUND', 'no UI is served by this engine');
    const sources = this.deps.previewSources?.();
    const csp = uiContentSecurityPolicy(sources && { ...sources, pageHost: hostOfHeader(req.headers.host) });
    await serveStatic(req, res, this.deps.uiDir, path, csp);
  }

  /** 421 unless the Host header names this port as it is reached (admin/host-check.ts). */
  private refuseMisdirected(req: IncomingMessage, res: ServerResponse): void {
    const rule = { listenHost: this.listenHost, allowedHosts: this.deps.allowedHosts?.() ?? [] };
    if (hostAllowed(req.headers.host, rule, req.socket.localAddress, req.socket.localPort)) return;
    res.setHeader('content-security-policy', uiContentSecurityPolicy());
    const shown = JSON.stringify(String(req.headers.host ?? '').slice(0, 100));
    throw new RelayError('MISDIRECTED', `this server does not answer Host ${shown}; add the name to admin.allowedHosts to use it`);
  }

  /**
   * Bearer token check. Only a wrong bearer token counts against the address (LoginLimiter):
   * a request without one is what any web page can make the operator's browser send.
   */
  private authenticate(req: IncomingMessage, res: ServerResponse): void {
    const header = req.headers.authorization;
    const attempt = header?.startsWith('Bearer ') === true && header.length > 7;
    const address = peerAddress(req.socket);
    if (attempt && this.limiter.blocked(address)) {
      res.setHeader('retry-after', String(this.limiter.retryAfterSeconds(address)));
      throw new RelayError('RATE_LIMITED', 'too many failed logins from this address; try again later');
    }
    if (bearerMatches(header, this.deps.token())) return;
    if (attempt) this.limiter.recordFailure(address);
    res.setHeader('www-authenticate', 'Bearer realm="relaydeck"');
    throw new RelayError('UNAUTHORIZED', attempt ? 'wrong admin token' : 'missing admin token (Authorization: Bearer TOKEN)');
  }

  private async serveMetrics(res: ServerResponse): Promise<void> {
    const text = await this.deps.metrics.metrics();
    res.writeHead(200, { 'content-type': this.deps.metrics.contentType, 'cache-control': 'no-store' });
    res.end(text);
  }

  private async serveApi(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const candidates = this.calls.filter((c) => c.pattern.test(path));
    if (candidates.length === 0) throw new RelayError('NOT_FOUND', `no API call at ${path}`);
    const call = candidates.find((c) => c.method === req.method);
    if (!call) {
      res.setHeader('allow', candidates.map((c) => c.method).join(', '));
      throw new RelayError('METHOD_NOT_ALLOWED', `method ${req.method} is not allowed on ${path}`);
    }
    const input: Record<string, unknown> = {};
    const idMatch = call.pattern.exec(path)?.[1];
    if (idMatch !== undefined) input.id = decodeId(idMatch);
    if (call.body) input.body = await readJsonBody(req, this.deps.maxBodyBytes());
    else if (API_CALLS[call.name].query) input.body = Object.fromEntries(new URL(req.url ?? '/', 'http://admin').searchParams);
    const method = this.deps.api[call.name] as (input: unknown) => Promise<unknown>;
    const changes = API_CALLS[call.name].method !== 'GET';
    const audit = (outcome: string) =>
      changes &&
      this.deps.audit?.write({
        who: 'admin-token',
        from: peerAddress(req.socket),
        call: call.name,
        id: input.id as string | undefined,
        body: input.body,
        outcome,
      });
    let output: unknown;
    try {
      output = await method(input);
    } catch (error) {
      void audit(toRelayError(error).code);
      throw error;
    }
    void audit('ok');
    sendJson(res, API_CALLS[call.name].okStatus ?? (req.method === 'POST' ? 201 : 200), output);
  }

  private answerError(res: ServerResponse, error: RelayError): void {
    if (error.code === 'INTERNAL') this.deps.log.error(error.message);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, error.status, errorBody(error.code, error.message));
  }
}
