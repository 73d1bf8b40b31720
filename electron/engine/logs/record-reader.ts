/**
 * Past records from disk, newest first, one page at a time (listLogRecords): the file written
 * now, then the rotated ones from the newest, each read backwards (line-reader.ts). A page
 * ends when it holds `limit` records, when `maxBytes` were read (logs.readMaxBytes), or at the
 * start of the oldest file. Its cursor names the file by inode (a rotation renames the file
 * but keeps its inode) and the offset of the last line answered, so the next page goes on
 * exactly there, across rotations. Lines that are not a record are skipped and counted.
 */
import { promises as fs } from 'node:fs';
import type { LogRecordDto } from '../../../shared/dto.js';
import { filesNewestFirst, type LogNaming } from './file-names.js';
import { BackwardLineReader } from './line-reader.js';
import { parseRecordLine, recordMatches } from './record-parse.js';

/** A cursor as answered: "<inode>:<offset>". */
export const CURSOR_PATTERN = /^(\d{1,24}):(\d{1,16})$/;

/** What one page reads. */
export interface RecordReadPlan {
  dir: string;
  naming: LogNaming;
  /** Only records that ended before this epoch ms. */
  before?: number;
  cursor?: string;
  limit: number;
  /** Lower-case text a record must hold (recordMatches). */
  search?: string;
  /** Most bytes read for the page. */
  maxBytes: number;
}

/** A page of records, newest first, and where the next one starts (null: nothing older). */
export interface RecordPage {
  records: LogRecordDto[];
  cursor: string | null;
  scannedBytes: number;
  skippedLines: number;
  filesRead: number;
}

/** Index of the file whose inode is `ino`, or -1 (rotated away and deleted since). */
async function indexOfInode(files: string[], ino: string): Promise<number> {
  for (const [index, file] of files.entries()) {
    const stat = await fs.stat(file, { bigint: true }).catch(() => undefined);
    if (stat && String(stat.ino) === ino) return index;
  }
  return -1;
}

/** Whether a record passes the page's filters. */
function wanted(record: LogRecordDto, plan: RecordReadPlan): boolean {
  if (plan.before !== undefined && record.endedAt >= plan.before) return false;
  return !plan.search || recordMatches(record, plan.search);
}

/**
 * Reads one file back from `from` (undefined: its end) into the page; true when the page is
 * finished there (full, or out of budget: the cursor is set), false when the file was read to its start.
 */
async function readFileInto(file: string, from: number | undefined, plan: RecordReadPlan, page: RecordPage): Promise<boolean> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return false; // rotated or deleted since it was listed
  let reader: BackwardLineReader | undefined;
  try {
    const stat = await handle.stat({ bigint: true });
    const size = Number(stat.size);
    const lineReader = new BackwardLineReader(handle, from === undefined ? size : Math.min(from, size), from === undefined);
    reader = lineReader;
    const cursorAt = (offset: number) => `${stat.ino}:${offset}`;
    const mayRead = () => page.scannedBytes + lineReader.bytesRead < plan.maxBytes;
    page.filesRead += 1;
    for (;;) {
      const line = await lineReader.previous(mayRead);
      if (!line) {
        if (lineReader.position === 0) return false;
        page.cursor = cursorAt(lineReader.position);
        return true;
      }
      if (line.bytes?.length === 0) continue;
      const record = line.bytes && parseRecordLine(line.bytes.toString('utf8'));
      if (!record) {
        page.skippedLines += 1;
        continue;
      }
      if (!wanted(record, plan)) continue;
      page.records.push(record);
      if (page.records.length >= plan.limit) {
        page.cursor = cursorAt(line.start);
        return true;
      }
    }
  } finally {
    page.scannedBytes += reader?.bytesRead ?? 0;
    await handle.close();
  }
}

/** One page of records from the log's files in `plan.dir`, newest first. */
export async function readRecords(plan: RecordReadPlan): Promise<RecordPage> {
  const page: RecordPage = { records: [], cursor: null, scannedBytes: 0, skippedLines: 0, filesRead: 0 };
  const files = await filesNewestFirst(plan.dir, plan.naming);
  let first = 0;
  let from: number | undefined;
  if (plan.cursor) {
    const match = CURSOR_PATTERN.exec(plan.cursor);
    first = match ? await indexOfInode(files, match[1]) : -1;
    if (first < 0) return page;
    from = Number(match![2]);
  }
  for (let index = first; index < files.length; index += 1) {
    if (await readFileInto(files[index], index === first ? from : undefined, plan, page)) return page;
  }
  return page;
}
