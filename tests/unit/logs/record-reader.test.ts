/**
 * Reading past records back from real files in a temp folder: newest first across the current
 * and the rotated files, paged by cursor with nothing repeated or missed (also when the file
 * is rotated between two pages), `before` and search filters, malformed, overlong and
 * unfinished lines skipped and counted, and a byte budget that ends a page early with a cursor
 * to go on from.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { LOG_NAMING, filesNewestFirst, rotatedName } from '../../../electron/engine/logs/file-names.js';
import { accessCombinedLine, sessionJsonLine, type FinishedItem } from '../../../electron/engine/logs/line-format.js';
import { READ_MAX_LINE_BYTES } from '../../../electron/engine/logs/line-reader.js';
import { readRecords, type RecordReadPlan } from '../../../electron/engine/logs/record-reader.js';
import type { LogRecordDto } from '../../../shared/dto.js';

const T0 = Date.UTC(2026, 11, 4, 8, 0, 0);
const naming = LOG_NAMING.sessions;
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'relaydeck-reader-'));
  dirs.push(dir);
  return dir;
}

/** Record number n: ended at T0 + n seconds, path /live/s<n>.flv. */
function record(n: number): FinishedItem {
  return {
    request: {
      id: String(n),
      routeId: n % 2 ? 'odd' : 'even',
      mode: 'proxy',
      method: 'GET',
      transport: 'http',
      path: `/live/s${n}.flv`,
      nodeId: 'a',
      clientAddress: '10.0.0.1',
      userAgent: 'test',
      startedAt: T0 + n * 1000 - 500,
      bytesIn: n,
      bytesOut: n,
      status: 200,
    },
    endedAt: T0 + n * 1000,
  };
}

const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => sessionJsonLine(record(from + i))).join('');
const numbers = (records: LogRecordDto[]) => records.map((r) => Number(r.sessionId));
const range = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => from - i);

/** Every page until the cursor runs out. */
async function readAll(plan: Omit<RecordReadPlan, 'cursor'>): Promise<{ records: LogRecordDto[]; pages: number; skipped: number }> {
  const records: LogRecordDto[] = [];
  let cursor: string | undefined;
  let pages = 0;
  let skipped = 0;
  for (;;) {
    const page = await readRecords({ ...plan, cursor });
    records.push(...page.records);
    skipped += page.skippedLines;
    pages += 1;
    assert.ok(pages < 1000, 'the pages end');
    if (page.cursor === null) return { records, pages, skipped };
    cursor = page.cursor;
  }
}

/** A folder with rotated files 1-100 (older) and 101-200, and the current file 201-250. */
function rotatedFolder(): string {
  const dir = tempDir();
  writeFileSync(path.join(dir, rotatedName(naming, new Date(T0 + 100_500), 1)), lines(1, 100));
  writeFileSync(path.join(dir, rotatedName(naming, new Date(T0 + 200_500), 1)), lines(101, 200));
  writeFileSync(path.join(dir, 'sessions.jsonl'), lines(201, 250));
  writeFileSync(path.join(dir, '.sessions.jsonl.history'), 'not a log\n');
  writeFileSync(path.join(dir, 'access.log'), 'another log\n');
  return dir;
}

