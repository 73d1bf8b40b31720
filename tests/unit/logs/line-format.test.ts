/**
 * The log lines: JSON Lines and the combined format. Each finished request is exactly one
 * line, whatever a viewer put in its path, user agent or label (quotes, backslashes, CR/LF,
 * control bytes, non-ASCII, lone surrogates, a field that is "-"), and each line reads back
 * (record-parse.ts) as the values that were logged.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  accessCombinedLine,
  accessJsonLine,
  combinedTime,
  escapeBare,
  escapeQuoted,
  isoTime,
  sessionJsonLine,
  type FinishedItem,
} from '../../../electron/engine/logs/line-format.js';
import { parseCombinedRecord, parseJsonRecord, parseRecordLine } from '../../../electron/engine/logs/record-parse.js';
import { MAX_LOGGED_PATH_CHARS, MAX_LOGGED_USER_AGENT_CHARS } from '../../../shared/dto.js';
import type { LoggedRequest } from '../../../electron/engine/relay/request-log.js';

const STARTED = Date.UTC(2026, 11, 4, 10, 15, 0, 123);

function item(fields: Partial<LoggedRequest> = {}, durationMs = 1500): FinishedItem {
  const request: LoggedRequest = {
    id: '7',
    routeId: 'live',
    mode: 'proxy',
    method: 'GET',
    transport: 'http',
    path: '/live/cam1.flv',
    nodeId: 'a',
    clientAddress: '10.0.0.9',
    userAgent: 'VLC/3.0',
    startedAt: STARTED,
    bytesIn: 1000,
    bytesOut: 900,
    status: 200,
    ...fields,
  };
  return { request, endedAt: STARTED + durationMs };
}

/** Hostile values a viewer can send (HTTP/1.1 headers arrive as Latin-1, so bytes past 0x7f are single characters). */
const HOSTILE = {
  userAgent: 'evil "agent" \\ with\r\nnewline\u0000nul\u0007bel\u001b[31m\u007fdel \u00ff\u00e9 snow\u2603 lone\ud800 2028\u2028',
  path: '/live/a"b\\c d\r\ne\u0001.flv',
  label: 'partner "a"\nb',
};

describe('JSON lines', () => {
  it('writes one line per request, every hostile value escaped, and reads it back unchanged', () => {
    const logged = item({ ...HOSTILE, errorCode: 'CLIENT_CLOSED', movedFrom: ['b'] });
    for (const line of [accessJsonLine(logged), sessionJsonLine(logged)]) {
      assert.ok(line.endsWith('\n'));
      assert.equal(line.indexOf('\n'), line.length - 1, 'a single "\\n", at the end');
      assert.doesNotMatch(line.slice(0, -1), /[\0-\x1f]/, 'no raw control character');
      assert.doesNotMatch(line, /[\ud800-\udfff]/, 'no lone surrogate');
      const back = parseJsonRecord(line.slice(0, -1));
      assert.ok(back);
      assert.equal(back.userAgent, HOSTILE.userAgent);
      assert.equal(back.path, HOSTILE.path);
      assert.equal(back.label, HOSTILE.label);
      assert.equal(back.errorCode, 'CLIENT_CLOSED');
      assert.deepEqual(back.movedFrom, ['b']);
      assert.equal(back.startedAt, STARTED);
      assert.equal(back.endedAt, STARTED + 1500);
      assert.equal(back.durationMs, 1500);
      assert.equal(back.bytesIn, 1000);
      assert.equal(back.bytesOut, 900);
      assert.equal(back.sessionId, '7');
    }
  });

  it('a session record names its stream (the FLV stream id, else the path) and carries the FLV timings', () => {
    const flv = parseJsonRecord(sessionJsonLine(item({ streamId: 'live:/live/cam1.flv', firstByteMs: 12, firstKeyframeMs: 40, framesDropped: 3 })).trim());
    assert.equal(flv?.stream, 'live:/live/cam1.flv');
    assert.deepEqual([flv?.firstByteMs, flv?.firstKeyframeMs, flv?.framesDropped], [12, 40, 3]);
    assert.equal(parseJsonRecord(sessionJsonLine(item({ path: '/hls/a/seg1.ts' })).trim())?.stream, '/hls/a/seg1.ts');
    assert.equal(parseJsonRecord(accessJsonLine(item()).trim())?.stream, undefined, 'the access log has `stream` for FLV viewers only');
  });

  it('writes the fields in a fixed order, as JSON.stringify of the same object would', () => {
    const line = accessJsonLine(item({ errorCode: 'NODE_TIMEOUT', label: 'p', streamId: 's', firstByteMs: 5, movedFrom: ['b', 'c'] }, 2));
    const expected = {
      start: new Date(STARTED).toISOString(),
      end: new Date(STARTED + 2).toISOString(),
      durationMs: 2,
      sessionId: '7',
      routeId: 'live',
      mode: 'proxy',
      method: 'GET',
      transport: 'http',
      path: '/live/cam1.flv',
      stream: 's',
      status: 200,
      errorCode: 'NODE_TIMEOUT',
      nodeId: 'a',
      movedFrom: ['b', 'c'],
      clientAddress: '10.0.0.9',
      userAgent: 'VLC/3.0',
      label: 'p',
      bytesIn: 1000,
      bytesOut: 900,
      firstByteMs: 5,
      framesDropped: 0,
    };
    assert.equal(line, `${JSON.stringify(expected)}\n`);
  });

  it('gives the same lines from one item shared by both files as from two items', () => {
    for (const fields of [{}, { streamId: 'live:/live/cam1.flv', firstByteMs: 3 }, { ...HOSTILE }]) {
      const shared = item(fields);
      const lines = [accessJsonLine(shared), sessionJsonLine(shared), accessJsonLine(shared)];
      assert.deepEqual(lines, [accessJsonLine(item(fields)), sessionJsonLine(item(fields)), accessJsonLine(item(fields))]);
    }
  });

  it('writes every time as Date.toISOString does, across seconds, years and out-of-range years', () => {
    const times = [STARTED, STARTED + 1, STARTED + 877, STARTED + 1000, STARTED + 999, 0, 9, 99, -1, -1001, Date.UTC(9999, 11, 31, 23, 59, 59, 999)];
    times.push(Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1, 0, 0, 0, 5), 8.64e15);
    for (let t = STARTED; t < STARTED + 3_000; t += 7) times.push(t);
    for (const t of times) assert.equal(isoTime(t), new Date(t).toISOString(), `epoch ms ${t}`);
    assert.throws(() => isoTime(Number.NaN), RangeError);
  });

  it('caps what a viewer controls, so every line stays far below the reader bound', () => {
    const line = accessJsonLine(item({ path: `/${'\u0001'.repeat(100_000)}`, userAgent: '"'.repeat(100_000) }));
    const back = parseJsonRecord(line.trim());
    assert.equal(back?.path.length, MAX_LOGGED_PATH_CHARS);
    assert.equal(back?.userAgent.length, MAX_LOGGED_USER_AGENT_CHARS);
    assert.ok(Buffer.byteLength(line) < 40_000, `${Buffer.byteLength(line)} bytes`);
  });
});

