/**
 * The access log through a real relay and a real origin, written to real files: every
 * finished request (proxied, redirected, refused) lands as one line, hostile bytes sent on a
 * raw socket cannot break a line, the counters show in getLogs and /metrics, the file rotates
 * by size with old files deleted past maxFiles (and listLogRecords still reads across them),
 * and settings changes apply live (format, off and on, another folder).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LogRecordsDto, LogsStatusDto } from '../../../shared/dto.js';
import { TestOrigin } from '../../helpers/origin.js';
import { rawExchange, rawStatus, request, waitFor, portOf } from '../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const FILE_BYTES = 12_345;

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

describe('the access log', () => {
  const origin = new TestOrigin();
  const dirs: string[] = [];
  let dir: string;
  let relay: StartedRelay;
  const status = async () => (await relay.api.call<LogsStatusDto>('GET', '/api/logs')).body;
  /** Wait until every line so far is on disk. */
  const settled = () => waitFor(async () => (await status()).access.queued === 0, 5000, 'the access queue to empty');
  const tempDir = () => {
    const made = mkdtempSync(path.join(os.tmpdir(), 'relaydeck-access-'));
    dirs.push(made);
    return made;
  };

  before(async () => {
    origin.handler = (_req, res) => res.end(Buffer.alloc(FILE_BYTES, 0x61));
    const url = await origin.start();
    dir = tempDir();
    relay = await startRelay({
      logs: { dir, sessions: { enabled: false } },
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'files', path: '/f/', kind: 'file', mode: 'proxy' },
        { id: 'away', path: '/r/', kind: 'file', mode: 'redirect' },
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await origin.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('writes one JSON line per finished request: proxied, redirected and refused', async () => {
    assert.equal((await request(`${relay.relayUrl}/f/one.bin`, { headers: { 'user-agent': 'curl/8' } })).status, 200);
    assert.equal((await request(`${relay.relayUrl}/r/two.png`)).status, 302);
    assert.equal((await request(`${relay.relayUrl}/nowhere`)).status, 404);
    await settled();
    const written = lines(path.join(dir, 'access.log')).map((line) => JSON.parse(line));
    assert.deepEqual(
      written.map((w) => [w.routeId, w.mode, w.path, w.status, w.errorCode]),
      [
        ['files', 'proxy', '/f/one.bin', 200, undefined],
        ['away', 'redirect', '/r/two.png', 302, undefined],
        ['(none)', 'proxy', '/nowhere', 404, 'NO_ROUTE'],
      ],
    );
    assert.equal(written[0].bytesOut, FILE_BYTES);
    assert.equal(written[0].bytesIn, FILE_BYTES);
    assert.equal(written[0].userAgent, 'curl/8');
    assert.equal(written[0].clientAddress, '127.0.0.1');
    assert.equal(written[0].nodeId, 'a');
    assert.ok(Date.parse(written[0].end) >= Date.parse(written[0].start));
    const counters = (await status()).access;
    assert.deepEqual([counters.enabled, counters.written, counters.dropped, counters.format], [true, 3, 0, 'json']);
    assert.equal(counters.path, path.join(dir, 'access.log'));
    assert.equal((statSync(path.join(dir, 'access.log')).mode & 0o777).toString(8), '600');
  });

  it('keeps one line per request whatever bytes a viewer sends in its path and user agent', async () => {
    const before = lines(path.join(dir, 'access.log')).length;
    // Raw bytes, as an attacker sends them: quotes, a backslash, a tab, Latin-1 bytes and a JSON-looking tail.
    const head = Buffer.concat([
      Buffer.from('GET /f/a"b\\c.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\nUser-Agent: x" "y\\\t'),
      Buffer.from([0xff, 0xe9, 0x80]),
      Buffer.from('"},{"forged":true}\r\n\r\n'),
    ]);
    const answer = await rawExchange(portOf(relay.relayUrl), head);
    // The relay refuses a backslash in a path (a lenient node could read it as "/"): refusals are logged too, with the path as sent.
    assert.equal(rawStatus(answer), 400, answer.slice(0, 200));
    await settled();
    const after = lines(path.join(dir, 'access.log'));
    assert.equal(after.length, before + 1, 'exactly one more line');
    const entry = JSON.parse(after.at(-1)!);
    assert.equal(entry.path, '/f/a"b\\c.bin');
    assert.equal(entry.userAgent, 'x" "y\\\t\u00ff\u00e9\u0080"},{"forged":true}');
    assert.equal(entry.forged, undefined);
    assert.equal(entry.status, 400);
    assert.equal(entry.errorCode, 'BAD_REQUEST');
  });

  it('shows its counters in /metrics', async () => {
    const metrics = (await relay.api.call<string>('GET', '/metrics')).body;
    const written = (await status()).access.written;
    assert.match(metrics, new RegExp(`^relaydeck_log_lines_written_total\\{file="access",relay="[^"]+"\\} ${written}$`, 'm'));
    assert.match(metrics, /^relaydeck_log_lines_dropped_total\{file="access",relay="[^"]+"\} 0$/m);
    assert.match(metrics, /^relaydeck_log_queue_lines\{file="access",relay="[^"]+"\} 0$/m);
    assert.match(metrics, /^relaydeck_log_lines_written_total\{file="sessions",relay="[^"]+"\} 0$/m);
  });

  it('switches to the combined format live, and reads both formats back newest first', async () => {
    const answer = await relay.api.call('PATCH', '/api/settings', { logs: { access: { format: 'combined' } } });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    await waitFor(async () => (await status()).access.format === 'combined', 5000, 'the combined format');
    assert.equal((await request(`${relay.relayUrl}/f/three.bin`, { headers: { 'user-agent': 'Mozilla "5.0"' } })).status, 200);
    await settled();
    const last = lines(path.join(dir, 'access.log')).at(-1)!;
    assert.match(
      last,
      /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/f\/three\.bin" 200 12345 "-" "Mozilla \\x225\.0\\x22"$/,
    );
    const page = (await relay.api.call<LogRecordsDto>('GET', '/api/logs/records?file=access&limit=3')).body;
    assert.deepEqual(
      page.records.map((r) => r.path),
      ['/f/three.bin', '/f/a"b\\c.bin', '/nowhere'],
    );
    assert.equal(page.records[0].userAgent, 'Mozilla "5.0"');
    assert.equal(page.records[2].errorCode, 'NO_ROUTE', 'the JSON lines before the change keep all their fields');
  });

  it('rotates by size and deletes rotated files past maxFiles; the records API reads across the rotated ones', async () => {
    const answer = await relay.api.call('PATCH', '/api/settings', {
      logs: { access: { format: 'json', rotateBytes: 2_000, rotateInterval: '', maxFiles: 2 } },
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    await waitFor(async () => (await status()).access.format === 'json', 5000, 'the new access settings');
    // Ten lines (about 2,000 bytes) per write: lines are written in batches, and a file is rotated between batches only.
    for (let i = 0; i < 40; i += 1) {
      assert.equal((await request(`${relay.relayUrl}/r/rotate-${i}.png`)).status, 302);
      if (i % 10 === 9) await settled();
    }
    const counters = (await status()).access;
    assert.ok(counters.rotations >= 4, `${counters.rotations} rotations`);
    assert.ok(counters.removed >= 2, `${counters.removed} rotated files deleted`);
    const rotated = readdirSync(dir).filter((name) => /^access-\d{8}T\d{9}Z-\d+\.log$/.test(name));
    assert.equal(rotated.length, 2, `rotated files kept: ${rotated.join(', ')}`);
    for (const name of rotated) assert.ok(statSync(path.join(dir, name)).size >= 2_000, `${name} was rotated once past 2,000 bytes`);
    const page = (await relay.api.call<LogRecordsDto>('GET', '/api/logs/records?file=access&limit=12')).body;
    assert.deepEqual(
      page.records.map((r) => r.path),
      Array.from({ length: 12 }, (_, i) => `/r/rotate-${39 - i}.png`),
    );
    assert.ok(page.filesRead >= 2, `${page.filesRead} files read for 12 records`);
  });

  it('turns off and on live, and follows the folder to another place', async () => {
    let answer = await relay.api.call('PATCH', '/api/settings', { logs: { access: { enabled: false } } });
    assert.equal(answer.status, 200);
    await waitFor(async () => !(await status()).access.enabled, 5000, 'the access log off');
    const written = (await status()).access.written;
    await request(`${relay.relayUrl}/r/while-off.png`);
    assert.equal((await status()).access.written, written, 'nothing written while off');
    assert.equal((await status()).access.dropped, 0, 'and nothing counted as dropped');

    const other = tempDir();
    answer = await relay.api.call('PATCH', '/api/settings', { logs: { dir: other, access: { enabled: true } } });
    assert.equal(answer.status, 200);
    await waitFor(async () => (await status()).access.path === path.join(other, 'access.log'), 5000, 'the new folder');
    await request(`${relay.relayUrl}/r/moved.png`);
    await settled();
    assert.deepEqual(
      lines(path.join(other, 'access.log')).map((line) => JSON.parse(line).path),
      ['/r/moved.png'],
    );
    const all = lines(path.join(dir, 'access.log')).join('\n');
    assert.doesNotMatch(all, /while-off|moved/);
  });

  it('refuses a bad settings change or query, naming the field, and keeps what runs', async () => {
    const bad = await relay.api.call<{ error: { code: string; message: string } }>('PATCH', '/api/settings', { logs: { access: { rotateInterval: '7m' } } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^body\.logs\.access\.rotateInterval: "7m" does not divide an hour evenly/);
    const query = await relay.api.call<{ error: { message: string } }>('GET', '/api/logs/records?limit=5000');
    assert.equal(query.status, 400);
    assert.equal(query.body.error.message, 'body.limit: expected at most 1000 (logs.readMaxRecords), got 5000');
    assert.equal((await status()).access.enabled, true);
  });
});
