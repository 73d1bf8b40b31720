/**
 * Requests in flight on the relay port, and the bounded log of finished ones.
 * A session is removed from the live map the moment its viewer connection ends.
 */
import type { RouteMode } from '../../../shared/config.js';
import type { RequestLogEntry, SessionDto, ViewerTransport } from '../../../shared/dto.js';
import { RequestLog, type LoggedRequest } from './request-log.js';
import type { StatsBook } from './stats.js';
import type { RouteStatsDto } from '../../../shared/dto.js';

export interface SessionFacts {
  routeId: string;
  mode: RouteMode;
  method: string;
  /** "ws" for a WebSocket-FLV viewer (SessionDto.transport). */
  transport: ViewerTransport;
  path: string;
  nodeId: string;
  clientAddress: string;
  userAgent: string;
  /** The viewer's auth label (static token, JWT or webhook answer), when it has one. */
  label?: string;
}

/** A finished request as logged, its optional fields present but undefined: every one has the same shape, which keeps the logging code fast. */
function loggedRequest(id: string, facts: SessionFacts, startedAt: number, status: number, errorCode: string | undefined): LoggedRequest {
  return {
    id,
    routeId: facts.routeId,
    mode: facts.mode,
    method: facts.method,
    transport: facts.transport,
    path: facts.path,
    nodeId: facts.nodeId,
    movedFrom: undefined,
    clientAddress: facts.clientAddress,
    userAgent: facts.userAgent,
    label: facts.label,
    startedAt,
    bytesIn: 0,
    bytesOut: 0,
    status,
    errorCode,
    streamId: undefined,
    firstByteMs: undefined,
    firstKeyframeMs: undefined,
    framesDropped: undefined,
  };
}

/** Most earlier nodes a session remembers (SessionDto.movedFrom); older ones fall out. */
export const MAX_SESSION_MOVES_KEPT = 16;

/** What ends a session: its scope (session-scope.ts), which closes it exactly once. */
export interface SessionEnding {
  /** Cut the request now (operator kick, hard stop). */
  abort(reason: string): void;
  /** End the request cleanly (shutdown): the viewer's response is finished, upstream released. */
  finishGracefully(): void;
  /** The request ended with this status and error code: the session leaves the live map and enters the request log. */
  close(status: number, errorCode?: string): void;
}

/** One request in flight with a session (proxied, fan-out or HLS). Counters are bumped on the hot path. */

export class Session {
  bytesIn = 0;
  bytesOut = 0;
  status = 0;
  /** FLV fan-out viewers only (see SessionDto). */
  streamId?: string;
  firstByteMs?: number;
  firstKeyframeMs?: number;
  framesDropped?: number;
  /** Nodes the session was attributed to before facts.nodeId, oldest first (see SessionDto.movedFrom). */
  movedFrom?: string[];
  /** Traffic counters of the node serving this session, when known. */
  node?: { bytesIn: number; bytesOut: number };
  /** Bytes queued for the viewer now (fan-out viewers); set by the viewer. */
  queuedBytes: () => number = () => 0;
  readonly startedAt = Date.now();

  constructor(
    readonly id: string,
    readonly facts: SessionFacts,
    readonly routeStats: RouteStatsDto,
    private readonly ending: SessionEnding,
  ) {}

  /** Ends the session at once (viewer and upstream). */
  abort(reason: string): void {
    this.ending.abort(reason);
  }

  /** Ends the session cleanly: the viewer's response is finished, upstream released. */
  finishGracefully(): void {
    this.ending.finishGracefully();
  }

  /** The request ended: closed once through its scope, whoever calls first. */
  close(status: number, errorCode?: string): void {
    this.ending.close(status, errorCode);
  }

  /** The session as the request log and the log files keep it, ended with `errorCode` (one object shape for every request). */
  toLogged(errorCode: string | undefined): LoggedRequest {
    const request = loggedRequest(this.id, this.facts, this.startedAt, this.status, errorCode);
    request.bytesIn = this.bytesIn;
    request.bytesOut = this.bytesOut;
    if (this.movedFrom) request.movedFrom = [...this.movedFrom];
    if (this.streamId !== undefined) {
      request.streamId = this.streamId;
      request.framesDropped = this.framesDropped ?? 0;
      request.firstByteMs = this.firstByteMs;
      request.firstKeyframeMs = this.firstKeyframeMs;
    }
    return request;
  }

