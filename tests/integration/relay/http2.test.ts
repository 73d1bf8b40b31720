/**
 * HTTP/2 on the HTTPS listener (tls.http2): real HTTP/2 clients that trust only a test CA
 * (Node's http2 client, curl, nghttp, h2load) reach redirects, proxied files, HLS and the
 * FLV fan-out over h2, many streams on one connection; HTTP/1.1 clients still get HTTP/1.1 on
 * the same port; a slow h2 FLV viewer is bounded and cut like an HTTP/1.1 one; and hostile
 * connections written frame by frame (tests/helpers/h2-raw.ts) are closed while other
 * viewers are served: too many streams, rapid reset (CVE-2023-44487), SETTINGS and PING
 * floods, a connection that sends no request.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { HlsOrigin } from '../../helpers/hls-origin.js';
import { TestOrigin } from '../../helpers/origin.js';
import { getHeaders, ping, RawH2, rstStream, settings } from '../../helpers/h2-raw.js';
import { h2Get, sleep, waitFor } from '../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { TestCa, writePem } from '../../helpers/test-ca.js';

const run = promisify(execFile);
const QUEUE_BOUND = 256 * 1024;
const MAX_STREAMS = 20;
const BIG = randomBytes(300_000);
const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\nseg1.ts\n#EXTINF:2,\nseg2.ts\n';
const SEGMENT = randomBytes(50_000);
const { NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** An FLV viewer as one stream of `session`: counts the bytes it gets. */
function h2FlvViewer(session: http2.ClientHttp2Session, urlPath: string, userAgent = 'h2-viewer') {
  const viewer = { status: 0, bytes: 0, head: Buffer.alloc(0), stream: session.request({ ':path': urlPath, 'user-agent': userAgent }) };
  viewer.stream.on('response', (h) => (viewer.status = Number(h[':status'])));
  viewer.stream.on('data', (c: Buffer) => {
    viewer.bytes += c.length;
    if (viewer.head.length < 3) viewer.head = Buffer.concat([viewer.head, c]).subarray(0, 3);
  });
  viewer.stream.on('error', () => {});
  return viewer;
}

/** Stdout of a command that is stopped after `ms` (for endless streams). */
function runFor(command: string, args: string[], ms: number): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('latin1')));
    child.stderr.on('data', (c: Buffer) => (out += c.toString('latin1')));
    const timer = setTimeout(() => child.kill('SIGTERM'), ms);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

const rssMb = () => process.memoryUsage().rss / 1_048_576;

