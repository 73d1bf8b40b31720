/**
 * Finds the requests that finished since the last look in the engine's bounded request log
 * (oldest first). The log has no sequence numbers, so the cursor remembers the last few
 * entries it returned and finds them again: while the log is still filling, the new
 * entries are simply the ones past the old length; once it is full and rolling, the new
 * entries are the ones after the remembered tail. When the tail is gone (the log rolled
 * over completely between two looks) every entry is new and `gap` says some were lost.
 */
import type { RequestLogEntry } from '../../shared/dto.js';

/** Entries remembered to find the old position again; more makes a false match less likely. */
export const LOG_CURSOR_TAIL_ENTRIES = 4;

function fingerprint(entry: RequestLogEntry): string {
  return `${entry.id}|${entry.startedAt}|${entry.durationMs}|${entry.status}|${entry.bytesOut}|${entry.clientAddress}|${entry.method} ${entry.path}`;
}

export interface LogDelta {
  fresh: RequestLogEntry[];
  /** True when entries may have been lost between two looks. */
  gap: boolean;
}

export class LogCursor {
  /** Fingerprints of the last entries returned, oldest first. */
  private tail: string[] = [];
  /** Length of the log at the last look. */
  private length = 0;

  /** The entries of `log` not returned before (everything on the first look). */
  next(log: readonly RequestLogEntry[]): LogDelta {
    let from = 0;
    let gap = false;
    if (this.tail.length > 0) {
      from = this.resumeIndex(log);
      if (from < 0) {
        from = 0;
        gap = true;
      }
    }
    this.tail = log.slice(-LOG_CURSOR_TAIL_ENTRIES).map(fingerprint);
    this.length = log.length;
    return { fresh: log.slice(from), gap };
  }

  /** Index of the first new entry, or -1 when the old tail cannot be found. */
  private resumeIndex(log: readonly RequestLogEntry[]): number {
    const k = this.tail.length;
    // Still filling (or nothing new): the old entries keep their places.
    if (log.length >= this.length && this.matchesAt(log, this.length - k)) return this.length;
    // Rolling: look for the old tail, newest position first.
    for (let start = log.length - k; start >= 0; start -= 1) {
      if (this.matchesAt(log, start)) return start + k;
    }
    return -1;
  }

  private matchesAt(log: readonly RequestLogEntry[], start: number): boolean {
    if (start < 0 || start + this.tail.length > log.length) return false;
    return this.tail.every((print, i) => fingerprint(log[start + i]) === print);
  }
}
