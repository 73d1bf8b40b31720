/**
 * The Traffic page's records from disk (renderer/src/live/past-records.ts): each "Load older"
 * asks for the page after the last one (its cursor), the query body never carries an undefined
 * field (a query string would send "undefined"), the rows stay within their bound, an answer to
 * an abandoned query is dropped, and an error is kept for the page to show. The engine here is
 * a function over an array of records: the store's logic is the unit under test (the real call
 * over real files is in tests/integration/logs/).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../../shared/api.js';
import { MAX_LOGGED_PATH_CHARS, type LogRecordDto, type LogRecordsDto, type LogRecordsQuery } from '../../../shared/dto.js';
import { olderThanLive, pageQuery, pastRecordsFetch, PastRecordsStore, recordKey } from '../../../renderer/src/live/past-records.js';

const record = (n: number): LogRecordDto => ({
  endedAt: n * 1000,
  startedAt: n * 1000 - 10,
  durationMs: 10,
  routeId: 'r',
  method: 'GET',
  transport: 'http',
  path: `/r/${n}`,
  status: 200,
  nodeId: 'a',
  clientAddress: '127.0.0.1',
  userAgent: 'ua',
  bytesIn: 1,
  bytesOut: 1,
});

/** Records 1..total, answered newest first from a numeric cursor, as the engine pages them. */
function engine(total: number) {
  const asked: LogRecordsQuery[] = [];
  const fetchPage = async (query: LogRecordsQuery): Promise<LogRecordsDto> => {
    asked.push(query);
    const from = query.cursor ? Number(query.cursor) : total;
    const limit = query.limit ?? 100;
    const records: LogRecordDto[] = [];
    for (let n = from; n >= 1 && records.length < limit; n -= 1) records.push(record(n));
    const next = from - records.length;
    return { file: query.file ?? 'sessions', records, cursor: next > 0 ? String(next) : null, scannedBytes: 100, skippedLines: 1, filesRead: 1 };
  };
  return { asked, fetchPage };
}

test('loads the newest page, then each older one from the last cursor, until the oldest', async () => {
  const { asked, fetchPage } = engine(25);
  const store = new PastRecordsStore(fetchPage, 1000, 10);
  await store.reset({ file: 'access', search: ' cam ', before: 5_000_000 });
  assert.deepEqual(
    store.rows.map((r) => r.path),
    Array.from({ length: 10 }, (_, i) => `/r/${25 - i}`),
  );
  assert.deepEqual(asked[0], { file: 'access', limit: 10, search: 'cam', before: 5_000_000 });
  await store.loadOlder();
  await store.loadOlder();
  assert.equal(asked[1].cursor, '15');
  assert.equal(asked[2].cursor, '5');
  assert.equal(store.rows.length, 25);
  assert.equal(store.rows.at(-1)?.path, '/r/1');
  assert.equal(store.done, true);
  await store.loadOlder();
  assert.equal(asked.length, 3, 'nothing is asked once the oldest was reached');
  assert.equal(store.skippedLines, 3);
  assert.equal(new Set(store.rows.map((r) => r.key)).size, 25, 'each row has its own key');
});

test('the query body has no undefined field', () => {
  const body = pageQuery({ file: 'sessions', search: '' }, undefined, 50);
  assert.deepEqual(body, { file: 'sessions', limit: 50 });
  assert.equal(new URLSearchParams(body as unknown as Record<string, string>).toString(), 'file=sessions&limit=50');
});

test('keeps at most its bound: the newest rows loaded are dropped and counted', async () => {
  const { fetchPage } = engine(100);
  const store = new PastRecordsStore(fetchPage, 25, 10);
  await store.reset({ file: 'sessions', search: '' });
  for (let i = 0; i < 4; i += 1) await store.loadOlder();
  assert.equal(store.rows.length, 25);
  assert.equal(store.dropped, 25);
  assert.equal(store.rows[0].path, '/r/75', 'the oldest 25 loaded are kept');
  store.resize(10);
  assert.equal(store.rows.length, 10);
  assert.equal(store.rows[0].path, '/r/60');
});