  toDto(): SessionDto {
    const dto: SessionDto = { id: this.id, ...this.facts, startedAt: this.startedAt, bytesIn: this.bytesIn, bytesOut: this.bytesOut, status: this.status };
    if (this.movedFrom) dto.movedFrom = [...this.movedFrom];
    if (this.streamId !== undefined) {
      dto.streamId = this.streamId;
      dto.framesDropped = this.framesDropped ?? 0;
      dto.queuedBytes = this.queuedBytes();
      if (this.firstByteMs !== undefined) dto.firstByteMs = this.firstByteMs;
      if (this.firstKeyframeMs !== undefined) dto.firstKeyframeMs = this.firstKeyframeMs;
    }
    return dto;
  }
}

/**
 * Who hears of each finished request besides the in-memory log: the access log and the session
 * records on disk (electron/engine/logs/). Called on the hot path, so it only queues, never waits.
 */
export interface FinishedRequestSink {
  /** A request answered without a session (a redirect, a refusal): its access line. */
  request(request: LoggedRequest, endedAt: number): void;
  /** A viewer session that ended (SessionRegistry.close): its access line and its session record. */
  session(request: LoggedRequest, endedAt: number): void;
}

export class SessionRegistry {
  private readonly live = new Map<string, Session>();
  /** Live sessions per node id, kept as sessions open and close (least-load reads it per request). */
  private readonly perNode = new Map<string, number>();
  private readonly finished: RequestLog;
  private nextId = 1;

  constructor(
    private readonly stats: StatsBook,
    requestLogEntries: number,
    /** The log files on disk; absent: the in-memory log only. */
    private readonly sink?: FinishedRequestSink,
  ) {
    this.finished = new RequestLog(requestLogEntries);
  }

  get size(): number {
    return this.live.size;
  }

  /** Add a live session; only a SessionScope opens one (it is the `ending` that closes it). */
  open(facts: SessionFacts, ending: SessionEnding): Session {
    const session = new Session(String(this.nextId++), facts, this.stats.route(facts.routeId), ending);
    this.live.set(session.id, session);
    this.perNode.set(facts.nodeId, (this.perNode.get(facts.nodeId) ?? 0) + 1);
    return session;
  }

  /** The session is now served by another node (an HLS request that moved on, an FLV stream that failed over or moved). */
  moveTo(session: Session, nodeId: string): void {
    if (!this.live.has(session.id) || session.facts.nodeId === nodeId) return;
    this.release(session.facts.nodeId);
    if (session.facts.nodeId) {
      const moved = (session.movedFrom ??= []);
      moved.push(session.facts.nodeId);
      if (moved.length > MAX_SESSION_MOVES_KEPT) moved.shift();
    }
    session.facts.nodeId = nodeId;
    this.perNode.set(nodeId, (this.perNode.get(nodeId) ?? 0) + 1);
  }

  /** Record a request answered without a live session (a redirect): no entry object is kept. */
  logAnswered(facts: SessionFacts, status: number, startedAt: number, errorCode?: string): void {
    const endedAt = Date.now();
    const request = loggedRequest('', facts, startedAt, status, errorCode);
    this.finished.record(request, endedAt);
    this.sink?.request(request, endedAt);
  }

  /** Remove the session and log it with its final status and optional error code (its scope calls this once). */
  close(session: Session, status: number, errorCode?: string): void {
    if (!this.live.delete(session.id)) return;
    this.release(session.facts.nodeId);
    session.status = status;
    if (errorCode) this.stats.countError(session.facts.routeId, errorCode);
    const endedAt = Date.now();
    const request = session.toLogged(errorCode);
    this.finished.record(request, endedAt);
    this.sink?.session(request, endedAt);
  }

  private release(nodeId: string): void {
    const left = (this.perNode.get(nodeId) ?? 1) - 1;
    if (left > 0) this.perNode.set(nodeId, left);
    else this.perNode.delete(nodeId);
  }

  get(id: string): Session | undefined {
    return this.live.get(id);
  }

  all(): Session[] {
    return [...this.live.values()];
  }

  list(): SessionDto[] {
    return this.all().map((s) => s.toDto());
  }

  recent(): RequestLogEntry[] {
    return this.finished.entries();
  }

  /** Live sessions per node id. */
  countByNode(): ReadonlyMap<string, number> {
    return this.perNode;
  }
}
