/**
 * A log line read back as a record (listLogRecords): a JSON line (line-format.ts) or a combined
 * line (the access log's other format, or lines of both kinds after a format change). Anything
 * else (a cut line, a hand edit, a line of another program) is undefined: the reader skips and
 * counts it, never throws.
 */
import type { LogRecordDto, ViewerTransport } from '../../../shared/dto.js';

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** client ident user [dd/Mon/yyyy:hh:mm:ss ±zzzz] "METHOD PATH[ PROTOCOL]" status bytes "referer" "user agent" */
const COMBINED =
  /^(\S+) \S+ (\S+) \[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})\] "(\S+) (\S+)(?: \S+)?" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"$/;

const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isTransport = (v: unknown): v is ViewerTransport => v === 'http' || v === 'ws';

/** Undo the combined format's \xHH escapes (each byte back as its Latin-1 character, as the header bytes arrived). */
function unescapeCombined(value: string): string {
  return value.replace(/\\x([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function bare(value: string): string {
  return value === '-' ? '' : unescapeCombined(value);
}

/** Copy the optional fields that are present and of the right type. */
function optionalFields(line: Record<string, unknown>, record: LogRecordDto): void {
  if (isString(line.sessionId)) record.sessionId = line.sessionId;
  if (line.mode === 'redirect' || line.mode === 'proxy') record.mode = line.mode;
  if (isString(line.stream)) record.stream = line.stream;
  if (isString(line.errorCode)) record.errorCode = line.errorCode;
  if (Array.isArray(line.movedFrom) && line.movedFrom.every(isString)) record.movedFrom = line.movedFrom;
  if (isString(line.label)) record.label = line.label;
  if (isCount(line.firstByteMs)) record.firstByteMs = line.firstByteMs;
  if (isCount(line.firstKeyframeMs)) record.firstKeyframeMs = line.firstKeyframeMs;
  if (isCount(line.framesDropped)) record.framesDropped = line.framesDropped;
}

/** A JSON line as the writer makes it (line-format.ts); undefined when a required field is missing or of the wrong type. */
export function parseJsonRecord(text: string): LogRecordDto | undefined {
  let line: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    line = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const endedAt = isString(line.end) ? Date.parse(line.end) : NaN;
  const startedAt = isString(line.start) ? Date.parse(line.start) : NaN;
  if (!Number.isFinite(endedAt) || !Number.isFinite(startedAt) || !isCount(line.status) || !isString(line.path)) return undefined;
  const record: LogRecordDto = {
    endedAt,
    startedAt,
    durationMs: isCount(line.durationMs) ? line.durationMs : Math.max(0, endedAt - startedAt),
    routeId: isString(line.routeId) ? line.routeId : '',
    method: isString(line.method) ? line.method : '',
    transport: isTransport(line.transport) ? line.transport : 'http',
    path: line.path,
    status: line.status,
    nodeId: isString(line.nodeId) ? line.nodeId : '',
    clientAddress: isString(line.clientAddress) ? line.clientAddress : '',
    userAgent: isString(line.userAgent) ? line.userAgent : '',
    bytesIn: isCount(line.bytesIn) ? line.bytesIn : 0,
    bytesOut: isCount(line.bytesOut) ? line.bytesOut : 0,
  };
  optionalFields(line, record);
  return record;
}

/** A combined-format line: what the format holds (no route, node, duration or bytes from the node; ended = started). */
export function parseCombinedRecord(text: string): LogRecordDto | undefined {
  const m = COMBINED.exec(text);
  if (!m || MONTHS[m[4]] === undefined) return undefined;
  const offsetMs = (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11])) * 60_000;
  const startedAt = Date.UTC(Number(m[5]), MONTHS[m[4]], Number(m[3]), Number(m[6]), Number(m[7]), Number(m[8])) - offsetMs;
  if (!Number.isFinite(startedAt)) return undefined;
  const record: LogRecordDto = {
    endedAt: startedAt,
    startedAt,
    durationMs: 0,
    routeId: '',
    method: unescapeCombined(m[12]),
    transport: 'http',
    path: unescapeCombined(m[13]),
    status: Number(m[14]),
    nodeId: '',
    clientAddress: bare(m[1]),
    userAgent: unescapeCombined(m[16]),
    bytesIn: 0,
    bytesOut: m[15] === '-' ? 0 : Number(m[15]),
  };
  const label = bare(m[2]);
  if (label) record.label = label;
  return record;
}

/** A line of either format, or undefined. */
export function parseRecordLine(text: string): LogRecordDto | undefined {
  return text.startsWith('{') ? parseJsonRecord(text) : parseCombinedRecord(text);
}

/** True when the record holds `needle` (lower case) in a field an operator searches by. */
export function recordMatches(record: LogRecordDto, needle: string): boolean {
  const fields = [
    record.path,
    record.stream,
    record.routeId,
    record.nodeId,
    record.clientAddress,
    record.userAgent,
    record.label,
    record.errorCode,
    record.method,
  ];
  return fields.some((field) => field !== undefined && field.toLowerCase().includes(needle)) || String(record.status) === needle;
}
