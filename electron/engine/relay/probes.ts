/**
 * Health probes on the relay port, answered before any routing (cheap, and a route with the
 * same path is shadowed): `relay.healthPath` (liveness: 200 while the process serves HTTP)
 * and `relay.readyPath` (readiness: 200 when listening with a config loaded, 503 with the
 * reason while paused or stopping). GET and HEAD; never counted in stats or the request log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RelaySettings } from '../../../shared/config.js';
import { applyCors } from './cors.js';
import { sendError } from './respond.js';
import { RelayError } from '../core/errors.js';

/** Why the relay should get no new traffic, or undefined when it is ready. */
export type Readiness = () => string | undefined;

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, value: object): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Answer `req` if it asks for a probe path; returns false (nothing written) otherwise. */
export function answerProbe(req: IncomingMessage, res: ServerResponse, settings: RelaySettings, readiness: Readiness): boolean {
  const url = req.url ?? '';
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  const health = settings.healthPath !== '' && path === settings.healthPath;
  const ready = settings.readyPath !== '' && path === settings.readyPath;
  if (!health && !ready) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    applyCors(req, res);
    sendError(res, new RelayError('METHOD_NOT_ALLOWED', `method ${req.method} is not allowed on ${path}`));
    return true;
  }
  if (health) {
    sendJson(req, res, 200, { status: 'ok' });
    return true;
  }
  const reason = readiness();
  if (reason === undefined) sendJson(req, res, 200, { status: 'ready' });
  else sendJson(req, res, 503, { status: 'unready', reason });
  return true;
}