describe('combined lines', () => {
  it('writes the Apache/nginx combined format', () => {
    const line = accessCombinedLine(item({ label: 'partner-a' }));
    assert.equal(line, '10.0.0.9 - partner-a [04/Dec/2026:10:15:00 +0000] "GET /live/cam1.flv" 200 900 "-" "VLC/3.0"\n');
    assert.equal(
      accessCombinedLine(item({ bytesOut: 0, status: 302, clientAddress: '' }))
        .split(' ')
        .slice(0, 3)
        .join(' '),
      '- - -',
    );
    assert.match(accessCombinedLine(item({ bytesOut: 0, status: 302 })), /" 302 - "-"/);
    assert.equal(combinedTime(Date.UTC(2027, 0, 2, 3, 4, 5)), '[02/Jan/2027:03:04:05 +0000]');
  });

  it('escapes quotes, backslashes, control bytes, non-ASCII and spaces in unquoted fields as \\xHH: one line, fields intact', () => {
    const line = accessCombinedLine(item(HOSTILE));
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.match(line, /^[\x20-\x7e]*\n$/, 'printable ASCII only');
    // The line still splits into its nine fields: the quoted ones hold no bare quote.
    const m = /^(\S+) - (\S+) \[[^\]]+\] "(\S+) (\S+)" (\d{3}) (\S+) "-" "([^"]*)"\n$/.exec(line);
    assert.ok(m, line);
    assert.equal(m[2], 'partner\\x20\\x22a\\x22\\x0Ab');
    assert.equal(m[4], '/live/a\\x22b\\x5Cc\\x20d\\x0D\\x0Ae\\x01.flv');
    assert.ok(m[7].startsWith('evil \\x22agent\\x22 \\x5C with\\x0D\\x0Anewline\\x00nul\\x07bel\\x1B[31m\\x7Fdel \\xFF\\xE9 snow\\xE2\\x98\\x83'), m[7]);
    const back = parseCombinedRecord(line.trim());
    assert.ok(back);
    assert.equal(back.path, HOSTILE.path, 'Latin-1 and ASCII values read back as written');
    assert.equal(back.label, HOSTILE.label);
    assert.equal(back.startedAt, STARTED - 123, 'the format keeps whole seconds');
    assert.equal(back.status, 200);
    assert.equal(back.bytesOut, 900);
  });

  it('writes an empty value as "-" and a value that is "-" escaped, so they read back apart', () => {
    assert.equal(escapeBare(''), '-');
    assert.equal(escapeBare('-'), '\\x2D');
    assert.equal(parseCombinedRecord(accessCombinedLine(item({ label: '-' })).trim())?.label, '-');
    assert.equal(parseCombinedRecord(accessCombinedLine(item({ label: undefined })).trim())?.label, undefined);
    assert.equal(escapeQuoted('a b'), 'a b', 'spaces stay in quoted fields');
  });
});

describe('reading lines back', () => {
  it('tells the formats apart per line and refuses anything else', () => {
    assert.equal(parseRecordLine(accessJsonLine(item()).trim())?.routeId, 'live');
    assert.equal(parseRecordLine(accessCombinedLine(item()).trim())?.clientAddress, '10.0.0.9');
    for (const bad of [
      '',
      '{',
      '{"end":"x"}',
      '[1,2]',
      'null',
      '{"start":"2026-12-04T10:15:00Z","end":"2026-12-04T10:15:01Z","status":"200","path":"/"}',
      'GET / 200',
      '\u0000',
    ]) {
      assert.equal(parseRecordLine(bad), undefined, JSON.stringify(bad));
    }
  });
});
