/**
 * The one scope of an admitted request that holds a session (proxied, FLV fan-out viewer,
 * HLS delivery): opening it adds the session to the live map and counts the route's
 * `proxied` and `active`; closing it takes `active` back and moves the session into the
 * request log with its final status. It closes exactly once, whoever ends the request first:
 * its owner (the exchange, the viewer or the delivery, through Session.close), an operator
 * kick or shutdown (through the owner), or, as a backstop, the response's `close` when no
 * owner closed it by then (finished: the response's status; else 499 CLIENT_CLOSED).
 * When the viewer gate admitted the request (viewer-gate.ts), the scope also labels the
 * session, ends it at the webhook's maxDurationMs (SESSION_TIME_LIMIT), and on close runs the
 * gate's own ending once (the viewer place given back, the stop webhook told).
 */
import type { IncomingMessage } from 'node:http';
import type { RouteMode } from '../../../shared/config.js';
import { ERROR_STATUS, type ErrorCode } from '../core/errors.js';
import { clientAddress } from './proxy.js';
import { isWebSocket } from './upgrade.js';
import type { Session, SessionEnding, SessionFacts, SessionRegistry } from './sessions.js';
import type { ViewerAdmission } from './viewer-gate.js';

/** What the scope needs of the viewer's response (a ServerResponse; a plain EventEmitter in unit tests). */
export interface ScopedResponse {
  once(event: 'close', listener: () => void): unknown;
  readonly writableFinished: boolean;
  readonly statusCode: number;
  destroy(): unknown;
}

/** Why a session is cut from outside: an operator kick, or the maximum duration its webhook gave. */
export type CutCode = Extract<ErrorCode, 'KICKED' | 'SESSION_TIME_LIMIT'>;

/** The part that serves the request and can end it early: the proxy exchange, the FLV viewer. */
export interface ScopeOwner {
  abort(reason: string, code?: CutCode): void;
  finishGracefully(): void;
}

/** Traffic counters of the node serving the session (upstream/registry.ts). */
export interface NodeTraffic {
  bytesIn: number;
  bytesOut: number;
}

export class SessionScope implements SessionEnding {
  readonly session: Session;
  private owner: ScopeOwner | undefined;
  private closed = false;
  private deadlineTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sessions: SessionRegistry,
    facts: SessionFacts,
    private readonly res: ScopedResponse,
    node?: NodeTraffic,
    private readonly admission?: ViewerAdmission,
  ) {
    if (admission) {
      admission.opened = true;
      if (admission.label !== undefined) facts.label = admission.label;
    }
    this.session = sessions.open(facts, this);
    if (admission?.deadline !== undefined) {
      this.deadlineTimer = setTimeout(
        () => this.abort('the maximum duration its webhook allowed has passed', 'SESSION_TIME_LIMIT'),
        Math.max(0, admission.deadline - Date.now()),
      );
    }
    this.session.node = node;
    const routeStats = this.session.routeStats;
    routeStats.proxied += 1;
    routeStats.active += 1;
    // A tick later, so the owner's own `close` handler (registered after this one) decides the status first.
    res.once('close', () => process.nextTick(() => this.responseClosed()));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The part serving the request, which a kick or shutdown asks to end it; without one the response is cut. */
  ownedBy(owner: ScopeOwner): void {
    this.owner = owner;
  }

  abort(reason: string, code?: CutCode): void {
    if (this.closed) return;
    if (this.owner) this.owner.abort(reason, code);
    else this.res.destroy();
  }

  finishGracefully(): void {
    if (this.closed) return;
    if (this.owner) this.owner.finishGracefully();
    else this.res.destroy();
  }

  /** End the scope: `active` back, the session logged with this status; later calls do nothing. */
  close(status: number, errorCode?: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.deadlineTimer);
    this.session.routeStats.active -= 1;
    this.sessions.close(this.session, status, errorCode);
    this.admission?.onClose?.(this.session, status, errorCode);
  }

  private responseClosed(): void {
    if (this.closed) return;
    if (this.res.writableFinished) this.close(this.session.status || this.res.statusCode);
    else this.close(ERROR_STATUS.CLIENT_CLOSED, 'CLIENT_CLOSED');
  }
}

/** What the sessions API and the request log show of a request (the path without its query). */
export function requestFacts(req: IncomingMessage, routeId: string, mode: RouteMode, nodeId: string, path: string): SessionFacts {
  return {
    routeId,
    mode,
    method: req.method ?? '',
    transport: isWebSocket(req) ? 'ws' : 'http',
    path,
    nodeId,
    clientAddress: clientAddress(req),
    userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
  };
}
