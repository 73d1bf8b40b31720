/**
 * The viewer gate: the part of admission that runs after the request rules (routing/
 * admission.ts) for requests of a route with an admission webhook or viewer caps, and may
 * have to wait: the webhook's decision (auth/webhook.ts), then a viewer place under the
 * route's caps (viewer-limits.ts). For HLS it works per viewer session, not per request
 * (hls/viewer-sessions.ts): a request of a known session passes at once.
 *
 * What it admitted is kept for the request (admissionOf) and read by the session scope, which
 * owns the session: it labels the session, ends it at the webhook's maxDurationMs, and when
 * the session closes gives the viewer place back and reports the end to the stop webhook.
 * Routes with neither a webhook nor caps pass through without any of this.
 */
import type { IncomingMessage } from 'node:http';
import type { RouteConfig, RouteWebhookConfig } from '../../../shared/config.js';
import { RelayError, type ErrorCode } from '../core/errors.js';
import { nodePath, type RequestTarget } from '../routing/target.js';
import { streamKey as streamKeyOf } from '../upstream/stream-key.js';
import type { AdmissionWebhooks, WebhookAllow, WebhookQuestion } from './auth/webhook.js';
import type { StopNotifier, StopRecord } from './auth/webhook-stop.js';
import { HLS_HINT_PARAM } from './hls/hint.js';
import { HLS_SESSION_PARAM, viewerIdentity, type HlsViewerSession, type HlsViewerSessions } from './hls/viewer-sessions.js';
import type { Session } from './sessions.js';
import { isEncrypted } from './tls/redirect.js';
import { isWebSocket } from './upgrade.js';
import { VIEWER_LIMIT_RETRY_AFTER_S, type ViewerCounts, type ViewerPlace } from './viewer-limits.js';

/** What the gate admitted for one request; the session scope reads it (session-scope.ts). */
export interface ViewerAdmission {
  /** The viewer's label (webhook answer, else JWT or static token), for stats and logs. */
  label?: string;
  /** Epoch ms at which the session is ended as SESSION_TIME_LIMIT (the webhook's maxDurationMs). */
  deadline?: number;
  /** The HLS viewer session the request belongs to. */
  hls?: HlsViewerSession;
  /** Called once when the request's session closes, with its final status and error code. */
  onClose?: (session: Session, status: number, errorCode: string | undefined) => void;
  /** The viewer place the request holds until its session closes (non-HLS requests). */
  place?: ViewerPlace;
  /** Set by the session scope when it opened the session (from then on it gives the place back). */
  opened?: boolean;
}

/** What the relay needs back: the label to count, and for HLS the session parameter to write into playlist URIs. */
export interface Vouch {
  label?: string;
  /** `_rds=...`, carried into the relay URIs of playlists served to this viewer. */
  hlsPiece?: string;
}

const admissions = new WeakMap<IncomingMessage, ViewerAdmission>();

/** What the gate admitted for `req`, if it had anything to keep. */
export function admissionOf(req: IncomingMessage): ViewerAdmission | undefined {
  return admissions.get(req);
}

/** Keep the viewer's label for the request's session when the gate kept nothing else (a route without webhook or caps). */
export function keepLabel(req: IncomingMessage, label: string): void {
  if (!admissions.has(req)) admissions.set(req, { label });
}

/**
 * A request refused or gone after the gate admitted it, before a session scope opened: its
 * viewer place is given back here (refusal.ts and the relay's "viewer left" paths call it).
 */
export function releaseUnopened(req: IncomingMessage): void {
  const admission = admissions.get(req);
  if (admission && !admission.opened) admission.place?.leave();
}

/** Seconds to wait before trying again after a refusal with this code (Retry-After), if it says any. */
export function retryAfterOf(code: ErrorCode): number | undefined {
  if (code === 'VIEWER_LIMIT' || code === 'ADDRESS_LIMIT') return VIEWER_LIMIT_RETRY_AFTER_S;
  if (code === 'WEBHOOK_BUSY' || code === 'WEBHOOK_FAILED') return 2;
  return undefined;
}

export interface GateRequest {
  req: IncomingMessage;
  route: RouteConfig;
  target: RequestTarget;
  viewerAddress: string;
  /** The request opens a session (proxy, FLV, HLS handled by the relay); a redirect does not. */
  opensSession: boolean;
  /** The HLS handler answers it (an hls route's request through the relay). */
  hls: boolean;
  /** The label viewer auth found (static token, JWT). */
  label?: string;
}

export interface ViewerGateDeps {
  webhooks: AdmissionWebhooks;
  stops: StopNotifier;
  viewers: ViewerCounts;
  hlsSessions: HlsViewerSessions;
}

