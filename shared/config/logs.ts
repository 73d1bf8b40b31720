/**
 * The `logs` section: the access log (one line per finished request) and the session records
 * (one JSON line per viewer session when it ends), written to disk off the hot path through a
 * bounded queue and rotated by size and time (electron/engine/logs/). Each file has its own
 * `logs.access` / `logs.sessions` object; the folder and the read bounds of the past-records
 * call (listLogRecords) are shared.
 */
import { boolean, integer, object, oneOf, SchemaError, setting, string, type Schema } from '../schema.js';

/** How access log lines are written: JSON Lines (one JSON object per line), or Apache/nginx "combined". */
export const ACCESS_LOG_FORMATS = ['json', 'combined'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];

/** Most bytes a log file grows to before it is rotated (1 TiB). */
const MAX_ROTATE_BYTES = 1_099_511_627_776;
const MIB = 1_048_576;

/** What each rotation interval unit accepts: s and m must divide 60, h must divide 24 (rotations fall on whole boundaries). */
const INTERVAL_UNITS: Record<string, { divides?: number; max: number; words: string }> = {
  s: { divides: 60, max: 60, words: 'a minute' },
  m: { divides: 60, max: 60, words: 'an hour' },
  h: { divides: 24, max: 24, words: 'a day' },
  d: { max: 366, words: '' },
};

/** A rotation interval: "" (none) or a whole number followed by s, m, h or d ("30m", "6h", "1d"). */
export const rotationInterval = (): Schema<string> => {
  const text = string({ max: 8 });
  return {
    parse(value, path) {
      const parsed = text.parse(value, path);
      if (parsed === '') return parsed;
      const match = /^([1-9][0-9]{0,2})([smhd])$/.exec(parsed);
      if (!match) throw new SchemaError(path, `expected "" or a whole number followed by s, m, h or d ("30m", "6h", "1d"), got "${parsed}"`);
      const count = Number(match[1]);
      const unit = INTERVAL_UNITS[match[2]];
      if (count > unit.max) throw new SchemaError(path, `expected at most ${unit.max}${match[2]}, got "${parsed}"`);
      if (unit.divides && unit.divides % count !== 0)
        throw new SchemaError(path, `"${parsed}" does not divide ${unit.words} evenly (rotations fall on whole boundaries)`);
      return parsed;
    },
  };
};

/** The rotation, retention and queue settings each log file has. */
function fileSettings(what: string) {
  return {
    enabled: setting(boolean(), true, { doc: `Write the ${what}.` }),
    rotateBytes: setting(integer(0, MAX_ROTATE_BYTES), 64 * MIB, {
      unit: 'bytes',
      doc: `The ${what} is rotated (renamed with its rotation time, a new file begun) once it holds this much; a batch of lines is never split, so a file may pass it by one batch. 0 = no rotation by size.`,
    }),
    rotateInterval: setting(rotationInterval(), '1d', {
      doc: `The ${what} is also rotated at each such boundary, in UTC ("1d": at midnight UTC; "6h", "30m", "10s"; s and m must divide 60, h must divide 24). Empty = no rotation by time.`,
    }),
    maxFiles: setting(integer(1, 10_000), 10, {
      unit: 'files',
      doc: `Rotated files of the ${what} kept; at each rotation the oldest beyond this are deleted. With rotation by size the disk holds at most about (maxFiles + 1) × rotateBytes.`,
    }),
    queueLines: setting(integer(1, 1_000_000), 10_000, {
      unit: 'lines',
      doc:
        `Lines of the ${what} waiting to be written (the batch being written included). The relay never waits for the disk: when the disk is slower than the traffic, ` +
        'lines past this bound are dropped and counted (getLogs, /metrics). Each waiting line holds about 0.5 to 10 KB.',
    }),
  };
}

/** The access log: every finished request (redirects, proxied requests, viewer sessions, refusals), one line each. */
export const accessLogSchema = object({
  ...fileSettings('access log'),
  format: setting(oneOf(ACCESS_LOG_FORMATS), 'json', {
    doc:
      '"json": one JSON object per line (JSON Lines) with every field the request log has; "combined": the Apache/nginx combined format ' +
      '(client, auth label as the user, start time, "METHOD PATH" without the protocol, status, bytes sent, no referer, user agent; ' +
      'quotes, backslashes, spaces in the request and any control or non-ASCII byte written as \\xHH). The file is access.log either way.',
  }),
});

/** The session records: one JSON line per viewer session when it ends (not redirects or refusals). */
export const sessionRecordsSchema = object(fileSettings('session records file (sessions.jsonl)'));

/** The `logs` section. */
export const logsSettingsSchema = object({
  dir: setting(string({ max: 1024, pattern: /^[^\0\r\n]*$/, patternName: 'a folder path' }), '', {
    doc:
      'Folder of access.log and sessions.jsonl and their rotated files: absolute, or relative to the folder of the config file; empty = a "logs" folder beside the config file. ' +
      'Created (mode 0700) when missing; files are mode 0600. An engine started without a config file (tests, embedding) writes logs only when this is absolute.',
  }),
  access: setting(accessLogSchema, accessLogSchema.parse({}, 'logs.access'), { doc: 'The access log (see `logs.access`).' }),
  sessions: setting(sessionRecordsSchema, sessionRecordsSchema.parse({}, 'logs.sessions'), { doc: 'The session records (see `logs.sessions`).' }),
  readMaxRecords: setting(integer(1, 10_000), 1_000, {
    unit: 'records',
    doc: 'Most records one listLogRecords call answers; a larger `limit` is refused.',
  }),
  readMaxBytes: setting(integer(65_536, 1_073_741_824), 64 * MIB, {
    unit: 'bytes',
    doc:
      'Most bytes of log files one listLogRecords call reads, newest first, across the rotated files; past it the call answers what it found with a cursor to go on from, ' +
      'so a search over large files never holds the admin API long. Lines are read in 64 KiB chunks: memory stays small whatever the files hold.',
  }),
});
