/**
 * Answering a request the relay refuses before it has a session (admission, no node, a full
 * relay): counted against its route (or UNROUTED), answered with the JSON error, and logged
 * in the request log like any finished request. One place for the redirect, proxy, FLV and HLS paths.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RouteConfig } from '../../../shared/config.js';
import type { RelayError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { sendError } from './respond.js';
import { requestFacts } from './session-scope.js';
import type { SessionRegistry } from './sessions.js';
import { UNROUTED, type StatsBook } from './stats.js';
import { releaseUnopened, retryAfterOf } from './viewer-gate.js';
import { LimitRefusal } from './viewer-limits.js';

/** Longest path kept in the request log for a refused request. */
const MAX_LOGGED_PATH_CHARS = 1024;

export interface RefusalDeps {
  stats: StatsBook;
  sessions: SessionRegistry;
  log: Logger;
}

/** Count, answer and log a refused request; `route` is undefined when none matched (then it counts as a request of UNROUTED). */
export function answerRefused(deps: RefusalDeps, req: IncomingMessage, res: ServerResponse, route: RouteConfig | undefined, error: RelayError): void {
  const routeId = route?.id ?? UNROUTED;
  if (!route) deps.stats.route(UNROUTED).requests += 1;
  deps.stats.countError(routeId, error.code);
  if (error instanceof LimitRefusal) deps.stats.countLimit(routeId, error.limit);
  if (error.code === 'INTERNAL') deps.log.error(`${req.method} ${req.url}: ${error.message}`);
  releaseUnopened(req);
  const retryAfter = retryAfterOf(error.code);
  if (retryAfter !== undefined && !res.headersSent) res.setHeader('retry-after', String(retryAfter));
  sendError(res, error);
  // Path only: the query may hold credentials.
  const path = (req.url ?? '').split('?')[0].slice(0, MAX_LOGGED_PATH_CHARS);
  deps.sessions.logAnswered(requestFacts(req, routeId, route?.mode ?? 'proxy', '', path), error.status, Date.now(), error.code);
}