/** Whether the gate has anything to do for a route. */
export function gated(route: RouteConfig): boolean {
  return route.auth?.webhook !== undefined || route.limits.maxViewers > 0 || route.limits.maxViewersPerStream > 0;
}

export class ViewerGate {
  constructor(private readonly deps: ViewerGateDeps) {}

  /**
   * Admit the viewer: synchronously when nothing has to be asked, else once the webhook
   * answered. Throws (or rejects with) the RelayError to answer: the webhook's refusal, or a
   * LimitRefusal naming the cap.
   */
  pass(request: GateRequest): Vouch | Promise<Vouch> {
    const { req, route, target } = request;
    const key = streamKeyOf(nodePath(route, target.path));
    if (request.hls) return this.passHls(request, key);
    const hook = route.auth?.webhook;
    if (!request.opensSession && !hook) return { label: request.label };
    if (!hook) return this.admitSession(request, key, {});
    if (request.opensSession) this.checkRoom(route, key);
    return this.deps.webhooks.check(hook, this.question(request, key)).then((allow) => {
      if (!request.opensSession) return { label: allow.label ?? request.label };
      viewerStillThere(req);
      return this.admitSession(request, key, allow, hook);
    });
  }

  /** A session of a non-HLS request: its viewer place (asked of the fleet in fleet mode), and what its scope does at the end. */
  private admitSession(request: GateRequest, key: string, allow: WebhookAllow, hook?: RouteWebhookConfig): Vouch | Promise<Vouch> {
    const place = this.deps.viewers.admit(request.route, key);
    if (place instanceof Promise) return place.then((taken) => this.keepSession(request, key, taken, allow, hook));
    return this.keepSession(request, key, place, allow, hook);
  }

  private keepSession(request: GateRequest, key: string, place: ViewerPlace, allow: WebhookAllow, hook?: RouteWebhookConfig): Vouch {
    const { req, route } = request;
    const label = allow.label ?? request.label;
    const admission: ViewerAdmission = {
      label,
      place,
      deadline: allow.maxDurationMs === undefined ? undefined : Date.now() + allow.maxDurationMs,
      onClose: (session, status, errorCode) => {
        place.leave();
        if (hook?.stopUrl) this.deps.stops.notify(hook, stopRecordOf(session, key, route, label, status, errorCode));
      },
    };
    admissions.set(req, admission);
    return { label };
  }

  /** An HLS request: a request of a live session passes; else a new (or revived) session is admitted. */
  private passHls(request: GateRequest, key: string): Vouch | Promise<Vouch> {
    const { req, route, target } = request;
    const sessions = this.deps.hlsSessions;
    const identity = viewerIdentity(route.id, key, request.viewerAddress, String(req.headers['user-agent'] ?? ''), viewerQuery(req.url ?? ''));
    const found = sessions.lookup(target.query, route.id, key, identity);
    if (found.kind === 'live') {
      const session = found.session;
      if (session.deadline !== undefined && Date.now() >= session.deadline) {
        session.timedOut = true;
        throw new RelayError('AUTH_EXPIRED', `the viewer session reached the maximum duration its webhook allowed on route "${route.id}"`);
      }
      sessions.touch(session);
      admissions.set(req, hlsAdmission(session));
      return { label: session.label, hlsPiece: session.piece };
    }
    const reviveId = found.kind === 'revive' ? found.id : undefined;
    const hook = route.auth?.webhook;
    if (!hook) return this.openHls(request, key, identity, reviveId, {});
    this.checkRoom(route, key);
    return this.deps.webhooks.check(hook, this.question(request, key)).then((allow) => {
      viewerStillThere(req);
      return this.openHls(request, key, identity, reviveId, allow, hook);
    });
  }

  private openHls(
    request: GateRequest,
    key: string,
    identity: string,
    id: string | undefined,
    allow: WebhookAllow,
    hook?: RouteWebhookConfig,
  ): Vouch | Promise<Vouch> {
    // The same viewer's other request may have opened its session while this one waited for the webhook.
    const opened = this.openedMeanwhile(request, identity, id);
    if (opened) return opened;
    const place = this.deps.viewers.admit(request.route, key);
    if (!(place instanceof Promise)) return this.keepHls(request, key, identity, id, place, allow, hook);
    return place.then((taken) => {
      // ... or while this one waited for the fleet's count.
      const other = this.openedMeanwhile(request, identity, id);
      if (other) taken.leave();
      return other ?? this.keepHls(request, key, identity, id, taken, allow, hook);
    });
  }

  private openedMeanwhile(request: GateRequest, identity: string, id: string | undefined): Vouch | undefined {
    const opened = id === undefined ? this.deps.hlsSessions.ofIdentity(identity) : undefined;
    if (!opened) return undefined;
    this.deps.hlsSessions.touch(opened);
    admissions.set(request.req, hlsAdmission(opened));
    return { label: opened.label, hlsPiece: opened.piece };
  }

