/**
 * The input of listLogRecords, validated strictly with errors that name the field. Over HTTP
 * every value arrives as query text ("?limit=50&before=1733300000000"), over IPC as JSON
 * values: integers are accepted either way.
 */
import type { LogFileName, LogRecordsQuery } from '../../../shared/dto.js';
import { integer, object, oneOf, optional, SchemaError, string, type Schema } from '../../../shared/schema.js';
import { CURSOR_PATTERN } from './record-reader.js';

/** Records answered when the call gives no limit (at most logs.readMaxRecords). */
export const DEFAULT_LOG_RECORDS_LIMIT = 100;
/** Longest search text. */
export const MAX_LOG_SEARCH_CHARS = 200;

/** An integer, also written as decimal text (a query parameter). */
function wholeNumber(min: number, max: number): Schema<number> {
  const inner = integer(min, max);
  return {
    range: inner.range,
    parse(value, path) {
      const number = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
      return inner.parse(number, path);
    },
  };
}

const querySchema = object({
  file: optional(oneOf(['sessions', 'access'] as const)),
  before: optional(wholeNumber(0, 8_640_000_000_000_000)),
  cursor: optional(string({ min: 3, max: 48, pattern: CURSOR_PATTERN, patternName: 'a cursor from a previous answer' })),
  limit: optional(wholeNumber(1, 1_000_000)),
  search: optional(string({ max: MAX_LOG_SEARCH_CHARS })),
});

/** A validated query with its defaults filled. */
export interface RecordQuery {
  file: LogFileName;
  before?: number;
  cursor?: string;
  limit: number;
  /** Lower case, trimmed; absent when empty. */
  search?: string;
}

/** Validate the call's `body` (`path` names it in errors); `maxRecords` is logs.readMaxRecords. */
export function parseRecordQuery(body: unknown, path: string, maxRecords: number): RecordQuery {
  const query: LogRecordsQuery = querySchema.parse(body ?? {}, path);
  const limit = query.limit ?? Math.min(DEFAULT_LOG_RECORDS_LIMIT, maxRecords);
  if (limit > maxRecords) throw new SchemaError(`${path}.limit`, `expected at most ${maxRecords} (logs.readMaxRecords), got ${limit}`);
  const search = query.search?.trim().toLowerCase();
  return {
    file: query.file ?? 'sessions',
    ...(query.before !== undefined ? { before: query.before } : {}),
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    limit,
    ...(search ? { search } : {}),
  };
}
