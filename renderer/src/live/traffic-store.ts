/**
 * The Traffic page's data: finished requests in a ring of fixed capacity
 * (app.trafficLogEntries, default 10,000; the oldest are dropped) and the requests in
 * flight now, replaced by each traffic event so their bytes keep growing. Rows get a
 * local key for the virtualized list; finished requests keep the engine's number (seq).
 */
import type { RequestLogEntry, SessionDto } from '../../../shared/dto.js';
import type { TrafficEvent } from '../../../shared/events.js';
import { ExternalStore } from './external-store.js';

/** A row of the traffic list: a finished request, or one in flight (`live`). */
export interface TrafficRow extends SessionDto {
  /** Local key, unique per row. */
  key: number;
  live: boolean;
  durationMs: number;
  errorCode?: string;
}

/** Entries kept when no setting says otherwise (shared/config.ts DEFAULT_TRAFFIC_LOG_ENTRIES). */
export const DEFAULT_TRAFFIC_CAPACITY = 10_000;

export class TrafficStore extends ExternalStore {
  private ring: (TrafficRow | undefined)[];
  private start = 0;
  private count = 0;
  private nextKey = 1;
  private live: TrafficRow[] = [];
  /** Finished rows dropped from the ring to stay within capacity. */
  dropped = 0;
  /** Requests in flight, counted by the engine (the event may carry fewer). */
  liveTotal = 0;
  /** Times the engine's own log rolled over between two events (entries lost there). */
  gaps = 0;
  /** Number (RequestLogEntry.seq) of the newest finished request held. */
  private lastSeq = 0;
  /** From the load until settled(): events held meanwhile may repeat entries the load had (they are skipped). */
  private overlapping = false;

  constructor(private capacity = DEFAULT_TRAFFIC_CAPACITY) {
    super();
    this.ring = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get limit(): number {
    return this.capacity;
  }

  /** Change the bound (the setting changed); keeps the newest rows. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    const rows = this.finishedOldestFirst().slice(-capacity);
    this.capacity = capacity;
    this.ring = new Array(capacity);
    this.start = 0;
    this.count = 0;
    for (const row of rows) this.push(row);
    this.changed();
  }

  /** The log as first fetched (listRequestLog) and the sessions in flight (listSessions). */
  load(log: RequestLogEntry[], live: SessionDto[]): void {
    for (const entry of log) this.pushFinished(entry);
    this.overlapping = true;
    this.setLive(live, live.length);
    this.changed();
  }

  apply(event: TrafficEvent): void {
    for (const entry of event.finished) this.pushFinished(entry);
    if (event.gap) this.gaps += 1;
    this.setLive(event.live, event.liveTotal);
    this.changed();
  }

  /** The events held during the load are applied: from now on a lower number means the engine restarted. */
  settled(): void {
    this.overlapping = false;
  }

  clear(): void {
    this.ring = new Array(this.capacity);
    this.start = 0;
    this.count = 0;
    this.dropped = 0;
    this.changed();
  }

  /**
   * A finished request, unless it is held already: an event held during the load, or one that
   * was on its way while the load was answered, repeats entries. Past that, the engine's numbers
   * only grow, so a lower number that is not a copy of a kept row means the engine restarted.
   */
  private pushFinished(entry: RequestLogEntry): void {
    if (entry.seq <= this.lastSeq && (this.overlapping || this.holds(entry))) return;
    this.lastSeq = entry.seq;
    this.push(this.row(entry, false));
  }

  /**
   * True when a kept row is this very entry (same number, start, duration and path). Walks back
   * from the newest row through the current engine run only (numbers fall going back).
   */
  private holds(entry: RequestLogEntry): boolean {
    let above = Infinity;
    for (let i = this.count - 1; i >= 0; i -= 1) {
      const row = this.ring[(this.start + i) % this.capacity] as TrafficRow & { seq: number };
      if (row.seq > above || row.seq < entry.seq) return false;
      if (row.seq === entry.seq) return row.startedAt === entry.startedAt && row.durationMs === entry.durationMs && row.path === entry.path;
      above = row.seq;
    }
    return false;
  }

  private row(entry: RequestLogEntry | SessionDto, live: boolean): TrafficRow {
    const durationMs = 'durationMs' in entry ? entry.durationMs : Date.now() - entry.startedAt;
    return { ...entry, durationMs, key: this.nextKey++, live };
  }

  private setLive(sessions: SessionDto[], total: number): void {
    const now = Date.now();
    this.live = sessions.map((s) => ({ ...s, key: -Number(s.id) || -this.nextKey++, live: true, durationMs: now - s.startedAt }));
    this.liveTotal = total;
  }

  private push(row: TrafficRow): void {
    const at = (this.start + this.count) % this.capacity;
    this.ring[at] = row;
    if (this.count < this.capacity) this.count += 1;
    else {
      this.start = (this.start + 1) % this.capacity;
      this.dropped += 1;
    }
  }

  private finishedOldestFirst(): TrafficRow[] {
    const out: TrafficRow[] = [];
    for (let i = 0; i < this.count; i += 1) out.push(this.ring[(this.start + i) % this.capacity] as TrafficRow);
    return out;
  }

  /** Requests in flight (newest first), then finished ones, newest first. */
  rowsNewestFirst(): TrafficRow[] {
    const live = [...this.live].sort((a, b) => b.startedAt - a.startedAt);
    const out: TrafficRow[] = live;
    for (let i = this.count - 1; i >= 0; i -= 1) out.push(this.ring[(this.start + i) % this.capacity] as TrafficRow);
    return out;
  }
}