  private keepHls(
    request: GateRequest,
    key: string,
    identity: string,
    id: string | undefined,
    place: ViewerPlace,
    allow: WebhookAllow,
    hook?: RouteWebhookConfig,
  ): Vouch {
    const { req, route } = request;
    const label = allow.label ?? request.label;
    const session = this.deps.hlsSessions.open(id, {
      identity,
      routeId: route.id,
      streamKey: key,
      clientAddress: request.viewerAddress,
      label,
      onEnd: (ended, reason) => {
        place.leave();
        if (hook?.stopUrl) this.deps.stops.notify(hook, hlsStopRecord(ended, route, request.target.path, reason));
      },
    });
    if (allow.maxDurationMs !== undefined) session.deadline = session.startedAt + allow.maxDurationMs;
    this.deps.hlsSessions.touch(session);
    admissions.set(req, hlsAdmission(session));
    return { label, hlsPiece: session.piece };
  }

  /** Refuse at once when the caps are reached on this relay, before asking the webhook (the place itself, fleet-wide in fleet mode, is taken after it answered). */
  private checkRoom(route: RouteConfig, key: string): void {
    this.deps.viewers.join(route, key).leave();
  }

  private question(request: GateRequest, key: string): WebhookQuestion {
    const { req, route, target } = request;
    const hook = route.auth?.webhook as RouteWebhookConfig;
    const headers: Record<string, string> = {};
    for (const name of hook.headers) {
      const value = req.headers[name];
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return {
      routeId: route.id,
      streamKey: key,
      path: target.path,
      query: viewerQuery(req.url ?? ''),
      clientAddress: request.viewerAddress,
      headers,
      protocol: req.httpVersionMajor === 2 ? 'h2' : 'http/1.1',
      transport: isWebSocket(req) ? 'ws' : 'http',
      scheme: isEncrypted(req) ? 'https' : 'http',
      kind: route.kind,
    };
  }
}

/** After waiting for a webhook: a viewer that left meanwhile takes no place. */
function viewerStillThere(req: IncomingMessage): void {
  if (req.socket?.destroyed || req.destroyed) throw new RelayError('CLIENT_CLOSED', 'the viewer left while its webhook was asked');
}

/** An HLS request's admission: its scope adds the request's bytes and ending to the viewer session. */
function hlsAdmission(session: HlsViewerSession): ViewerAdmission {
  return {
    label: session.label,
    hls: session,
    onClose: (request, status, errorCode) => {
      session.bytesOut += request.bytesOut;
      session.bytesIn += request.bytesIn;
      session.status = status;
      session.errorCode = errorCode;
    },
  };
}

/** The viewer's query as sent, without the relay's own parameters (its hint and session): what a webhook is told. */
function viewerQuery(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return '';
  const kept = url
    .slice(at + 1)
    .split('&')
    .filter((piece) => piece.length > 0 && !piece.startsWith(`${HLS_HINT_PARAM}=`) && !piece.startsWith(`${HLS_SESSION_PARAM}=`));
  return kept.length > 0 ? `?${kept.join('&')}` : '';
}

function stopRecordOf(session: Session, key: string, route: RouteConfig, label: string | undefined, status: number, errorCode: string | undefined): StopRecord {
  const record: StopRecord = {
    action: 'stop',
    requestId: session.id,
    routeId: route.id,
    streamKey: key,
    path: session.facts.path,
    clientAddress: session.facts.clientAddress,
    transport: session.facts.transport,
    kind: route.kind,
    startedAt: session.startedAt,
    durationMs: Date.now() - session.startedAt,
    bytesOut: session.bytesOut,
    bytesIn: session.bytesIn,
    status,
    closeReason: errorCode ?? 'OK',
  };
  if (label !== undefined) record.label = label;
  return record;
}

/** An HLS session's end: idle after its last request (its close reason that request's), evicted, or the relay stopping. */
function hlsStopRecord(session: HlsViewerSession, route: RouteConfig, path: string, reason: string): StopRecord {
  const record: StopRecord = {
    action: 'stop',
    requestId: session.id,
    routeId: route.id,
    streamKey: session.streamKey,
    path,
    clientAddress: session.clientAddress,
    transport: 'http',
    kind: 'hls',
    startedAt: session.startedAt,
    durationMs: session.lastSeen - session.startedAt,
    bytesOut: session.bytesOut,
    bytesIn: session.bytesIn,
    status: session.status,
    closeReason: reason === 'IDLE' ? (session.timedOut ? 'SESSION_TIME_LIMIT' : (session.errorCode ?? 'OK')) : reason,
  };
  if (session.label !== undefined) record.label = session.label;
  return record;
}
