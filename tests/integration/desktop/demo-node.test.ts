/**
 * The built-in demo node (electron/engine/demo/): its FLV loop keeps timestamps growing across
 * loops and starts every viewer at a keyframe; its HLS playlist slides with a growing media
 * sequence and marks each loop restart as a discontinuity; ffprobe reads both (skipped,
 * saying why, without ffprobe); a first run installs it and saves it; it is removed in one
 * call on every transport (engine API, admin HTTP, IPC).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import type { ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { IpcMainInvokeEvent } from 'electron';
import { ipcChannel } from '../../../shared/api.js';
import { parseConfig } from '../../../shared/config.js';
import { createHttpClient } from '../../../shared/http-client.js';
import { APP_PAGE_URL } from '../../../electron/desktop/app-protocol.js';
import type { IpcResult } from '../../../electron/desktop/ipc-result.js';
import { loadDemoClip, type DemoClip } from '../../../electron/engine/demo/clip.js';
import { DEMO_ROUTES, installDemo, isFirstRun, uninstallDemo } from '../../../electron/engine/demo/config.js';
import { FlvLoop } from '../../../electron/engine/demo/flv-loop.js';
import { DEMO_HLS_WINDOW_SEGMENTS, HlsLoop, parseSegmentUri } from '../../../electron/engine/demo/hls-loop.js';
import { DemoServer } from '../../../electron/engine/demo/server.js';
import { Engine } from '../../../electron/engine/engine.js';
import { registerIpcHandlers } from '../../../electron/desktop/ipc.js';
import { createLogger } from '../../../electron/engine/core/log.js';
import { FlvTagReader, TAG_AUDIO, TAG_VIDEO } from '../../../electron/engine/codec/flv/tag-reader.js';
import { execFile } from 'node:child_process';
import { missingTool } from '../../helpers/media.js';
import { ADMIN_TOKEN } from '../../helpers/engine-fixtures.js';

let clip: DemoClip;
before(async () => {
  clip = await loadDemoClip();
});

/**
 * ffprobe reading the first `packets` packets. A packet count, not a time interval: across an
 * HLS discontinuity the timestamps start again, so "+2 s" is never reached on a live playlist.
 */