describe('reading records back', () => {
  it('lists the files newest first: the current one, then the rotated ones by rotation time', async () => {
    const dir = rotatedFolder();
    writeFileSync(path.join(dir, rotatedName(naming, new Date(T0 + 200_500), 2)), '');
    const names = (await filesNewestFirst(dir, naming)).map((f) => path.basename(f));
    assert.deepEqual(names, [
      'sessions.jsonl',
      'sessions-20261204T080320500Z-2.jsonl',
      'sessions-20261204T080320500Z-1.jsonl',
      'sessions-20261204T080140500Z-1.jsonl',
    ]);
  });

  it('pages newest first across the current and rotated files, each record once', async () => {
    const dir = rotatedFolder();
    const first = await readRecords({ dir, naming, limit: 30, maxBytes: 1 << 30 });
    assert.deepEqual(numbers(first.records), range(250, 221));
    assert.equal(first.records[0].endedAt, T0 + 250_000);
    assert.equal(first.records[0].path, '/live/s250.flv');
    const all = await readAll({ dir, naming, limit: 30, maxBytes: 1 << 30 });
    assert.deepEqual(numbers(all.records), range(250, 1));
    assert.equal(all.skipped, 0);
  });

  it('filters by end time and by text, and says when nothing is older', async () => {
    const dir = rotatedFolder();
    const before = await readRecords({ dir, naming, limit: 5, before: T0 + 150_000, maxBytes: 1 << 30 });
    assert.deepEqual(numbers(before.records), range(149, 145));
    const search = await readAll({ dir, naming, limit: 1000, search: '/live/s1', maxBytes: 1 << 30 });
    assert.deepEqual(numbers(search.records), [...range(199, 100), ...range(19, 10), 1], 'paths holding /live/s1, newest first');
    const none = await readRecords({ dir, naming, limit: 5, before: T0, maxBytes: 1 << 30 });
    assert.deepEqual(none.records, []);
    assert.equal(none.cursor, null);
  });

  it('goes on from its cursor after the file was rotated between two pages', async () => {
    const dir = tempDir();
    const current = path.join(dir, 'sessions.jsonl');
    writeFileSync(current, lines(1, 40));
    const first = await readRecords({ dir, naming, limit: 15, maxBytes: 1 << 30 });
    assert.deepEqual(numbers(first.records), range(40, 26));
    // Rotation: the file is renamed (same inode) and a new one begun with newer records.
    renameSync(current, path.join(dir, rotatedName(naming, new Date(T0 + 40_500), 1)));
    writeFileSync(current, lines(41, 60));
    const second = await readRecords({ dir, naming, limit: 15, cursor: first.cursor!, maxBytes: 1 << 30 });
    assert.deepEqual(numbers(second.records), range(25, 11));
  });

  it('skips and counts malformed and overlong lines, and leaves out an unfinished last line', async () => {
    const dir = tempDir();
    const current = path.join(dir, 'sessions.jsonl');
    writeFileSync(current, lines(1, 3));
    appendFileSync(current, '{"not": "a record"}\nplain garbage\n\n');
    appendFileSync(current, `{"start":"${'x'.repeat(READ_MAX_LINE_BYTES * 3)}"}\n`);
    appendFileSync(current, lines(4, 5));
    appendFileSync(current, accessCombinedLine(record(6)));
    appendFileSync(current, sessionJsonLine(record(7)).slice(0, 40)); // a write in progress
    const page = await readRecords({ dir, naming, limit: 100, maxBytes: 1 << 30 });
    assert.equal(page.records[0].clientAddress, '10.0.0.1', 'a combined line reads as a record too');
    assert.equal(page.records[0].path, '/live/s6.flv');
    assert.deepEqual(numbers(page.records.slice(1)), [5, 4, 3, 2, 1]);
    assert.equal(page.skippedLines, 3, 'two malformed lines and one overlong; the empty line and the unfinished one are not counted');
    assert.equal(page.cursor, null);
  });

  it('stops at its byte budget with a cursor, and the pages that follow bring the rest', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'sessions.jsonl'), lines(1, 3000)); // about 900 KB
    const budget = 65_536;
    const first = await readRecords({ dir, naming, limit: 10_000, maxBytes: budget });
    assert.ok(first.scannedBytes <= budget, `${first.scannedBytes} bytes read`);
    assert.ok(first.records.length > 0 && first.records.length < 3000, `${first.records.length} records in the first page`);
    assert.notEqual(first.cursor, null);
    const all = await readAll({ dir, naming, limit: 10_000, maxBytes: budget });
    assert.deepEqual(numbers(all.records), range(3000, 1));
    assert.ok(all.pages >= 10, `${all.pages} pages`);
  });

  it('gets past a line longer than its byte budget (each page makes progress) and keeps the records around it', async () => {
    const dir = tempDir();
    const current = path.join(dir, 'sessions.jsonl');
    writeFileSync(current, lines(1, 5));
    appendFileSync(current, `${'y'.repeat(1_000_000)}\n`);
    appendFileSync(current, lines(6, 10));
    const all = await readAll({ dir, naming, limit: 100, maxBytes: 65_536 });
    assert.deepEqual(numbers(all.records), range(10, 1));
    assert.ok(all.skipped >= 1, `${all.skipped} unreadable parts counted`);
    assert.ok(all.pages >= 15, `${all.pages} pages of at most 64 KiB each`);
  });

  it('answers an empty page for a missing folder or a cursor whose file is gone', async () => {
    const missing = await readRecords({ dir: path.join(tempDir(), 'nope'), naming, limit: 5, maxBytes: 1 << 20 });
    assert.deepEqual([missing.records, missing.cursor], [[], null]);
    const dir = rotatedFolder();
    const gone = await readRecords({ dir, naming, limit: 5, cursor: '999999999999:10', maxBytes: 1 << 20 });
    assert.deepEqual([gone.records, gone.cursor], [[], null]);
  });
});
