/**
 * WebSocket-FLV: `ws://` on an flv fan-out route is served by the same fan-out, admission,
 * limits and stats as HTTP-FLV. A WebSocket viewer and an HTTP viewer share one pull and get
 * the same FLV bytes; every refusal (auth, pause, maxSessions, a route that does not serve
 * WebSocket, a garbled handshake, an offline stream, an Origin the route's corsOrigins does
 * not allow) is the relay's HTTP answer before the upgrade, with no session; kick, stream end and shutdown close the WebSocket with a close
 * code; a viewer that stops reading is bounded and cut like a slow HTTP viewer.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer, timestampViolation } from '../../../helpers/flv-viewer.js';
import { FlvWsViewer } from '../../../helpers/flv-ws-viewer.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { portOf, rawExchange, rawJson, rawStatus, sleep, waitFor } from '../../../helpers/http.js';

const TOKEN = 'ws-viewer-token-0123456789';
/** The one web origin the "guarded" route lists in corsOrigins. */
const PLAYER_ORIGIN = 'https://player.example.com';

/** The relay's URL with ws: instead of http:. */
const wsUrl = (relay: StartedRelay, path: string) => `${relay.relayUrl.replace(/^http:/, 'ws:')}${path}`;

/** A handshake written by hand (for checks the `ws` client would never send). */
function handshake(path: string, headers: Record<string, string>): string {
  const fields = {
    host: 'relay',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    ...headers,
  };
  return `GET ${path} HTTP/1.1\r\n${Object.entries(fields)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
}

async function sessions(relay: StartedRelay): Promise<any[]> {
  return (await relay.api.call('GET', '/api/sessions')).body as any[];
}

async function logged(relay: StartedRelay): Promise<any[]> {
  return (await relay.api.call('GET', '/api/requests')).body as any[];
}

describe('WebSocket-FLV', () => {
  const origin = new LiveFlvOrigin({ fps: 25, gopFrames: 25 });
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      flv: { idleCloseMs: 0 },
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'locked', path: '/locked/', kind: 'flv', mode: 'proxy', stripPrefix: true, auth: { tokens: [{ token: TOKEN, label: 'partner' }] } },
        { id: 'files', path: '/files/', kind: 'file', mode: 'proxy' },
        { id: 'hls', path: '/hls/', kind: 'hls', mode: 'proxy' },
        { id: 'jump', path: '/jump/', kind: 'flv', mode: 'redirect' },
        { id: 'piped', path: '/piped/', kind: 'flv', mode: 'proxy', fanout: false, stripPrefix: true },
        { id: 'guarded', path: '/guarded/', kind: 'flv', mode: 'proxy', stripPrefix: true, corsOrigins: [PLAYER_ORIGIN] },
      ],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('a WebSocket viewer and an HTTP viewer share one pull and get the same FLV bytes', async () => {
    const opened = origin.connectionsOpened;
    const [http, ws] = await Promise.all([new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open(), new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open()]);
    assert.equal(ws.status, 101);
    assert.equal(http.status, 200);
    // Both past their first keyframe and 50 frames on.
    await waitFor(() => [http, ws].every((v) => v.tags.filter((t) => t.video && !t.video.sequenceHeader).length > 50), 8000, 'both viewers to get 50 frames');
    assert.equal(origin.connectionsOpened - opened, 1, 'one upstream pull for both');
    const [stream] = (await relay.api.call('GET', '/api/streams')).body as any[];
    assert.equal(stream.viewers, 2);
    assert.equal(stream.upstreamOpened, 1);

    // The same start: FLV header, metadata, sequence headers, then a keyframe.
    const [httpHeader, wsHeader] = [http.items[0], ws.items[0]];
    assert.ok(httpHeader.kind === 'header' && wsHeader.kind === 'header', 'both start with the FLV header');
    assert.ok(wsHeader.header.bytes.equals(httpHeader.header.bytes), 'the same FLV header');
    assert.ok(Buffer.concat(ws.chunks).subarray(0, 3).equals(Buffer.from('FLV')), 'the first message starts with it');
    const kinds = (v: FlvTestViewer | FlvWsViewer) =>
      v.tags
        .slice(0, 4)
        .map((t) => (t.metadata ? 'meta' : t.video?.sequenceHeader ? 'avc-seq' : t.audio?.sequenceHeader ? 'aac-seq' : t.video?.keyframe ? 'key' : 'frame'));
    assert.deepEqual(kinds(ws), ['meta', 'avc-seq', 'aac-seq', 'key']);
    assert.deepEqual(kinds(http), ['meta', 'avc-seq', 'aac-seq', 'key']);
    assert.equal(ws.parseError, undefined);
    assert.equal(timestampViolation(ws as unknown as FlvTestViewer), undefined);

    // Byte for byte the same tags from a keyframe both got.
    const wsTags = ws.tags;
    const httpTags = http.tags;
    const wsKey = wsTags.findIndex(
      (t) => t.video?.keyframe && !t.video.sequenceHeader && httpTags.some((h) => h.video?.keyframe && h.timestamp === t.timestamp),
    );
    assert.ok(wsKey >= 0, 'a keyframe both viewers got');
    const httpKey = httpTags.findIndex((h) => h.video?.keyframe && !h.video.sequenceHeader && h.timestamp === wsTags[wsKey].timestamp);
    const common = Math.min(wsTags.length - wsKey, httpTags.length - httpKey, 40);
    assert.ok(common >= 20, `${common} tags in common`);
    const a = wsTags.slice(wsKey, wsKey + common);
    const b = httpTags.slice(httpKey, httpKey + common);
    for (let i = 0; i < common; i += 1) assert.ok(a[i].bytes.equals(b[i].bytes), `tag ${i} after the keyframe is the same on both transports`);

    // The sessions API tells the transports apart.
    const live = await sessions(relay);
    assert.deepEqual(live.map((s) => s.transport).sort(), ['http', 'ws']);
    const wsSession = live.find((s) => s.transport === 'ws');
    assert.equal(wsSession.status, 101);
    assert.equal(wsSession.method, 'GET');
    assert.equal(wsSession.streamId, stream.id);
    assert.ok(wsSession.bytesOut > 0 && typeof wsSession.queuedBytes === 'number' && typeof wsSession.firstKeyframeMs === 'number');

    // The viewer closing its WebSocket ends its session like an HTTP viewer leaving.
    ws.close();
    await ws.whenClosed();
    const entry = await waitFor(async () => (await logged(relay)).find((e) => e.id === wsSession.id), 2000, 'the ws session in the request log');
    assert.equal(entry.transport, 'ws');
    assert.equal(entry.errorCode, 'CLIENT_CLOSED');
    assert.equal(entry.status, 499);
    http.close();
    await origin.waitAllClosed(2000);
    await waitFor(() => relay.engine.sessions.size === 0 && relay.engine.flvStreams.size === 0, 2000, 'sessions and streams to go');
  });

  it('ignores what the viewer sends, and closes with 1009 on a message over the payload bound', async () => {
    const ws = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open();
    await waitFor(() => ws.firstKeyframeAt > 0, 5000, 'the first keyframe');
    ws.ws.send('hello relay');
    ws.ws.send(Buffer.alloc(500));
    const before = ws.bytes;
    await waitFor(() => ws.bytes > before + 20_000, 3000, 'the stream to go on after small messages');
    assert.equal(ws.closed, false);
    ws.ws.send(Buffer.alloc(64 * 1024));
    await ws.whenClosed();
    assert.equal(ws.closeCode, 1009);
    await waitFor(() => relay.engine.sessions.size === 0, 3000, 'the session to end');
  });

  it('refuses a viewer without its token before the upgrade (401, no session), and upgrades one with it', async () => {
    const logBefore = (await logged(relay)).length;
    const refused = await new FlvWsViewer(wsUrl(relay, '/locked/live/cam1.flv')).open();
    assert.equal(refused.status, 401);
    assert.equal(refused.json().error.code, 'AUTH_MISSING');
    const wrong = await new FlvWsViewer(wsUrl(relay, '/locked/live/cam1.flv?token=not-the-token')).open();
    assert.equal(wrong.status, 403);
    assert.equal(relay.engine.sessions.size, 0);
    const entries = (await logged(relay)).slice(logBefore);
    assert.deepEqual(
      entries.map((e) => [e.transport, e.status, e.errorCode]),
      [
        ['ws', 401, 'AUTH_MISSING'],
        ['ws', 403, 'AUTH_INVALID'],
      ],
    );
    const admitted = await new FlvWsViewer(wsUrl(relay, `/locked/live/cam1.flv?token=${TOKEN}`)).open();
    assert.equal(admitted.status, 101);
    await waitFor(() => admitted.firstKeyframeAt > 0, 5000, 'the keyframe with a token');
    const stats = (await relay.api.call('GET', '/api/stats')).body as any;
    assert.equal(stats.routes.locked.tokens.partner, 1);
    admitted.close();
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the session to end');
  });

  it('refuses while paused (503), and serves again once resumed', async () => {
    await relay.api.call('PUT', '/api/relay/pause');
    try {
      const refused = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open();
      assert.equal(refused.status, 503);
      assert.equal(refused.json().error.code, 'OVERLOADED');
      assert.equal(relay.engine.sessions.size, 0);
    } finally {
      await relay.api.call('DELETE', '/api/relay/pause');
    }
    const ws = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open();
    assert.equal(ws.status, 101);
    ws.close();
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the session to end');
  });

  it('refuses the upgrade on file, HLS, redirect and fanout-off routes (400, no session)', async () => {
    for (const path of ['/files/a.bin', '/hls/cam1/index.m3u8', '/jump/live/cam1.flv', '/piped/live/cam1.flv']) {
      const refused = await new FlvWsViewer(wsUrl(relay, path)).open();
      assert.equal(refused.status, 400, path);
      assert.equal(refused.json().error.code, 'BAD_REQUEST');
      assert.match(refused.json().error.message, /WebSocket/);
    }
    assert.equal(relay.engine.sessions.size, 0);
    assert.equal(origin.openSockets.size, 0, 'no node was asked');
  });

  it("checks a browser's Origin against the route's corsOrigins: a listed one plays, another gets 403 ORIGIN_DENIED and no session, none plays", async () => {
    const logBefore = (await logged(relay)).length;
    const statsBefore = (await relay.api.call('GET', '/api/stats')).body as any;
    const refused = await new FlvWsViewer(wsUrl(relay, '/guarded/live/cam1.flv'), {}, 'https://evil.example.net').open();
    if (refused.status === 101) refused.close(); // upgraded by mistake: not left open for the tests after this one
    assert.equal(refused.status, 403);
    assert.equal(refused.json().error.code, 'ORIGIN_DENIED');
    assert.match(refused.json().error.message, /https:\/\/evil\.example\.net.*corsOrigins/);
    assert.equal(refused.headers['access-control-allow-origin'], undefined, 'no CORS allowance for it either');
    assert.deepEqual(await sessions(relay), [], 'no session was opened');
    assert.equal(relay.engine.sessions.size, 0);
    assert.equal(origin.openSockets.size, 0, 'no node was asked');
    const stats = (await relay.api.call('GET', '/api/stats')).body as any;
    assert.equal(stats.routes.guarded.errors.ORIGIN_DENIED, (statsBefore.routes.guarded?.errors.ORIGIN_DENIED ?? 0) + 1);
    assert.equal(stats.routes.guarded.active, 0);
    const entries = (await logged(relay)).slice(logBefore);
    assert.deepEqual(
      entries.map((e) => [e.routeId, e.transport, e.status, e.errorCode]),
      [['guarded', 'ws', 403, 'ORIGIN_DENIED']],
    );

    // The listed origin, no Origin at all (ffplay, a native player), and any origin on a "*" route all play.
    const viewers = await Promise.all([
      new FlvWsViewer(wsUrl(relay, '/guarded/live/cam1.flv'), { 'user-agent': 'listed-origin' }, PLAYER_ORIGIN).open(),
      new FlvWsViewer(wsUrl(relay, '/guarded/live/cam1.flv'), { 'user-agent': 'no-origin' }).open(),
      new FlvWsViewer(wsUrl(relay, '/live/cam1.flv'), { 'user-agent': 'any-origin' }, 'https://evil.example.net').open(),
    ]);
    assert.deepEqual(
      viewers.map((v) => v.status),
      [101, 101, 101],
    );
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 5000, 'every admitted viewer to get a keyframe');
    assert.deepEqual((await sessions(relay)).map((s) => s.userAgent).sort(), ['any-origin', 'listed-origin', 'no-origin']);
    viewers.forEach((v) => v.close());
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the sessions to end');
  });

  it('answers a garbled handshake with 400 and no session', async () => {
    const port = portOf(relay.relayUrl);
    const logBefore = (await logged(relay)).length;
    const badKey = await rawExchange(port, handshake('/live/cam1.flv', { 'sec-websocket-key': 'short' }));
    assert.equal(rawStatus(badKey), 400);
    assert.match(rawJson(badKey).error.message, /Sec-WebSocket-Key/);
    const badVersion = await rawExchange(port, handshake('/live/cam1.flv', { 'sec-websocket-version': '12' }));
    assert.equal(rawStatus(badVersion), 400);
    assert.match(badVersion, /sec-websocket-version: 13, 8/i);
    const head = await rawExchange(port, handshake('/live/cam1.flv', {}).replace(/^GET/, 'HEAD'));
    assert.equal(rawStatus(head), 400);
    assert.equal(relay.engine.sessions.size, 0);
    assert.equal(origin.openSockets.size, 0);
    const entries = (await logged(relay)).slice(logBefore);
    assert.deepEqual(
      entries.map((e) => [e.transport, e.status, e.errorCode]),
      Array.from({ length: 3 }, () => ['ws', 400, 'BAD_REQUEST']),
    );
  });

  it('answers an offline stream with the HTTP 404, before the upgrade', async () => {
    const refused = await new FlvWsViewer(wsUrl(relay, '/live/nothing.flv')).open();
    assert.equal(refused.status, 404);
    assert.equal(refused.json().error.code, 'STREAM_OFFLINE');
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the refused session to be logged');
    const entry = (await logged(relay)).at(-1);
    assert.deepEqual([entry.transport, entry.status, entry.errorCode], ['ws', 404, 'STREAM_OFFLINE']);
  });

  it('serves another upgrade (h2c) as the plain HTTP request it also is', async () => {
    const answer = await rawExchange(
      portOf(relay.relayUrl),
      'GET /live/cam1.flv HTTP/1.1\r\nHost: relay\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
      1500,
    );
    assert.equal(rawStatus(answer), 200);
    assert.match(answer, /content-type: video\/x-flv/i);
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the session to end');
    const entry = (await logged(relay)).at(-1);
    assert.equal(entry.transport, 'http');
  });

  it('closes the WebSocket on a kick (1000), and on the stream ending (1000)', async () => {
    const kicked = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv'), { 'user-agent': 'kick-me' }).open();
    await waitFor(() => kicked.firstKeyframeAt > 0, 5000, 'the first keyframe');
    const session = (await sessions(relay)).find((s) => s.userAgent === 'kick-me');
    assert.equal((await relay.api.call('DELETE', `/api/sessions/${session.id}`)).status, 200);
    await kicked.whenClosed();
    assert.equal(kicked.closeCode, 1000);
    assert.match(kicked.closeReason, /operator/);
    const entry = (await logged(relay)).find((e) => e.id === session.id);
    assert.deepEqual([entry.transport, entry.errorCode], ['ws', 'KICKED']);

    const ended = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open();
    await waitFor(() => ended.firstKeyframeAt > 0, 5000, 'the first keyframe');
    const [stream] = (await relay.api.call('GET', '/api/streams')).body as any[];
    assert.equal((await relay.api.call('DELETE', `/api/streams/${stream.id}`)).status, 200);
    await ended.whenClosed();
    assert.equal(ended.closeCode, 1000);
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the session to end');
  });
});

describe('WebSocket-FLV limits and shutdown', () => {
  const origin = new LiveFlvOrigin({ fps: 25, gopFrames: 25 });
  let relay: StartedRelay;
  let stopped = false;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      relay: { maxSessions: 2 },
      flv: { idleCloseMs: 0 },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
  });
  after(async () => {
    if (!stopped) await relay.stop();
    await origin.stop();
  });

  it('counts WebSocket viewers in relay.maxSessions', async () => {
    const ws = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open();
    const http = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    assert.deepEqual([ws.status, http.status], [101, 200]);
    const overWs = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open();
    assert.equal(overWs.status, 503);
    assert.match(overWs.json().error.message, /maxSessions/);
    http.close();
    await waitFor(() => relay.engine.sessions.size === 1, 2000, 'the HTTP viewer to go');
    const second = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open();
    assert.equal(second.status, 101);
    const overHttp = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    assert.equal(overHttp.status, 503, 'two WebSocket viewers fill the relay for HTTP viewers too');
    ws.close();
    second.close();
    await waitFor(() => relay.engine.sessions.size === 0, 2000, 'the sessions to end');
  });

  it('closes WebSocket viewers with 1001 when the relay stops', async () => {
    const ws = await new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open();
    await waitFor(() => ws.firstKeyframeAt > 0, 5000, 'the first keyframe');
    stopped = true;
    await relay.stop();
    await ws.whenClosed();
    assert.equal(ws.closeCode, 1001);
    assert.equal(ws.closeReason, 'relay stopping');
  });
});

describe('a WebSocket-FLV viewer that stops reading', () => {
  const QUEUE_BOUND = 256 * 1024;
  // about 4.4 Mbit/s, so a stalled socket's kernel buffers fill within seconds
  const origin = new LiveFlvOrigin({ keyframeBytes: 60_000, interBytes: 20_000 });
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      flv: { viewerQueueMaxBytes: QUEUE_BOUND, slowViewerTimeoutMs: 2_000, idleCloseMs: 0 },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('is bounded by flv.viewerQueueMaxBytes, drops to keyframes, and is cut, while the others keep the full rate', async () => {
    const rssBefore = process.memoryUsage().rss;
    const normalWs = await Promise.all(Array.from({ length: 5 }, () => new FlvWsViewer(wsUrl(relay, '/live/cam1.flv')).open()));
    const normalHttp = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`, false).open();
    const stalled = net.connect(portOf(relay.relayUrl), '127.0.0.1');
    stalled.on('error', () => {});
    let stalledClosed = false;
    stalled.on('close', () => (stalledClosed = true));
    stalled.write(handshake('/live/cam1.flv', { 'user-agent': 'stalled-ws' }));
    stalled.pause(); // never read: the kernel buffers fill, then the relay's queue
    const stalledSession = await waitFor(async () => (await sessions(relay)).find((s) => s.userAgent === 'stalled-ws'), 3000, 'the stalled session');
    assert.equal(stalledSession.transport, 'ws');
    const startBytes = normalWs.map((v) => v.bytes);
    const httpStart = normalHttp.bytes;
    const emittedAtStart = origin.bytesEmitted;
    let maxQueued = 0;
    let droppedSeen = 0;
    let gone = false;
    const windowStart = Date.now();
    while (!gone && Date.now() - windowStart < 30_000) {
      const s = (await sessions(relay)).find((x) => x.id === stalledSession.id);
      if (s) {
        maxQueued = Math.max(maxQueued, s.queuedBytes);
        droppedSeen = Math.max(droppedSeen, s.framesDropped);
      } else gone = true;
      await sleep(100); // sampling interval of the queue/drops readings while waiting for the cut
    }
    const expected = origin.bytesEmitted - emittedAtStart;
    assert.ok(gone, 'the relay cut the stalled WebSocket viewer');
    stalled.resume();
    await waitFor(() => stalledClosed, 5000, 'the stalled socket to see the end');
    assert.ok(droppedSeen > 0, 'its dropped frames were counted');
    assert.ok(maxQueued > 0 && maxQueued <= QUEUE_BOUND, `its queue stayed within the bound (max ${maxQueued})`);
    const entry = (await logged(relay)).find((e) => e.id === stalledSession.id);
    assert.deepEqual([entry.transport, entry.errorCode], ['ws', 'SLOW_VIEWER']);
    assert.ok(entry.framesDropped > 0);
    for (const [i, viewer] of normalWs.entries()) {
      const got = viewer.bytes - startBytes[i];
      assert.ok(got >= expected * 0.9, `WebSocket viewer ${i} got ${got} of ~${Math.round(expected)} bytes`);
      assert.equal(viewer.closed, false);
    }
    assert.ok(normalHttp.bytes - httpStart >= expected * 0.9, 'the HTTP viewer kept the full rate');
    assert.ok(
      (await sessions(relay)).every((s) => s.framesDropped === 0),
      'no other viewer dropped a frame',
    );
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1048576;
    assert.ok(rssGrowthMb < 100, `RSS grew ${rssGrowthMb.toFixed(1)} MB`);
    normalWs.forEach((v) => v.close());
    normalHttp.close();
    await origin.waitAllClosed(2000);
    await waitFor(() => relay.engine.sessions.size === 0 && relay.engine.flvStreams.size === 0, 3000, 'maps to shrink to zero');
  });
});
