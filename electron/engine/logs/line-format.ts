/**
 * The lines the log files hold, one finished request each, always ending in exactly one "\n":
 * JSON Lines (the session records, and the access log by default) and the Apache/nginx
 * "combined" format (the access log's option). Every value a viewer controls (path, user
 * agent, label) is capped in length and escaped, so no quote, newline or control byte can
 * break a line or forge another: JSON.stringify escapes them (and lone surrogates); the
 * combined format writes them as \xHH, as nginx does.
 */
import type { AccessLogFormat } from '../../../shared/config.js';
import type { LoggedRequest } from '../relay/request-log.js';
import { MAX_LOGGED_NAME_CHARS, MAX_LOGGED_PATH_CHARS, MAX_LOGGED_USER_AGENT_CHARS } from '../../../shared/dto.js';

/** A finished request waiting in a queue: the request as logged and when it ended (epoch ms). */
export interface FinishedItem {
  readonly request: LoggedRequest;
  readonly endedAt: number;
  /** The JSON line's text before and after its `stream` field, kept by the first JSON line made of this item (a session's item is in both files). */
  jsonParts?: readonly [head: string, tail: string];
}

const cap = (value: string, max: number) => (value.length > max ? value.slice(0, max) : value);

/** A string as a JSON string literal (quotes, escapes and lone surrogates as JSON.stringify writes them). */
const str = JSON.stringify as (value: string) => string;

/** A number as JSON writes it ("null" for NaN and the infinities). */
const num = (value: number) => (Number.isFinite(value) ? String(value) : 'null');

/** The second an ISO timestamp prefix was made for, and that prefix ("2026-12-06T05:23:11."). */
let isoSecond = Number.NaN;
let isoPrefix = '';

/**
 * `new Date(epochMs).toISOString()`, without building a Date for each line: the text up to the
 * second is kept while the second lasts (log lines come in bursts within one second).
 */
export function isoTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  const iso = second === isoSecond ? undefined : new Date(epochMs).toISOString();
  // Years outside 0000-9999 (and invalid times, which throw above) are written by Date itself.
  if (iso !== undefined) {
    if (iso.length !== 24) return iso;
    isoSecond = second;
    isoPrefix = iso.slice(0, 20);
    return iso;
  }
  const ms = epochMs - second * 1000;
  return `${isoPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${Math.floor(ms)}Z`;
}

/** The fields both JSON lines start with, in a fixed order, as the opening of a JSON object. */
function commonFields(item: FinishedItem): string {
  const { request: r, endedAt } = item;
  let out = `{"start":"${isoTime(r.startedAt)}","end":"${isoTime(endedAt)}","durationMs":${num(endedAt - r.startedAt)}`;
  if (r.id) out += `,"sessionId":${str(r.id)}`;
  out += `,"routeId":${str(cap(r.routeId, MAX_LOGGED_NAME_CHARS))},"mode":${str(r.mode)},"method":${str(cap(r.method, MAX_LOGGED_NAME_CHARS))}`;
  return `${out},"transport":${str(r.transport)},"path":${str(cap(r.path, MAX_LOGGED_PATH_CHARS))}`;
}

/** The fields both JSON lines end with (outcome, node, viewer, bytes, FLV timings), closing the object and the line. */
function outcomeFields(r: LoggedRequest): string {
  let out = `,"status":${num(r.status)}`;
  if (r.errorCode) out += `,"errorCode":${str(r.errorCode)}`;
  out += `,"nodeId":${str(cap(r.nodeId, MAX_LOGGED_NAME_CHARS))}`;
  if (r.movedFrom?.length) out += `,"movedFrom":[${r.movedFrom.map((id) => str(cap(id, MAX_LOGGED_NAME_CHARS))).join(',')}]`;
  out += `,"clientAddress":${str(cap(r.clientAddress, MAX_LOGGED_NAME_CHARS))},"userAgent":${str(cap(r.userAgent, MAX_LOGGED_USER_AGENT_CHARS))}`;
  if (r.label) out += `,"label":${str(cap(r.label, MAX_LOGGED_NAME_CHARS))}`;
  out += `,"bytesIn":${num(r.bytesIn)},"bytesOut":${num(r.bytesOut)}`;
  if (r.streamId !== undefined) {
    if (r.firstByteMs !== undefined) out += `,"firstByteMs":${num(r.firstByteMs)}`;
    if (r.firstKeyframeMs !== undefined) out += `,"firstKeyframeMs":${num(r.firstKeyframeMs)}`;
    out += `,"framesDropped":${num(r.framesDropped ?? 0)}`;
  }
  return `${out}}\n`;
}

