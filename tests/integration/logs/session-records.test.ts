/**
 * Session records through a real relay and real origins, written to real files: one JSON line
 * per viewer session when it ends (not per redirect or refusal), with its route, stream, node,
 * client, transport, start, duration, bytes, FLV times to first byte and keyframe, drops and
 * close reason; the auth label when the viewer has one. The relay here runs with a config file,
 * so the records go to `logs/` beside it by default, and they are read back through the API
 * after the engine restarted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { LogRecordDto, LogRecordsDto, LogsStatusDto } from '../../../shared/dto.js';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../helpers/flv-viewer.js';
import { FlvWsViewer } from '../../helpers/flv-ws-viewer.js';
import { request, waitFor } from '../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const FILE_BYTES = 54_321;

describe('session records', { timeout: 60_000 }, () => {
  const flvOrigin = new LiveFlvOrigin({ fps: 25, gopFrames: 25 });
  const home = mkdtempSync(path.join(os.tmpdir(), 'relaydeck-sessions-'));
  const configPath = path.join(home, 'config.json');
  const recordsFile = path.join(home, 'logs', 'sessions.jsonl');
  let config: Record<string, unknown>;
  let relay: StartedRelay;
  const status = async () => (await relay.api.call<LogsStatusDto>('GET', '/api/logs')).body;
  const settled = () => waitFor(async () => (await status()).sessions.queued === 0, 5000, 'the session queue to empty');
  const records = () =>
    readFileSync(recordsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));

  before(async () => {
    const flvUrl = await flvOrigin.start();
    config = {
      flv: { idleCloseMs: 0 },
      nodes: [{ id: 'a', url: flvUrl }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'files', path: '/files/', kind: 'file', mode: 'proxy', stripPrefix: true },
        { id: 'away', path: '/away/', kind: 'file', mode: 'redirect' },
        { id: 'paid', path: '/paid/', kind: 'file', mode: 'proxy', stripPrefix: true, auth: { tokens: [{ token: 'token-partner-a', label: 'partner-a' }] } },
      ],
    };
    flvOrigin.handler = ((serve) => (req, res) => {
      if (req.url?.startsWith('/live/')) return serve(req, res);
      res.end(Buffer.alloc(FILE_BYTES, 0x62));
    })(flvOrigin.handler);
    relay = await startRelay(config, configPath);
  });
  after(async () => {
    await relay?.stop();
    await flvOrigin.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('writes one record per viewer session when it ends, beside the config file, never for redirects or refusals', async () => {
    assert.equal((await request(`${relay.relayUrl}/files/clip.mp4`, { headers: { 'user-agent': 'player/1' } })).status, 200);
    assert.equal((await request(`${relay.relayUrl}/away/x.png`)).status, 302);
    assert.equal((await request(`${relay.relayUrl}/nothing`)).status, 404);
    await settled();
    const [record, ...more] = records();
    assert.deepEqual(more, [], 'only the proxied request is a session');
    assert.equal((await status()).sessions.path, recordsFile);
    assert.equal(record.routeId, 'files');
    assert.equal(record.stream, '/files/clip.mp4');
    assert.equal(record.nodeId, 'a');
    assert.equal(record.clientAddress, '127.0.0.1');
    assert.equal(record.transport, 'http');
    assert.equal(record.userAgent, 'player/1');
    assert.equal(record.bytesOut, FILE_BYTES);
    assert.equal(record.bytesIn, FILE_BYTES);
    assert.equal(record.status, 200);
    assert.equal(record.errorCode, undefined);
    assert.equal(record.durationMs, Date.parse(record.end) - Date.parse(record.start));
    assert.ok(/^\d+$/.test(record.sessionId));
  });

  it('records an FLV viewer with its stream, bytes, times to first byte and keyframe, drops and why it ended', async () => {
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => viewer.firstKeyframeAt > 0 && viewer.bytes > 50_000, 5000, 'the viewer to play');
    const [stream] = (await relay.api.call<{ id: string }[]>('GET', '/api/streams')).body;
    // Closing the stream ends the viewer's response cleanly: every byte the relay wrote reaches it.
    assert.equal((await relay.api.call('DELETE', `/api/streams/${encodeURIComponent(stream.id)}`)).status, 200);
    await waitFor(() => viewer.ended, 5000, 'the viewer response to end');
    await waitFor(() => records().some((r) => r.routeId === 'live'), 5000, 'the FLV session record');
    const record = records().find((r) => r.routeId === 'live');
    assert.equal(record.stream, stream.id);
    assert.equal(record.bytesOut, viewer.bytes, 'the bytes the viewer got');
    assert.equal(record.bytesIn, 0, "a fan-out viewer reads nothing from the node itself: the stream's one pull does");
    assert.equal(typeof record.firstByteMs, 'number');
    assert.ok(record.firstKeyframeMs >= record.firstByteMs);
    assert.ok(record.firstKeyframeMs <= viewer.firstKeyframeAt - viewer.openedAt + 50, 'the relay wrote the keyframe before the viewer read it');
    assert.equal(record.framesDropped, 0);
    assert.equal(record.status, 200);
    assert.equal(record.errorCode, undefined, 'the operator ended the stream: a clean end, no error');
    assert.ok(record.durationMs >= viewer.firstKeyframeAt - viewer.openedAt);
  });

  it('records a WebSocket-FLV viewer as transport ws, closed by the viewer', async () => {
    const ws = await new FlvWsViewer(`${relay.relayUrl.replace('http', 'ws')}/live/cam1.flv`).open();
    assert.equal(ws.status, 101);
    await waitFor(() => ws.bytes > 20_000, 5000, 'the ws viewer to play');
    ws.ws.close();
    await waitFor(() => records().some((r) => r.transport === 'ws'), 5000, 'the ws session record');
    const record = records().find((r) => r.transport === 'ws');
    assert.equal(record.routeId, 'live');
    assert.equal(record.status, 499);
    assert.equal(record.errorCode, 'CLIENT_CLOSED');
    assert.ok(record.bytesOut >= ws.bytes);
  });

  it("carries the viewer's auth label", async () => {
    assert.equal((await request(`${relay.relayUrl}/paid/a.bin?token=token-partner-a`)).status, 200);
    await waitFor(() => records().some((r) => r.routeId === 'paid'), 5000, 'the labelled session record');
    assert.equal(records().find((r) => r.routeId === 'paid').label, 'partner-a');
  });

  it('keeps the records across an engine restart, and listLogRecords reads them back newest first', async () => {
    const before = records().length;
    await relay.stop();
    relay = await startRelay(config, configPath);
    assert.equal((await request(`${relay.relayUrl}/files/after-restart.mp4`)).status, 200);
    await settled();
    const page = (await relay.api.call<LogRecordsDto>('GET', '/api/logs/records?limit=100')).body;
    assert.equal(page.records.length, before + 1);
    assert.equal(page.records[0].path, '/files/after-restart.mp4');
    assert.deepEqual(
      page.records.slice(1).map((r: LogRecordDto) => r.routeId),
      ['paid', 'live', 'live', 'files'],
      'the sessions of the first run, newest first',
    );
    assert.equal(page.cursor, null);
    assert.equal(page.skippedLines, 0);
    const searched = (await relay.api.call<LogRecordsDto>('GET', '/api/logs/records?search=PARTNER-A')).body;
    assert.deepEqual(
      searched.records.map((r: LogRecordDto) => r.label),
      ['partner-a'],
    );
    const older = (await relay.api.call<LogRecordsDto>(`GET`, `/api/logs/records?limit=2&before=${page.records[1].endedAt}`)).body;
    assert.deepEqual(
      older.records.map((r: LogRecordDto) => r.routeId),
      ['live', 'live'],
    );
    const next = (await relay.api.call<LogRecordsDto>('GET', `/api/logs/records?limit=2&cursor=${older.cursor}&before=${page.records[1].endedAt}`)).body;
    assert.deepEqual(
      next.records.map((r: LogRecordDto) => r.routeId),
      ['files'],
    );
  });
});