describe('HTTP/2 on the HTTPS listener', () => {
  const files = new TestOrigin();
  // about 4.4 Mbit/s, so a stalled viewer's queue fills within a second
  const live = new LiveFlvOrigin({ keyframeBytes: 60_000, interBytes: 20_000 });
  let hls: HlsOrigin;
  let dir: string;
  let ca: TestCa;
  let caFile: string;
  let relay: StartedRelay;
  let tlsUrl: string;
  let port: number;
  let filesUrl: string;
  const clients: http2.ClientHttp2Session[] = [];
  const connect = () => {
    // Flow-control windows of the size browsers use (Chrome: 6 MiB per stream, 15 MiB per connection).
    const session = http2.connect(tlsUrl, { ca: ca.ca.cert, settings: { initialWindowSize: 6 * 1_048_576 } });
    session.on('connect', () => session.setLocalWindowSize(15 * 1_048_576));
    session.on('error', () => {});
    clients.push(session);
    return session;
  };

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-h2-'));
    ca = await TestCa.create();
    const pem = await writePem(dir, 'localhost', await ca.issue(['localhost']));
    caFile = path.join(dir, 'ca.pem');
    await fs.writeFile(caFile, ca.ca.cert);
    await fs.mkdir(path.join(dir, 'hls', 'cam1'), { recursive: true });
    await fs.writeFile(path.join(dir, 'hls', 'cam1', 'index.m3u8'), PLAYLIST);
    for (const name of ['seg1.ts', 'seg2.ts']) await fs.writeFile(path.join(dir, 'hls', 'cam1', name), SEGMENT);
    hls = new HlsOrigin(path.join(dir, 'hls'), '/hls/');
    filesUrl = await files.start();
    files.handler = (req, res) => {
      if (req.url === '/files/big.bin') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG.length, connection: 'keep-alive', 'keep-alive': 'timeout=5' });
        return res.end(BIG);
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`file ${req.url}`);
    };
    const liveUrl = await live.start();
    const hlsUrl = await hls.start();
    relay = await startRelay({
      relay: { headerReadTimeoutMs: 1_000 },
      tls: { enabled: true, port: 0, certificates: [pem], http2MaxConcurrentStreams: MAX_STREAMS, http2IdleTimeoutMs: 1_500 },
      flv: { viewerQueueMaxBytes: QUEUE_BOUND, slowViewerTimeoutMs: 2_000, idleCloseMs: 0 },
      nodes: [
        { id: 'f', url: filesUrl },
        { id: 'l', url: liveUrl },
        { id: 'h', url: hlsUrl },
      ],
      routes: [
        { id: 'files', path: '/files/', kind: 'file', mode: 'proxy', nodes: ['f'] },
        { id: 'r', path: '/r/', kind: 'file', mode: 'redirect', nodes: ['f'] },
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['l'] },
        { id: 'hls', path: '/hls/', kind: 'hls', mode: 'proxy', nodes: ['h'] },
      ],
    });
    tlsUrl = (await relay.api.call('GET', '/api/tls')).body.url;
    port = Number(new URL(tlsUrl).port);
  });
  after(async () => {
    for (const client of clients) client.destroy();
    await relay?.stop();
    await Promise.all([files.stop(), live.stop(), hls?.stop()]);
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('serves a redirect, a proxied file, HLS and several FLV viewers as streams of one h2 connection, with one upstream pull', async () => {
    const session = connect();
    const redirect = await h2Get(session, '/r/clip.mp4');
    assert.equal(session.alpnProtocol, 'h2');
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, `${filesUrl}/r/clip.mp4`);

    const file = await h2Get(session, '/files/big.bin');
    assert.equal(file.status, 200);
    assert.ok(file.body.equals(BIG), 'byte-identical');
    assert.equal(file.headers['keep-alive'], undefined, "the node's connection-specific headers are not passed on");

    const playlist = await h2Get(session, '/hls/cam1/index.m3u8');
    assert.equal(playlist.status, 200);
    const segmentUri = playlist.body
      .toString()
      .split('\n')
      .find((line) => line.includes('seg1.ts'));
    assert.ok(segmentUri, playlist.body.toString());
    const segment = await h2Get(session, new URL(segmentUri, `${tlsUrl}/hls/cam1/index.m3u8`).pathname + new URL(segmentUri, tlsUrl).search);
    assert.equal(segment.status, 200);
    assert.ok(segment.body.equals(SEGMENT), 'the segment, byte-identical');

    const pullsBefore = live.requests.length;
    const viewers = Array.from({ length: 4 }, (_, i) => h2FlvViewer(session, '/live/cam1.flv', `h2-fanout-${i}`));
    await waitFor(() => viewers.every((v) => v.bytes > 100_000), 10_000, 'every h2 viewer to get the stream');
    assert.deepEqual(
      viewers.map((v) => [v.status, v.head.toString('latin1')]),
      viewers.map(() => [200, 'FLV']),
    );
    assert.equal(live.requests.length - pullsBefore, 1, 'the four viewers share one upstream pull');
    const sessions = (await relay.api.call('GET', '/api/sessions')).body.filter((s: any) => String(s.userAgent).startsWith('h2-fanout-'));
    assert.equal(sessions.length, 4);
    for (const viewer of viewers) viewer.stream.close();
    await waitFor(async () => (await relay.api.call('GET', '/api/sessions')).body.length === 0, 3_000, 'the viewers to leave');
    session.close();
  });

  it('curl --http2, nghttp and h2load reach the redirect, proxy, HLS and FLV routes over h2', async () => {
    const base = `https://localhost:${port}`;
    const curl = async (urlPath: string, extra: string[] = []) => {
      const args = [
        '--http2',
        '--cacert',
        caFile,
        '--resolve',
        `localhost:${port}:127.0.0.1`,
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_version} %{http_code}',
        ...extra,
        base + urlPath,
      ];
      return (await run('curl', args).catch((error: { stdout: string }) => ({ stdout: error.stdout }))).stdout;
    };
    assert.equal(await curl('/r/clip.mp4'), '2 302');
    assert.equal(await curl('/files/big.bin'), '2 200');
    assert.equal(await curl('/hls/cam1/index.m3u8'), '2 200');
    assert.equal(await curl('/live/cam1.flv', ['--max-time', '1']), '2 200', 'the endless FLV stream, cut by curl after 1 s');

    for (const urlPath of ['/r/clip.mp4', '/files/a.txt', '/hls/cam1/index.m3u8']) {
      const { stdout } = await run('nghttp', ['-v', '-n', `https://127.0.0.1:${port}${urlPath}`]);
      assert.match(stdout, /The negotiated protocol: h2/, urlPath);
      assert.match(stdout, /:status: (200|302)/, urlPath);
    }
    const flv = await runFor('nghttp', ['-v', '-n', `https://127.0.0.1:${port}/live/cam1.flv`], 1_500);
    assert.match(flv, /The negotiated protocol: h2/);
    assert.match(flv, /:status: 200/);
    assert.match(flv, /content-type: video\/x-flv/);
    assert.doesNotMatch(flv, /^\s*connection:/m, 'no connection-specific header over h2');

    const { stdout: load } = await run('h2load', ['-n', '400', '-c', '4', '-m', '10', `https://127.0.0.1:${port}/files/a.txt`]);
    assert.match(load, /Application protocol: h2/);
    assert.match(load, /requests: 400 total, 400 started, 400 done, 400 succeeded/);
    assert.match(load, /status codes: 400 2xx/);
  });

  it('ends each h2 answer with its last frame: no empty DATA frame after the body (no trailers awaited)', async () => {
    // nghttp -v prints every frame: "recv DATA frame <length=N, flags=0x01, stream_id=13>" then "; END_STREAM".
    const framesOf = async (urlPath: string) => {
      const { stdout } = await run('nghttp', ['-v', '-n', `https://127.0.0.1:${port}${urlPath}`]);
      const frames = [...stdout.matchAll(/recv (DATA|HEADERS) frame <length=(\d+), flags=0x([0-9a-f]+), stream_id=13>/g)];
      return frames.map(([, type, length, flags]) => ({ type, length: Number(length), endStream: (parseInt(flags, 16) & 0x1) === 1 }));
    };
    // (A bodiless answer whose head is written first, a 302, still ends with an empty DATA frame, as any stream ended
    // after its HEADERS does.)
    for (const urlPath of ['/hls/cam1/index.m3u8', '/files/a.txt', '/files/big.bin', '/nowhere/x' /* the relay's own JSON error */]) {
      const frames = await framesOf(urlPath);
      assert.ok(frames.length > 0, `${urlPath}: nghttp printed no frame of stream 13`);
      const last = frames[frames.length - 1];
      assert.deepEqual({ type: last.type, endStream: last.endStream }, { type: 'DATA', endStream: true }, `${urlPath}: frames ${JSON.stringify(frames)}`);
      assert.equal(frames.filter((f) => f.type === 'DATA' && f.length === 0).length, 0, `${urlPath}: an empty DATA frame in ${JSON.stringify(frames)}`);
    }
    const answer = await h2Get(connect(), '/files/a.txt');
    assert.equal(answer.status, 200, 'answers still complete through a Node client');
    assert.ok(answer.headers.date, 'the Date header is still sent');
  });

  it('still speaks HTTP/1.1 on the same port to clients that do not ask for h2', async () => {
    const answer = await new Promise<{ status: number; version: string; alpn: unknown; body: string }>((resolve, reject) => {
      https
        .get(`${tlsUrl}/files/a.txt`, { ca: ca.ca.cert, agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, version: res.httpVersion, alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol, body }),
          );
        })
        .on('error', reject);
    });
    assert.deepEqual(answer, { status: 200, version: '1.1', alpn: false, body: 'file /files/a.txt' });
    const flv = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
      const req = https.get(
        `${tlsUrl}/live/cam1.flv`,
        { ca: ca.ca.cert, agent: false, ALPNProtocols: ['http/1.1'] } as https.RequestOptions & import('node:tls').ConnectionOptions,
        (res) => {
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
          req.destroy();
        },
      );
      req.on('error', reject);
    });
    assert.deepEqual(flv, { status: 200, connection: 'close' }, 'HTTP/1.1 FLV keeps its connection-delimited body');
  });

  it('keeps WebSocket-FLV (wss://) on the same port: an HTTP/1.1 upgrade beside the h2 connections', async () => {
    const socket = new WebSocket(`${tlsUrl.replace(/^https:/, 'wss:')}/live/cam1.flv`, { ca: ca.ca.cert });
    const first = await new Promise<Buffer>((resolve, reject) => {
      socket.once('message', (data: Buffer) => resolve(data));
      socket.once('error', reject);
    });
    assert.equal(first.subarray(0, 3).toString('latin1'), 'FLV');
    socket.close();
  });

  it('bounds a slow h2 FLV viewer by flv.viewerQueueMaxBytes and cuts it, while a viewer on another connection keeps the full rate', async () => {
    const normal = h2FlvViewer(connect(), '/live/cam1.flv', 'h2-normal');
    await waitFor(() => normal.bytes > 0, 5_000, 'the normal viewer to get the stream');
    // A raw client that never sends WINDOW_UPDATE: the relay may send it 64 KiB, then its stream's buffer is the queue.
    const stalled = await RawH2.connect(port, ca.ca.cert);
    await stalled.serverSettings();
    await stalled.write(getHeaders(1, '/live/cam1.flv', `127.0.0.1:${port}`, { 'user-agent': 'stalled-h2-player' }));
    const session = await waitFor(
      async () => (await relay.api.call('GET', '/api/sessions')).body.find((s: any) => s.userAgent === 'stalled-h2-player'),
      3_000,
      'the stalled session',
    );
    let maxQueued = 0;
    let dropped = 0;
    const normalStart = normal.bytes;
    const emittedAtStart = live.bytesEmitted;
    const started = Date.now();
    for (;;) {
      const s = (await relay.api.call('GET', '/api/sessions')).body.find((x: any) => x.id === session.id);
      if (!s || Date.now() - started > 20_000) break;
      maxQueued = Math.max(maxQueued, s.queuedBytes);
      dropped = Math.max(dropped, s.framesDropped);
      await sleep(100); // sampling interval of the queue while waiting for the cut
    }
    const logged = (await relay.api.call('GET', '/api/requests')).body.find((e: any) => e.id === session.id);
    assert.equal(logged?.errorCode, 'SLOW_VIEWER', 'cut as a slow viewer');
    assert.ok(maxQueued > 0 && maxQueued <= QUEUE_BOUND, `its queue was measured and stayed within the bound (max ${maxQueued})`);
    assert.ok(dropped > 0, 'its dropped frames were counted');
    assert.equal(stalled.closed, false, 'only its stream was cut, not its connection');
    const expected = live.bytesEmitted - emittedAtStart;
    const normalGot = normal.bytes - normalStart;
    const normalSession = (await relay.api.call('GET', '/api/sessions')).body.find((s: any) => s.userAgent === 'h2-normal');
    stalled.destroy();
    normal.stream.close();
    assert.ok(normalGot >= expected * 0.9, `the other viewer got ${normalGot} of ~${expected} bytes (${JSON.stringify(normalSession)})`);
  });

  it('refuses streams past tls.http2MaxConcurrentStreams (REFUSED_STREAM), closes a connection that exceeds the limit it acknowledged, and keeps serving', async () => {
    const greedy = (id: number) => getHeaders(id, '/live/cam1.flv', `127.0.0.1:${port}`, { 'user-agent': 'greedy-h2' });
    const openGreedy = async () => (await relay.api.call('GET', '/api/sessions')).body.filter((s: any) => s.userAgent === 'greedy-h2').length;
    // Sent with the preface, before the relay's SETTINGS is acknowledged: nghttp2 refuses the excess streams one by one.
    const raw = await RawH2.connect(port, ca.ca.cert);
    const extra = 5;
    await raw.write(Buffer.concat(Array.from({ length: MAX_STREAMS + extra }, (_, i) => greedy(1 + 2 * i))));
    await waitFor(() => raw.resets.get(NGHTTP2_REFUSED_STREAM) === extra, 3_000, `${extra} refused streams`);
    await waitFor(async () => (await openGreedy()) === MAX_STREAMS, 3_000, `${MAX_STREAMS} admitted streams`);
    assert.equal(raw.closed, false);
    // Once the limit is acknowledged, a stream past it is a protocol error: the connection closes, and its streams with it.
    await raw.write(greedy(1 + 2 * (MAX_STREAMS + extra)));
    assert.ok(await raw.waitClosed(3_000), 'the connection was closed');
    await waitFor(async () => (await openGreedy()) === 0, 1_000, 'its viewers to leave with it');
    assert.equal((await h2Get(connect(), '/files/a.txt')).status, 200, 'another viewer is served');
  });

  it('closes a rapid-reset connection (CVE-2023-44487) while serving others, with memory bounded', async (t) => {
    const bystander = connect();
    assert.equal((await h2Get(bystander, '/files/a.txt')).status, 200);
    const requestsBefore = files.requests.length;
    const rssBefore = rssMb();
    const attacks = 20;
    const rssAt: string[] = [];
    let streamsSent = 0;
    let cut = 0;
    let goaway = 0;
    for (let a = 0; a < attacks; a++) {
      const raw = await RawH2.connect(port, ca.ca.cert);
      await raw.serverSettings();
      const served = h2Get(bystander, '/files/b.txt'); // a viewer served during the flood
      for (let batch = 0; batch < 100; batch++) {
        // 100 HEADERS + RST_STREAM pairs per write, up to 10,000 streams per connection
        const pairs = Array.from({ length: 100 }, (_, i) => {
          const id = 1 + 2 * (batch * 100 + i);
          return Buffer.concat([getHeaders(id, '/files/a.txt', `127.0.0.1:${port}`), rstStream(id)]);
        });
        if (!(await raw.write(Buffer.concat(pairs)))) break;
        streamsSent += 100;
      }
      if (await raw.waitClosed(5_000)) cut += 1;
      if (raw.goawayCode === NGHTTP2_ENHANCE_YOUR_CALM) goaway += 1;
      raw.destroy();
      assert.equal((await served).status, 200);
      if ((a + 1) % 5 === 0) rssAt.push(`${a + 1}: ${rssMb().toFixed(1)} MB`);
    }
    const reachedNode = files.requests.length - requestsBefore;
    await sleep(500); // let aborted upstream requests and sessions settle
    const rssAfter = rssMb();
    t.diagnostic(
      `rapid reset: ${attacks} connections, ${streamsSent} streams written, ${cut} connections closed by the relay (${goaway} with GOAWAY ENHANCE_YOUR_CALM), ` +
        `${reachedNode} requests reached the node, RSS ${rssBefore.toFixed(1)} MB -> ${rssAfter.toFixed(1)} MB (after n connections: ${rssAt.join(', ')})`,
    );
    assert.equal(cut, attacks, 'every flooding connection was closed by the relay');
    assert.ok(goaway >= attacks - 1, `GOAWAY ENHANCE_YOUR_CALM seen ${goaway} times`);
    assert.ok(streamsSent < attacks * 10_000, `the relay stopped reading before all streams were written (${streamsSent})`);
    assert.ok(rssAfter - rssBefore < 80, `RSS grew ${(rssAfter - rssBefore).toFixed(1)} MB`);
    assert.equal((await h2Get(bystander, '/files/c.txt')).status, 200, 'the bystander connection is still served');
    await waitFor(async () => (await relay.api.call('GET', '/api/sessions')).body.length === 0, 3_000, 'no session left behind');
  });

  it('closes a connection that floods SETTINGS or PING frames, while serving others', async (t) => {
    const bystander = connect();
    const rssBefore = rssMb();
    for (const [kind, make] of [
      ['SETTINGS', () => settings([[1, 4096]])],
      ['PING', () => ping()],
    ] as const) {
      const raw = await RawH2.connect(port, ca.ca.cert);
      await raw.serverSettings();
      let sent = 0;
      for (let batch = 0; batch < 100 && !raw.closed; batch++) {
        if (!(await raw.write(Buffer.concat(Array.from({ length: 100 }, make))))) break;
        sent += 100;
        await sleep(1); // a client that keeps reading its acknowledgements: nghttp2's own queue limit never trips
      }
      const closed = await raw.waitClosed(3_000);
      t.diagnostic(`${kind} flood: ${sent} frames written before the relay closed the connection (GOAWAY code ${raw.goawayCode})`);
      assert.ok(closed, `${kind} flood: connection closed`);
      assert.equal(raw.goawayCode, NGHTTP2_ENHANCE_YOUR_CALM);
      raw.destroy();
      assert.equal((await h2Get(bystander, '/files/a.txt')).status, 200);
    }
    t.diagnostic(`floods: RSS ${rssBefore.toFixed(1)} MB -> ${rssMb().toFixed(1)} MB`);
  });

  it('closes a connection that sends no request within relay.headerReadTimeoutMs, and one idle for tls.http2IdleTimeoutMs', async () => {
    const silent = await RawH2.connect(port, ca.ca.cert);
    const started = Date.now();
    assert.ok(await silent.waitClosed(4_000), 'the silent connection was closed');
    const silentMs = Date.now() - started;
    assert.ok(silentMs >= 800 && silentMs < 3_000, `after ${silentMs} ms`);

    const session = connect();
    assert.equal((await h2Get(session, '/files/a.txt')).status, 200);
    const idleFrom = Date.now();
    await new Promise((resolve) => session.once('close', resolve));
    const idleMs = Date.now() - idleFrom;
    assert.ok(idleMs >= 1_300 && idleMs < 4_000, `idle connection closed after ${idleMs} ms`);
  });
});