test('a new query while a page is loading drops that page; an error is kept for the page to show', async () => {
  let release: (() => void) | undefined;
  const slow = engine(50);
  const store = new PastRecordsStore(
    async (query) => {
      if (query.file === 'access') await new Promise<void>((resolve) => (release = resolve));
      return slow.fetchPage(query);
    },
    100,
    10,
  );
  const abandoned = store.reset({ file: 'access', search: '' });
  assert.equal(store.loading, true);
  await store.reset({ file: 'sessions', search: '' });
  release?.();
  await abandoned;
  assert.equal(store.query.file, 'sessions');
  assert.equal(store.rows.length, 10, 'only the sessions page');

  const failing = new PastRecordsStore(async () => Promise.reject(new ApiError('BAD_CONFIG', 'body.limit: expected at most 5', 400)), 100, 10);
  await failing.reset({ file: 'sessions', search: '' });
  assert.equal(failing.error?.code, 'BAD_CONFIG');
  assert.equal(failing.loading, false);
  assert.equal(failing.rows.length, 0);
});

test('keeps each page within the engine setting logs.readMaxRecords, read once', async () => {
  const asked: LogRecordsQuery[] = [];
  let settingsRead = 0;
  const api = {
    getSettings: async () => {
      settingsRead += 1;
      return { logs: { readMaxRecords: 50 } } as never;
    },
    listLogRecords: async ({ body }: { body?: LogRecordsQuery }) => {
      asked.push(body!);
      return { file: 'sessions' as const, records: [], cursor: '1:1', scannedBytes: 0, skippedLines: 0, filesRead: 0 };
    },
  };
  const store = new PastRecordsStore(pastRecordsFetch(api), 1000);
  await store.reset({ file: 'sessions', search: '' });
  await store.loadOlder();
  assert.deepEqual(
    asked.map((q) => q.limit),
    [50, 50],
  );
  assert.equal(settingsRead, 1);
});

test('"Older from disk" brings back every request that ended in the live list\'s oldest millisecond, none twice', async () => {
  // Six requests end in the same millisecond (5000), the list kept two of them (and a newer one, and one still in flight).
  const atEdge = (i: number): LogRecordDto => ({ ...record(5), startedAt: 4990 - i, durationMs: 10 + i, path: `/edge/${i}` });
  const sameTwice = atEdge(9); // two requests alike in every field: the list kept one of them
  const onDisk = [record(6), ...[0, 1, 2, 3].map(atEdge), sameTwice, sameTwice, record(4), record(3)];
  const liveRows = [
    { ...record(7), live: true },
    { ...record(6), live: false },
    { ...atEdge(1), live: false },
    { ...atEdge(3), live: false },
    { ...sameTwice, live: false },
  ];
  const query = olderThanLive(liveRows);
  assert.equal(query.before, 5001, "up to and with the oldest finished row's millisecond");
  assert.equal(query.shownAtEdge?.length, 3, 'the three rows of that millisecond the list shows');

  const asked: LogRecordsQuery[] = [];
  const store = new PastRecordsStore(
    async (body) => {
      asked.push(body);
      const records = onDisk.filter((r) => body.before === undefined || r.endedAt < body.before);
      return { file: 'access', records, cursor: null, scannedBytes: 1, skippedLines: 0, filesRead: 1 };
    },
    100,
    10,
  );
  await store.reset({ file: 'access', search: '', ...query });
  assert.equal(asked[0].before, 5001);
  assert.equal('shownAtEdge' in asked[0], false, 'the rows shown stay in the page: the engine is asked by time only');
  assert.deepEqual(
    store.rows.map((r) => r.path),
    ['/edge/0', '/edge/2', '/edge/9', '/r/4', '/r/3'],
    'the dropped ones of the edge millisecond (one of the two alike), then the older ones',
  );
  assert.deepEqual(olderThanLive([{ ...record(1), live: true }]), {}, 'no finished row: no bound');
  // A path longer than a log line keeps is cut on disk: the row the list shows is still recognised.
  const long = { ...atEdge(5), path: `/${'x'.repeat(MAX_LOGGED_PATH_CHARS + 100)}` };
  assert.equal(recordKey(long), recordKey({ ...long, path: long.path.slice(0, MAX_LOGGED_PATH_CHARS) }));
  assert.notEqual(recordKey(atEdge(0)), recordKey(atEdge(1)));
});
