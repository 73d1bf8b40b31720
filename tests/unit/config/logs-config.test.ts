/**
 * The `logs` section: defaults, strict validation with errors that name the field (the
 * rotation interval rules rotating-file-stream enforces are refused at load time, not when the
 * file opens), the folder rule (absolute, relative to the config file, or "logs" beside it;
 * none without a config file unless absolute), and the listLogRecords input.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { logDirOf } from '../../../electron/engine/logs/file-names.js';
import { parseRecordQuery } from '../../../electron/engine/logs/record-query.js';

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected an error');
}

describe('the logs settings', () => {
  it('keeps an access log and session records by default, JSON, rotated daily and at 64 MiB, 10 files kept', () => {
    const { logs } = parseConfig({});
    assert.equal(logs.dir, '');
    assert.deepEqual(logs.access, { enabled: true, rotateBytes: 67_108_864, rotateInterval: '1d', maxFiles: 10, queueLines: 10_000, format: 'json' });
    assert.deepEqual(logs.sessions, { enabled: true, rotateBytes: 67_108_864, rotateInterval: '1d', maxFiles: 10, queueLines: 10_000 });
  });

  it('refuses bad values, naming the field', () => {
    const cases: [unknown, string][] = [
      [{ access: { format: 'common' } }, 'logs.access.format: expected "json" or "combined", got "common"'],
      [{ access: { rotateInterval: '7m' } }, 'logs.access.rotateInterval: "7m" does not divide an hour evenly (rotations fall on whole boundaries)'],
      [{ sessions: { rotateInterval: '5h' } }, 'logs.sessions.rotateInterval: "5h" does not divide a day evenly (rotations fall on whole boundaries)'],
      [
        { sessions: { rotateInterval: '1w' } },
        'logs.sessions.rotateInterval: expected "" or a whole number followed by s, m, h or d ("30m", "6h", "1d"), got "1w"',
      ],
      [{ sessions: { rotateInterval: '90s' } }, 'logs.sessions.rotateInterval: expected at most 60s, got "90s"'],
      [{ sessions: { queueLines: 0 } }, 'logs.sessions.queueLines: expected an integer from 1 to 1000000, got 0'],
      [{ access: { maxFiles: 0 } }, 'logs.access.maxFiles: expected an integer from 1 to 10000, got 0'],
      [{ access: { rotateBytes: -1 } }, 'logs.access.rotateBytes: expected an integer from 0 to 1099511627776, got -1'],
      [{ access: { colour: true } }, 'logs.access.colour: unknown key'],
      [{ dir: 'a\nb' }, 'logs.dir: expected a folder path, got "a\nb"'],
      [{ readMaxRecords: 0 }, 'logs.readMaxRecords: expected an integer from 1 to 10000, got 0'],
    ];
    for (const [logs, message] of cases)
      assert.equal(
        errorOf(() => parseConfig({ logs })),
        message,
      );
    assert.equal(parseConfig({ logs: { access: { rotateInterval: '' } } }).logs.access.rotateInterval, '');
    assert.equal(parseConfig({ logs: { access: { rotateInterval: '15m' } } }).logs.access.rotateInterval, '15m');
  });

  it('puts the files in logs.dir: absolute as is, relative to the config folder, "logs" beside it when empty, nowhere without a config file unless absolute', () => {
    const config = path.join(path.sep, 'etc', 'relaydeck', 'config.json');
    assert.equal(logDirOf('', config), path.join(path.sep, 'etc', 'relaydeck', 'logs'));
    assert.equal(logDirOf('var/log', config), path.join(path.sep, 'etc', 'relaydeck', 'var', 'log'));
    assert.equal(logDirOf('/var/log/relaydeck', config), '/var/log/relaydeck');
    assert.equal(logDirOf('', undefined), undefined);
    assert.equal(logDirOf('logs', undefined), undefined);
    assert.equal(logDirOf('/var/log/relaydeck', undefined), '/var/log/relaydeck');
  });
});

describe('the listLogRecords input', () => {
  it('takes query text or JSON numbers, fills the defaults, bounds the limit by logs.readMaxRecords', () => {
    assert.deepEqual(parseRecordQuery(undefined, 'body', 1000), { file: 'sessions', limit: 100 });
    assert.deepEqual(parseRecordQuery({ file: 'access', limit: '20', before: '1733300000000', search: '  CAM1 ' }, 'body', 1000), {
      file: 'access',
      before: 1_733_300_000_000,
      limit: 20,
      search: 'cam1',
    });
    assert.deepEqual(parseRecordQuery({ limit: 5, cursor: '123:456' }, 'body', 1000), { file: 'sessions', cursor: '123:456', limit: 5 });
    assert.equal(parseRecordQuery({}, 'body', 50).limit, 50, 'the default never passes the setting');
    assert.equal(
      errorOf(() => parseRecordQuery({ limit: '2000' }, 'body', 1000)),
      'body.limit: expected at most 1000 (logs.readMaxRecords), got 2000',
    );
    assert.equal(
      errorOf(() => parseRecordQuery({ limit: '1e3' }, 'body', 1000)),
      'body.limit: expected an integer, got "1e3"',
    );
    assert.equal(
      errorOf(() => parseRecordQuery({ file: 'audit' }, 'body', 1000)),
      'body.file: expected "sessions" or "access", got "audit"',
    );
    assert.equal(
      errorOf(() => parseRecordQuery({ cursor: '../x' }, 'body', 1000)),
      'body.cursor: expected a cursor from a previous answer, got "../x"',
    );
    assert.equal(
      errorOf(() => parseRecordQuery({ page: 2 }, 'body', 1000)),
      'body.page: unknown key',
    );
  });
});