function probePackets(url: string, packets = 60): Promise<{ streams: { codec_type: string; codec_name: string; width?: number }[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-rw_timeout', '10000000', '-read_intervals', `%+#${packets}`, '-show_streams', '-of', 'json', url],
      { timeout: 20_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`ffprobe failed: ${stderr || error.message}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

/** Enough of a ServerResponse for the FLV loop: it records what is written. */
class RecordingResponse extends EventEmitter {
  chunks: Buffer[] = [];
  status = 0;
  writableLength = 0;
  destroyed = false;
  writeHead(status: number) {
    this.status = status;
    return this;
  }
  write(chunk: Buffer) {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
  destroy() {
    this.destroyed = true;
    this.emit('close');
  }
}

test('the clip: H.264 + AAC, 320x180 at 25 fps, 8 s, 8 HLS segments, under 1 MB in all', async () => {
  assert.equal(clip.flv.width, 320);
  assert.equal(clip.flv.height, 180);
  assert.equal(clip.flv.fps, 25);
  assert.ok(clip.flv.durationMs >= 8_000 && clip.flv.durationMs <= 8_100, `one loop lasts ${clip.flv.durationMs} ms`);
  assert.equal(clip.hls.segments.length, 8);
  const files = await fs.readdir(new URL('../../../electron/engine/demo/assets/', import.meta.url));
  let bytes = 0;
  for (const file of files) bytes += (await fs.stat(new URL(`../../../electron/engine/demo/assets/${file}`, import.meta.url))).size;
  assert.ok(bytes < 1_048_576, `assets take ${bytes} bytes`);
});

test('FLV loop: a viewer starts at a keyframe and timestamps keep growing across loops', () => {
  let now = 1_000_000 + 3_500; // joins 3.5 s into the first loop
  const loop = new FlvLoop(clip.flv, 1_000_000, () => now);
  const res = new RecordingResponse();
  assert.equal(loop.addViewer(res as unknown as ServerResponse), true);
  for (let i = 0; i < 1_000; i += 1) {
    now += 20; // 20 s of stream: two and a half loops
    loop.sendDue();
  }
  loop.close();
  const reader = new FlvTagReader();
  const tags = reader.push(Buffer.concat(res.chunks)).flatMap((item) => (item.kind === 'tag' ? [item.tag] : []));
  const media = tags.filter((t) => (t.type === TAG_VIDEO || t.type === TAG_AUDIO) && !t.video?.sequenceHeader && !t.audio?.sequenceHeader);
  const firstVideo = media.find((t) => t.type === TAG_VIDEO);
  assert.equal(firstVideo?.video?.keyframe, true, 'the first video frame is a keyframe');
  assert.ok(firstVideo && firstVideo.timestamp > 2_500 && firstVideo.timestamp <= 3_500, `the GOP that started near 3 s (${firstVideo?.timestamp})`);
  for (const type of [TAG_VIDEO, TAG_AUDIO]) {
    const stamps = media.filter((t) => t.type === type).map((t) => t.timestamp);
    for (let i = 1; i < stamps.length; i += 1) assert.ok(stamps[i] > stamps[i - 1], `type ${type}: ${stamps[i]} after ${stamps[i - 1]}`);
  }
  const lastVideo = media.filter((t) => t.type === TAG_VIDEO).at(-1)!.timestamp;
  assert.ok(lastVideo >= 23_000, `the stream went on for two loops (${lastVideo} ms)`);
  const metadata = tags.find((t) => t.metadata)?.metadata;
  assert.equal(metadata?.duration, undefined, 'no duration in the live metadata');
  assert.equal(metadata?.width, 320);
});

test('HLS loop: the media sequence grows, the window slides, each loop restart is a discontinuity', () => {
  let now = 5_000_000;
  const hls = new HlsLoop(clip.hls, now, () => now);
  const read = () => {
    const text = hls.playlist();
    const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
    const discontinuitySequence = Number(/#EXT-X-DISCONTINUITY-SEQUENCE:(\d+)/.exec(text)?.[1]);
    const uris = text.split('\n').filter((line) => line.startsWith('seg-'));
    return { text, sequence, discontinuitySequence, uris };
  };
  const first = read();
  assert.equal(first.uris.length, DEMO_HLS_WINDOW_SEGMENTS, 'a full window at once');
  assert.match(first.text, /^#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n/);
  assert.doesNotMatch(first.text, /#EXT-X-ENDLIST/, 'live: no end');
  now += 3_000;
  const later = read();
  assert.equal(later.sequence, first.sequence + 3);
  // Walk 30 s and check each playlist against the loop's structure.
  for (let s = 0; s < 30; s += 1) {
    now += 1_000;
    const p = read();
    const sequences = p.uris.map((u) => parseSegmentUri(u)!);
    assert.deepEqual(
      sequences,
      Array.from({ length: sequences.length }, (_, i) => p.sequence + i),
      'consecutive sequence numbers',
    );
    assert.equal(p.discontinuitySequence, Math.floor(p.sequence / 8));
    const lines = p.text.split('\n');
    for (const seq of sequences) {
      const at = lines.indexOf(`seg-${seq}.ts`);
      const tagged = lines[at - 2] === '#EXT-X-DISCONTINUITY';
      assert.equal(tagged, seq % 8 === 0 && seq !== p.sequence, `discontinuity before seg-${seq} only at a loop restart`);
    }
    assert.ok(hls.segment(sequences.at(-1)!), 'the newest listed segment is there');
    assert.equal(hls.segment(sequences.at(-1)! + 1), undefined, 'the next one is not yet');
  }
});

describe('the demo node over HTTP, read by ffprobe', { skip: missingTool('ffprobe', 'ffmpeg') }, () => {
  let demo: DemoServer;
  before(async () => {
    demo = await DemoServer.start(0, createLogger('test demo'), clip);
  });
  after(() => demo.stop());

  test('HTTP-FLV: H.264 320x180 and AAC', async () => {
    const probe = await probePackets(`${demo.url}/demo/live.flv`);
    assert.deepEqual(probe.streams.map((s) => s.codec_name).sort(), ['aac', 'h264']);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.width, 320);
  });

  test('HLS: the live playlist and its segments', async () => {
    const probe = await probePackets(`${demo.url}/demo-hls/live.m3u8`);
    assert.deepEqual([...new Set(probe.streams.map((s) => s.codec_name))].sort(), ['aac', 'h264']);
  });

  test('anything else is 404, with CORS like a media node', async () => {
    const response = await fetch(`${demo.url}/demo-hls/seg-999999999.ts`);
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
  });
});

test('first run: only a saved config with no nodes, no routes and no demo section', () => {
  const empty = parseConfig({});
  assert.equal(isFirstRun(empty, true), true);
  assert.equal(isFirstRun(empty, false), false, 'in-memory configs (tests, embedding) never get a demo');
  const draft = structuredClone(empty);
  installDemo(draft, 'http://127.0.0.1:1234');
  assert.equal(isFirstRun(parseConfig(draft), true), false);
  uninstallDemo(draft);
  assert.equal(isFirstRun(parseConfig(draft), true), false, 'a removed demo does not come back');
  assert.deepEqual(draft.demo, { enabled: false, port: 8092 });
});

test('removing the demo refuses while a user route names the demo node', () => {
  const draft = parseConfig({});
  installDemo(draft, 'http://127.0.0.1:1234');
  draft.routes.push({ ...DEMO_ROUTES[0], id: 'mine', path: '/mine/' });
  assert.throws(() => uninstallDemo(draft), /route\(s\) mine use the demo node/);
});

describe('a first run installs the demo and saves it; removeDemo on every transport', () => {
  let home: string;
  before(async () => {
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-demo-'));
  });
  after(() => fs.rm(home, { recursive: true, force: true }));

  async function firstRun(name: string): Promise<{ engine: Engine; configPath: string }> {
    const configPath = path.join(home, `${name}.json`);
    const config = parseConfig({ relay: { port: 0, shutdownGraceMs: 0 }, admin: { port: 0, token: ADMIN_TOKEN } });
    const engine = await Engine.start({ config, configPath });
    return { engine, configPath };
  }

  test('the engine starts the demo node and writes its node, routes and section to the file', async () => {
    const { engine, configPath } = await firstRun('install');
    try {
      const saved = JSON.parse(await fs.readFile(configPath, 'utf8'));
      assert.deepEqual(
        saved.routes.map((r: { id: string }) => r.id),
        ['demo-flv', 'demo-hls'],
      );
      assert.equal(saved.nodes[0].id, 'demo');
      assert.equal(saved.demo.enabled, true);
      const state = await engine.api.getRelayState({});
      assert.equal(state.demo?.flvPath, '/demo/live.flv');
      const response = await fetch(`${engine.relayUrl}/demo-hls/live.m3u8`);
      assert.equal(response.status, 200);
      assert.match(await response.text(), /#EXT-X-MEDIA-SEQUENCE/);
    } finally {
      await engine.stop();
    }
  });

  async function assertRemoved(engine: Engine, configPath: string): Promise<void> {
    assert.equal((await engine.api.getRelayState({})).demo, null);
    assert.deepEqual(engine.config.routes, []);
    assert.deepEqual(engine.config.nodes, []);
    assert.equal(JSON.parse(await fs.readFile(configPath, 'utf8')).demo.enabled, false);
    assert.equal((await fetch(`${engine.relayUrl}/demo/live.flv`)).status, 404);
  }

  test('removeDemo through the engine API', async () => {
    const { engine, configPath } = await firstRun('api');
    try {
      await engine.api.removeDemo({});
      await assertRemoved(engine, configPath);
    } finally {
      await engine.stop();
    }
  });

  test('removeDemo through the admin HTTP API (DELETE /api/demo)', async () => {
    const { engine, configPath } = await firstRun('http');
    try {
      const state = await createHttpClient({ baseUrl: engine.adminUrl, token: ADMIN_TOKEN }).removeDemo({});
      assert.equal(state.demo, null);
      await assertRemoved(engine, configPath);
    } finally {
      await engine.stop();
    }
  });

  test('removeDemo through IPC (its own channel, from our page)', async () => {
    const { engine, configPath } = await firstRun('ipc');
    const handlers = new Map<string, (event: IpcMainInvokeEvent, input: unknown) => Promise<IpcResult<unknown>>>();
    const off = registerIpcHandlers({
      ipcMain: { handle: (c: string, h: never) => handlers.set(c, h), removeHandler: (c: string) => handlers.delete(c) } as never,
      api: engine.api,
      isTrusted: () => true,
      log: createLogger('test ipc'),
    });
    try {
      const answer = await handlers.get(ipcChannel('removeDemo'))!({ senderFrame: { url: APP_PAGE_URL, parent: null } } as unknown as IpcMainInvokeEvent, {});
      assert.equal(answer.ok, true);
      await assertRemoved(engine, configPath);
    } finally {
      off();
      await engine.stop();
    }
  });
});
