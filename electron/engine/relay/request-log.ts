/**
 * The bounded log of finished requests (relay.requestLogEntries). Entries live in slots
 * allocated once and overwritten in turn, so logging a request on the hot path (a redirect
 * at tens of thousands per second) allocates no long-lived objects. Each entry is numbered
 * (seq, 1 at engine start), so a reader finds what is new without guessing.
 */
import type { RouteMode } from '../../../shared/config.js';
import type { RequestLogEntry, ViewerTransport } from '../../../shared/dto.js';

class LogSlot {
  seq = 0;
  id = '';
  routeId = '';
  mode: RouteMode = 'proxy';
  method = '';
  transport: ViewerTransport = 'http';
  path = '';
  nodeId = '';
  /** Earlier nodes of a session that moved (kept by reference: only moved sessions have one). */
  movedFrom: string[] | undefined = undefined;
  clientAddress = '';
  userAgent = '';
  /** The viewer's auth label, '' when none. */
  label = '';
  startedAt = 0;
  bytesIn = 0;
  bytesOut = 0;
  status = 0;
  durationMs = 0;
  errorCode = '';
  streamId = '';
  firstByteMs = -1;
  firstKeyframeMs = -1;
  framesDropped = -1;

  toEntry(): RequestLogEntry {
    const entry: RequestLogEntry = {
      seq: this.seq,
      id: this.id,
      routeId: this.routeId,
      mode: this.mode,
      method: this.method,
      transport: this.transport,
      path: this.path,
      nodeId: this.nodeId,
      clientAddress: this.clientAddress,
      userAgent: this.userAgent,
      startedAt: this.startedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      status: this.status,
      durationMs: this.durationMs,
    };
    if (this.errorCode) entry.errorCode = this.errorCode;
    if (this.label) entry.label = this.label;
    if (this.movedFrom) entry.movedFrom = [...this.movedFrom];
    if (this.streamId) {
      entry.streamId = this.streamId;
      if (this.firstByteMs >= 0) entry.firstByteMs = this.firstByteMs;
      if (this.firstKeyframeMs >= 0) entry.firstKeyframeMs = this.firstKeyframeMs;
      entry.framesDropped = Math.max(0, this.framesDropped);
    }
    return entry;
  }
}

/** What a finished request is logged with; optional fields default to absent. */
export interface LoggedRequest {
  id: string;
  routeId: string;
  mode: RouteMode;
  method: string;
  transport: ViewerTransport;
  path: string;
  nodeId: string;
  movedFrom?: string[];
  clientAddress: string;
  userAgent: string;
  /** The viewer's auth label (static token, JWT or webhook answer). */
  label?: string;
  startedAt: number;
  bytesIn: number;
  bytesOut: number;
  status: number;
  errorCode?: string;
  streamId?: string;
  firstByteMs?: number;
  firstKeyframeMs?: number;
  framesDropped?: number;
}

export class RequestLog {
  private readonly slots: LogSlot[];
  private next = 0;
  private count = 0;
  /** Requests recorded since the engine started: the last entry's seq. */
  private recorded = 0;

  constructor(readonly capacity: number) {
    this.slots = Array.from({ length: capacity }, () => new LogSlot());
  }

  /** Overwrite the oldest slot with this request (no-op when capacity is 0). */
  record(request: LoggedRequest, endedAt = Date.now()): void {
    if (this.capacity === 0) return;
    const slot = this.slots[this.next];
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count += 1;
    this.recorded += 1;
    slot.seq = this.recorded;
    slot.id = request.id;
    slot.routeId = request.routeId;
    slot.mode = request.mode;
    slot.method = request.method;
    slot.transport = request.transport;
    slot.path = request.path;
    slot.nodeId = request.nodeId;
    slot.movedFrom = request.movedFrom;
    slot.clientAddress = request.clientAddress;
    slot.userAgent = request.userAgent;
    slot.label = request.label ?? '';
    slot.startedAt = request.startedAt;
    slot.bytesIn = request.bytesIn;
    slot.bytesOut = request.bytesOut;
    slot.status = request.status;
    slot.durationMs = endedAt - request.startedAt;
    slot.errorCode = request.errorCode ?? '';
    slot.streamId = request.streamId ?? '';
    slot.firstByteMs = request.firstByteMs ?? -1;
    slot.firstKeyframeMs = request.firstKeyframeMs ?? -1;
    slot.framesDropped = request.framesDropped ?? -1;
  }

  /** Oldest first. */
  entries(): RequestLogEntry[] {
    const out: RequestLogEntry[] = [];
    const start = (this.next - this.count + this.capacity) % Math.max(1, this.capacity);
    for (let i = 0; i < this.count; i += 1) out.push(this.slots[(start + i) % this.capacity].toEntry());
    return out;
  }

  get size(): number {
    return this.count;
  }
}