function jsonParts(item: FinishedItem): readonly [string, string] {
  return (item.jsonParts ??= [commonFields(item), outcomeFields(item.request)]);
}

/** An access log line as JSON: every field the request log has (`stream` for FLV viewers). */
export function accessJsonLine(item: FinishedItem): string {
  const [head, tail] = jsonParts(item);
  const stream = item.request.streamId ? `,"stream":${str(cap(item.request.streamId, MAX_LOGGED_PATH_CHARS))}` : '';
  return head + stream + tail;
}

/** A session record: the access log's fields, with `stream` always there (the FLV stream id, else the path). */
export function sessionJsonLine(item: FinishedItem): string {
  const [head, tail] = jsonParts(item);
  return `${head},"stream":${str(cap(item.request.streamId || item.request.path, MAX_LOGGED_PATH_CHARS))}${tail}`;
}

const hex = (byte: number) => `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;

/** What the combined format escapes: control bytes, DEL and everything past ASCII, quotes and backslashes; in an unquoted field, spaces too. */
const QUOTED_UNSAFE = /[\0-\x1f\x7f-\u{10ffff}"\\]/gu;
const BARE_UNSAFE = /[\0-\x20\x7f-\u{10ffff}"\\]/gu;

/** One character as \xHH escapes: its code for Latin-1 (what HTTP/1.1 header bytes decode to), else its UTF-8 bytes. */
function escapeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code <= 0xff) return hex(code);
  return [...Buffer.from(char, 'utf8')].map(hex).join('');
}

/** A value for a quoted combined field ("%r", user agent). */
export function escapeQuoted(value: string): string {
  return value.replace(QUOTED_UNSAFE, escapeChar);
}

/** A value for an unquoted combined field (client, user): "-" when empty, and a value that is "-" itself escaped. */
export function escapeBare(value: string): string {
  if (value === '') return '-';
  if (value === '-') return '\\x2D';
  return value.replace(BARE_UNSAFE, escapeChar);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Apache's %t in UTC: [04/Dec/2026:10:15:00 +0000]. */
export function combinedTime(epochMs: number): string {
  const t = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `[${two(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())} +0000]`;
}

/**
 * An access log line in the combined format: `client - label [start] "METHOD PATH" status bytes "-" "user agent"`.
 * The relay does not record the request's protocol or referer: the request is "METHOD PATH" and the referer "-".
 * Path and method are escaped as unquoted fields (a space would split the request).
 */
export function accessCombinedLine(item: FinishedItem): string {
  const r = item.request;
  const request = `${escapeBare(cap(r.method, MAX_LOGGED_NAME_CHARS))} ${escapeBare(cap(r.path, MAX_LOGGED_PATH_CHARS))}`;
  const bytes = r.bytesOut > 0 ? String(r.bytesOut) : '-';
  return (
    `${escapeBare(cap(r.clientAddress, MAX_LOGGED_NAME_CHARS))} - ${escapeBare(cap(r.label ?? '', MAX_LOGGED_NAME_CHARS))} ${combinedTime(r.startedAt)} ` +
    `"${request}" ${r.status} ${bytes} "-" "${escapeQuoted(cap(r.userAgent, MAX_LOGGED_USER_AGENT_CHARS))}"\n`
  );
}

/** The access log's line maker for a format. */
export function accessLineFormat(format: AccessLogFormat): (item: FinishedItem) => string {
  return format === 'combined' ? accessCombinedLine : accessJsonLine;
}
