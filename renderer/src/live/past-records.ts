/**
 * The Traffic page's records from disk (listLogRecords): pages of the session records or the
 * access log, newest first, loaded on demand ("Load older"), each page older than the last
 * through the engine's cursor. The rows are bounded by the same setting as the live log
 * (app.trafficLogEntries): past it the newest rows loaded are dropped (and counted), since
 * the page loads towards older ones. A new query (file, search, older-than time) starts over;
 * an answer to an abandoned query is ignored.
 */
import type { ApiError, RelayDeckApi } from '../../../shared/api.js';
import {
  MAX_LOGGED_NAME_CHARS,
  MAX_LOGGED_PATH_CHARS,
  type LogFileName,
  type LogRecordDto,
  type LogRecordsDto,
  type LogRecordsQuery,
} from '../../../shared/dto.js';
import { asApiError } from '../transport.js';
import { ExternalStore } from './external-store.js';

/** Records asked for per page. */
export const PAST_PAGE_SIZE = 200;

/** What the operator asks the disk for. */
export interface PastQuery {
  file: LogFileName;
  /** Case-insensitive text every record must hold; "" for all. */
  search: string;
  /** Only records that ended before this epoch ms (e.g. just after the oldest the live list holds: olderThanLive). */
  before?: number;
  /**
   * Rows the page already shows that ended in the last millisecond before `before`, as
   * recordKey()s: each is left out of the answer once, so the other requests that ended in
   * that same millisecond (dropped from the live list) still come back, and none twice.
   */
  shownAtEdge?: readonly string[];
}

/**
 * What tells a finished request apart on the page and on disk: when it started and ended,
 * method, path, status, client, each cut as a log line cuts it. Exact for the JSON access log
 * (the default); a combined-format line holds whole seconds and no end, so with
 * logs.accessFormat "combined" the list's rows of its oldest second may come back from disk too.
 */
export function recordKey(r: Pick<LogRecordDto, 'startedAt' | 'durationMs' | 'method' | 'path' | 'status' | 'clientAddress'>): string {
  const method = r.method.slice(0, MAX_LOGGED_NAME_CHARS);
  const client = r.clientAddress.slice(0, MAX_LOGGED_NAME_CHARS);
  return [r.startedAt, r.startedAt + r.durationMs, method, r.path.slice(0, MAX_LOGGED_PATH_CHARS), r.status, client].join('\n');
}

/** A row of the live list, as olderThanLive reads it. */
type LiveRow = Pick<LogRecordDto, 'startedAt' | 'durationMs' | 'method' | 'path' | 'status' | 'clientAddress'> & { live: boolean };

/**
 * The disk query for what the live list no longer holds ("Older from disk"): records that
 * ended up to its oldest finished row's millisecond, less the rows of that millisecond it
 * still shows (several requests can end in one millisecond, and the list may have dropped
 * some of them). Empty when the list holds no finished row.
 */
export function olderThanLive(rows: readonly LiveRow[]): Pick<PastQuery, 'before' | 'shownAtEdge'> {
  let oldest = Infinity;
  for (const row of rows) if (!row.live) oldest = Math.min(oldest, row.startedAt + row.durationMs);
  if (oldest === Infinity) return {};
  const shownAtEdge = rows.filter((row) => !row.live && row.startedAt + row.durationMs === oldest).map(recordKey);
  return { before: oldest + 1, shownAtEdge };
}

/** Left out of a query's answers: each key in `query.shownAtEdge`, as many times as it is there. */
function edgeSkips(query: PastQuery): Map<string, number> {
  const skips = new Map<string, number>();
  for (const key of query.shownAtEdge ?? []) skips.set(key, (skips.get(key) ?? 0) + 1);
  return skips;
}

/** A row of the list: a record with a local key. */
export interface PastRow extends LogRecordDto {
  key: number;
}

/** The one call the store makes (api.listLogRecords with its body). */
export type FetchPastPage = (query: LogRecordsQuery) => Promise<LogRecordsDto>;

/**
 * listLogRecords through `api`, each page's limit kept within the engine's logs.readMaxRecords
 * (read once, with the first page), so a lowered setting never makes the page refuse to load.
 */
