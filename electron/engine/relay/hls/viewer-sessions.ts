/**
 * HLS viewer sessions, for routes with an admission webhook or viewer caps: an HLS viewer
 * makes many requests (playlist reloads, segments), but is admitted once. Its first request
 * opens a session (after the webhook said yes and a viewer place was free); the relay then
 * writes the session into every URI of the playlists it serves that viewer, as the query
 * parameter HLS_SESSION_PARAM (`_rds=<id>.<mac>`), so its later requests are known and pass
 * without a webhook call or a new place. The MAC (HMAC-SHA256 under a random key of this
 * process, truncated) covers the route, the stream key and the id, so a viewer can neither
 * invent a session nor move one onto another stream; a valid but unknown session (ended for
 * idleness, or issued before a restart) is admitted again under the same id. A request
 * without the parameter (a player reloading the media playlist URL it was given) belongs to
 * the live session of the same viewer identity: client address, user agent and query (so two
 * players behind one address with the same player and credentials count as one viewer).
 *
 * A session ends after hls.viewerWindowMs without a request (its viewer place is given back
 * and its end reported: the stop webhook and stats), or when its webhook's maxDurationMs
 * passes (its requests are then refused). At most hls.maxTrackedViewers sessions are held;
 * past it the least recently active one ends first.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { HlsSettings } from '../../../../shared/config.js';
import { queryValue } from './query.js';

/** The session's query parameter name (reserved: hls.carryParams may not name it). */
export const HLS_SESSION_PARAM = '_rds';

const MAC_KEY = randomBytes(32);
const SESSION_VALUE = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{16})$/;
/** How often idle sessions are looked for, ms. */
const SWEEP_MS = 1_000;

function macOf(routeId: string, streamKey: string, id: string): string {
  return createHmac('sha256', MAC_KEY).update(`${routeId}\n${streamKey}\n${id}`).digest('base64url').slice(0, 16);
}

/** One HLS viewer, from its first admitted request to its last. */
export class HlsViewerSession {
  readonly startedAt = Date.now();
  lastSeen = this.startedAt;
  bytesOut = 0;
  bytesIn = 0;
  /** Requests served in the session. */
  requests = 0;
  /** The last request's status, and the error code it ended with. */
  status = 200;
  errorCode: string | undefined;
  /** Epoch ms after which its requests are refused (the webhook's maxDurationMs), if any. */
  deadline: number | undefined;
  /** A request came after the deadline and was refused. */
  timedOut = false;
  ended = false;
  /** The viewer identity it was opened under (viewerIdentity). */
  identity = '';

  constructor(
    readonly id: string,
    readonly routeId: string,
    readonly streamKey: string,
    readonly clientAddress: string,
    readonly label: string | undefined,
    /** Called once when the session ends (idle, evicted, or the relay stopping). */
    readonly onEnd: (session: HlsViewerSession, reason: string) => void,
  ) {}

  /** The query piece the relay writes into this viewer's playlist URIs. */
  get piece(): string {
    return `${HLS_SESSION_PARAM}=${this.id}.${macOf(this.routeId, this.streamKey, this.id)}`;
  }
}

/** What a request's session parameter says. */
export type SessionLookup =
  | { kind: 'live'; session: HlsViewerSession }
  /** A session this process issued for this stream, not open now: reopen it under `id`. */
  | { kind: 'revive'; id: string }
  /** No parameter, or one that does not verify for this route and stream. */
  | { kind: 'none' };

export class HlsViewerSessions {
  /** Sessions by id, least recently active first. */
  private readonly sessions = new Map<string, HlsViewerSession>();
  /** Live sessions by viewer identity (requests without the session parameter). */
  private readonly byIdentity = new Map<string, HlsViewerSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly settings: () => HlsSettings) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /** The session a request names in its query (verified against its route and stream key), else the live one of its viewer identity. */
  lookup(query: string, routeId: string, streamKey: string, identity: string): SessionLookup {
    const value = query.includes(HLS_SESSION_PARAM) ? queryValue(query, HLS_SESSION_PARAM) : undefined;
    const parts = value === undefined ? null : SESSION_VALUE.exec(value);
    if (!parts) {
      const same = this.byIdentity.get(identity);
      return same ? { kind: 'live', session: same } : { kind: 'none' };
    }
    const [, id, mac] = parts;
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(macOf(routeId, streamKey, id)))) return { kind: 'none' };
    const session = this.sessions.get(id);
    if (!session || session.routeId !== routeId || session.streamKey !== streamKey) return { kind: 'revive', id };
    return { kind: 'live', session };
  }

  /** The live session of a viewer identity, if any. */
  ofIdentity(identity: string): HlsViewerSession | undefined {
    return this.byIdentity.get(identity);
  }

  /** Open a session (under `id` when reviving one); the least recently active one ends when hls.maxTrackedViewers are held. */
  open(id: string | undefined, fields: SessionFields): HlsViewerSession {
    const session = new HlsViewerSession(
      id ?? randomBytes(12).toString('base64url'),
      fields.routeId,
      fields.streamKey,
      fields.clientAddress,
      fields.label,
      fields.onEnd,
    );
    session.identity = fields.identity;
    this.sessions.set(session.id, session);
    const earlier = this.byIdentity.get(fields.identity);
    if (earlier) this.end(earlier, 'REPLACED');
    this.byIdentity.set(fields.identity, session);
    while (this.sessions.size > this.settings().maxTrackedViewers) {
      const oldest = this.sessions.values().next().value as HlsViewerSession;
      this.end(oldest, 'EVICTED');
    }
    return session;
  }

  /** A request of the session was admitted: it is active again. */
  touch(session: HlsViewerSession): void {
    session.lastSeen = Date.now();
    session.requests += 1;
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
  }

  /** End every session (relay stopping). */
  close(): void {
    clearInterval(this.sweeper);
    for (const session of [...this.sessions.values()]) this.end(session, 'STOPPING');
  }

  private sweep(): void {
    const idleBefore = Date.now() - this.settings().viewerWindowMs;
    for (const session of this.sessions.values()) {
      if (session.lastSeen > idleBefore) break;
      this.end(session, 'IDLE');
    }
  }

  private end(session: HlsViewerSession, reason: string): void {
    this.sessions.delete(session.id);
    if (this.byIdentity.get(session.identity) === session) this.byIdentity.delete(session.identity);
    if (session.ended) return;
    session.ended = true;
    session.onEnd(session, reason);
  }
}

/** The fields of a new session besides its id. */
export interface SessionFields {
  /** viewerIdentity() of the request that opened it. */
  identity: string;
  routeId: string;
  streamKey: string;
  clientAddress: string;
  label: string | undefined;
  onEnd: (session: HlsViewerSession, reason: string) => void;
}

/** Who a request without the session parameter is: route, stream, client address, user agent and query (relay parameters removed), hashed. */
export function viewerIdentity(routeId: string, streamKey: string, clientAddress: string, userAgent: string, query: string): string {
  return createHash('sha256').update(`${routeId}\n${streamKey}\n${clientAddress}\n${userAgent}\n${query}`).digest('base64url');
}
