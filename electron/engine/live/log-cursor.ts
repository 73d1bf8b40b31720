/**
 * Finds the requests that finished since the last look in the engine's bounded request log
 * (oldest first), by the entries' numbers (RequestLogEntry.seq): the new ones are those
 * numbered after the last one returned. When the log rolled past entries between two looks
 * (the first entry returned is not the next number), `gap` says some were lost.
 */
import type { RequestLogEntry } from '../../../shared/dto.js';

export interface LogDelta {
  fresh: RequestLogEntry[];
  /** True when entries may have been lost between two looks. */
  gap: boolean;
}

export class LogCursor {
  /** Number of the last entry returned (0: none yet). */
  private lastSeq = 0;

  /** The entries of `log` not returned before (everything on the first look). */
  next(log: readonly RequestLogEntry[]): LogDelta {
    let from = log.length;
    while (from > 0 && log[from - 1].seq > this.lastSeq) from -= 1;
    const fresh = log.slice(from);
    const gap = this.lastSeq > 0 && fresh.length > 0 && fresh[0].seq > this.lastSeq + 1;
    if (fresh.length > 0) this.lastSeq = fresh[fresh.length - 1].seq;
    return { fresh, gap };
  }
}