export function pastRecordsFetch(api: Pick<RelayDeckApi, 'getSettings' | 'listLogRecords'>): FetchPastPage {
  let maxRecords: number | undefined;
  return async (query) => {
    maxRecords ??= (await api.getSettings({})).logs.readMaxRecords;
    return api.listLogRecords({ body: { ...query, limit: Math.min(query.limit ?? PAST_PAGE_SIZE, maxRecords) } });
  };
}

/** The call's body for a query and a cursor, with no undefined field (query strings would carry "undefined"). */
export function pageQuery(query: PastQuery, cursor: string | undefined, limit: number): LogRecordsQuery {
  const body: LogRecordsQuery = { file: query.file, limit };
  const search = query.search.trim();
  if (search) body.search = search;
  if (query.before !== undefined) body.before = query.before;
  if (cursor) body.cursor = cursor;
  return body;
}

export class PastRecordsStore extends ExternalStore {
  private rowsNewestFirst: PastRow[] = [];
  private nextKey = 1;
  /** Bumped by each new query: answers to an older one are ignored. */
  private generation = 0;
  query: PastQuery = { file: 'sessions', search: '' };
  /** What of query.shownAtEdge is still to be left out (bounded by the rows the page showed). */
  private skipsLeft = new Map<string, number>();
  /** Where the next page starts; undefined before the first page; null once the oldest file was read to its start. */
  cursor: string | null | undefined = undefined;
  loading = false;
  error: ApiError | undefined;
  /** Newest rows dropped to stay within the bound. */
  dropped = 0;
  /** Lines the engine skipped (not a record) and bytes it read, over the pages loaded. */
  skippedLines = 0;
  scannedBytes = 0;

  constructor(
    private readonly fetchPage: FetchPastPage,
    private capacity: number,
    private readonly pageSize = PAST_PAGE_SIZE,
  ) {
    super();
  }

  get rows(): readonly PastRow[] {
    return this.rowsNewestFirst;
  }

  /** True once the oldest record was loaded. */
  get done(): boolean {
    return this.cursor === null;
  }

  /** Change the bound (the setting changed); keeps the oldest rows loaded. */
  resize(capacity: number): void {
    if (capacity === this.capacity) return;
    this.capacity = capacity;
    this.trim();
    this.changed();
  }

  /** Forget what was loaded and load the newest page for `query`. */
  reset(query: PastQuery): Promise<void> {
    this.generation += 1;
    this.query = query;
    this.skipsLeft = edgeSkips(query);
    this.rowsNewestFirst = [];
    this.cursor = undefined;
    this.dropped = 0;
    this.skippedLines = 0;
    this.scannedBytes = 0;
    this.error = undefined;
    this.loading = false;
    return this.loadOlder();
  }

  /** Load the next older page (nothing when one is loading or the oldest was reached). */
  async loadOlder(): Promise<void> {
    if (this.loading || this.done) return;
    const generation = this.generation;
    this.loading = true;
    this.error = undefined;
    this.changed();
    try {
      const page = await this.fetchPage(pageQuery(this.query, this.cursor ?? undefined, this.pageSize));
      if (generation !== this.generation) return;
      this.append(page);
    } catch (caught) {
      if (generation !== this.generation) return;
      this.error = asApiError(caught);
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.changed();
      }
    }
  }

  private append(page: LogRecordsDto): void {
    for (const record of page.records) if (!this.shownAlready(record)) this.rowsNewestFirst.push({ ...record, key: this.nextKey++ });
    this.cursor = page.cursor;
    this.skippedLines += page.skippedLines;
    this.scannedBytes += page.scannedBytes;
    this.trim();
  }

  /** True (once per key) for a record the page already shows: it ended in the edge millisecond and its key is in query.shownAtEdge. */
  private shownAlready(record: LogRecordDto): boolean {
    if (this.skipsLeft.size === 0 || record.endedAt !== (this.query.before ?? 0) - 1) return false;
    const key = recordKey(record);
    const left = this.skipsLeft.get(key) ?? 0;
    if (left === 0) return false;
    if (left === 1) this.skipsLeft.delete(key);
    else this.skipsLeft.set(key, left - 1);
    return true;
  }

  private trim(): void {
    const over = this.rowsNewestFirst.length - this.capacity;
    if (over <= 0) return;
    this.rowsNewestFirst = this.rowsNewestFirst.slice(over);
    this.dropped += over;
  }
}
