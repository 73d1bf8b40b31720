/**
 * Per-viewer pacing (routes[].limits.viewerBytesPerSecond) through real sockets, for both
 * proxy engines, over HTTP/1.1 and HTTP/2: a paced file takes at least as long as its rate
 * says and arrives byte for byte, counted exactly; an unlimited route and a live FLV route are
 * not paced; a pacing wait longer than relay.idleStreamTimeoutMs is neither the node's silence
 * nor a stalled viewer; a paced viewer who leaves cuts its upstream request at once; HLS
 * segments are paced per viewer, from the cache too.
 *
 * Elapsed times are the behaviour under test: each paced answer is checked against the least
 * time its rate allows (a token bucket starts with one second of bytes, so N bytes at R bytes a
 * second take at least (N - R) / R seconds). Only the two-viewer test bounds a time from
 * above, below what one rate shared by both viewers would take.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { h2Get, waitFor } from '../../helpers/http.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { TestCa, writePem } from '../../helpers/test-ca.js';

const FILE_RATE = 500_000;
const TRICKLE_RATE = 40_000;
const SEGMENT_RATE = 200_000;
const IDLE_MS = 300;
const BIG = randomBytes(2 * 1_048_576);
const TRICKLE = randomBytes(120_000);
const SEGMENT = randomBytes(600_000);
const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\nseg1.ts\n#EXTINF:2,\nseg2.ts\n';

/** The least time `bytes` take at `rate` through a bucket that starts with one second of bytes, ms. */
const leastMs = (bytes: number, rate: number) => ((bytes - rate) * 1_000) / rate;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Timed {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  ms: number;
}

/** GET over HTTP/1.1 (a connection of its own), timed from the request to the last byte. */
function get(url: string): Promise<Timed> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** GET as one stream of an HTTP/2 session (the helpers' h2Get), timed the same way. */
async function h2GetTimed(session: http2.ClientHttp2Session, urlPath: string): Promise<Timed> {
  const started = performance.now();
  const answer = await h2Get(session, urlPath);
  return { ...answer, ms: performance.now() - started };
}

/** The node: files, an HLS playlist and its segments, by the last part of the path. */
function node(req: http.IncomingMessage, res: http.ServerResponse): void {
  const name = (req.url ?? '').split('?')[0].split('/').at(-1) ?? '';
  const send = (type: string, body: Buffer | string) => res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
  if (name === 'big.bin') send('application/octet-stream', BIG);
  else if (name === 'big.flv') send('video/x-flv', BIG);
  else if (name === 'trickle.bin') send('application/octet-stream', TRICKLE);
  else if (name === 'index.m3u8') send('application/vnd.apple.mpegurl', PLAYLIST);
  else if (/^seg\d\.ts$/.test(name)) send('video/mp2t', SEGMENT);
  else res.writeHead(404).end();
}

for (const proxyEngine of ['native', 'http-proxy-3'] as const) {
  describe(`per-viewer pacing (${proxyEngine} engine)`, () => {
    const origin = new TestOrigin();
    let relay: StartedRelay;
    let dir: string;
    let ca: TestCa;
    let tlsUrl: string;

    before(async () => {
      origin.handler = node;
      const url = await origin.start();
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-pacing-'));
      ca = await TestCa.create();
      const pem = await writePem(dir, 'localhost', await ca.issue(['localhost']));
      relay = await startRelay({
        relay: { proxyEngine, idleStreamTimeoutMs: IDLE_MS },
        tls: { enabled: true, port: 0, certificates: [pem] },
        nodes: [{ id: 'n', url }],
        routes: [
          { id: 'paced', path: '/paced/', kind: 'file', mode: 'proxy', limits: { viewerBytesPerSecond: FILE_RATE } },
          { id: 'open', path: '/open/', kind: 'file', mode: 'proxy' },
          { id: 'trickle', path: '/trickle/', kind: 'file', mode: 'proxy', limits: { viewerBytesPerSecond: TRICKLE_RATE } },
          { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', fanout: false, limits: { viewerBytesPerSecond: FILE_RATE } },
          { id: 'tv', path: '/tv/', kind: 'hls', mode: 'proxy', limits: { viewerBytesPerSecond: SEGMENT_RATE } },
        ],
      });
      tlsUrl = (await relay.api.call('GET', '/api/tls')).body.url;
    });
    after(async () => {
      await relay?.stop();
      await origin.stop();
      await fs.rm(dir, { recursive: true, force: true });
    });

    /** The request-log record of the last finished request on `urlPath`. */
    const lastRecord = async (urlPath: string) => {
      await waitFor(() => relay.engine.sessions.size === 0, 5_000, 'the request to close');
      return relay.engine.sessions
        .recent()
        .filter((r) => r.path === urlPath)
        .at(-1);
    };

    /** Nothing was blamed on the node or on a stalled viewer. */
    const assertNoBlame = (routeId: string) => {
      const state = relay.engine.nodes.get('n');
      assert.equal(state?.status, 'up');
      assert.deepEqual(state?.passiveFailures, [], 'no passive failure recorded against the node');
      const errors = relay.engine.stats.route(routeId).errors;
      for (const code of ['CLIENT_STALLED', 'IDLE_TIMEOUT']) assert.equal(errors[code], undefined, `${routeId}: ${code} counted`);
    };

    it(`sends a 2 MB file at most ${FILE_RATE} bytes a second: at least ~3 s, every byte intact and counted`, async () => {
      const before = relay.engine.stats.route('paced').bytesOut;
      const answer = await get(`${relay.relayUrl}/paced/big.bin`);
      assert.equal(answer.status, 200);
      assert.equal(sha256(answer.body), sha256(BIG), 'byte-identical');
      assert.ok(
        answer.ms >= leastMs(BIG.length, FILE_RATE),
        `took ${Math.round(answer.ms)} ms, at least ${Math.round(leastMs(BIG.length, FILE_RATE))} expected`,
      );
      const record = await lastRecord('/paced/big.bin');
      assert.equal(record?.status, 200);
      assert.equal(record?.errorCode, undefined);
      assert.equal(record?.bytesOut, BIG.length, 'the session counted every byte once');
      assert.equal(relay.engine.stats.route('paced').bytesOut - before, BIG.length, 'so did the route');
      assertNoBlame('paced');
    });

    it('does not slow an unlimited route, nor a live FLV route that has a limit', async () => {
      for (const urlPath of ['/open/big.bin', '/live/big.flv']) {
        const answer = await get(`${relay.relayUrl}${urlPath}`);
        assert.equal(answer.status, 200);
        assert.equal(sha256(answer.body), sha256(BIG));
        // Paced at FILE_RATE these 2 MB would take over 3 s.
        assert.ok(answer.ms < leastMs(BIG.length, FILE_RATE) / 2, `${urlPath} took ${Math.round(answer.ms)} ms`);
      }
    });

    it('a pacing wait longer than relay.idleStreamTimeoutMs is not the node going silent nor the viewer stalling', async () => {
      // Each wait for a slice (16 KiB at 40,000 B/s: 410 ms) is longer than the 300 ms idle clock.
      const answer = await get(`${relay.relayUrl}/trickle/trickle.bin`);
      assert.equal(answer.status, 200);
      assert.equal(sha256(answer.body), sha256(TRICKLE));
      assert.ok(answer.ms >= leastMs(TRICKLE.length, TRICKLE_RATE), `took ${Math.round(answer.ms)} ms`);
      const record = await lastRecord('/trickle/trickle.bin');
      assert.equal(record?.errorCode, undefined);
      assert.equal(record?.bytesOut, TRICKLE.length);
      assertNoBlame('trickle');
    });

    it('a paced viewer who leaves mid-file ends its session at once (CLIENT_CLOSED) and its upstream request is cut', async () => {
      let upstream: net.Socket | undefined;
      origin.handler = (req, res) => {
        upstream = req.socket;
        node(req, res);
      };
      try {
        const req = http.get(`${relay.relayUrl}/paced/big.bin`, { agent: false });
        req.on('error', () => {});
        const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve));
        await new Promise((resolve) => res.once('data', resolve));
        assert.equal(relay.engine.sessions.size, 1);
        assert.ok(upstream && !upstream.destroyed);
        const upstreamClosed = new Promise((resolve) => upstream!.once('close', resolve));
        req.destroy();
        const record = await lastRecord('/paced/big.bin');
        assert.equal(record?.errorCode, 'CLIENT_CLOSED');
        assert.ok((record?.bytesOut ?? 0) < BIG.length);
        await upstreamClosed;
        assertNoBlame('paced');
      } finally {
        origin.handler = node;
      }
    });

    it('paces a file the same over HTTP/2, and leaves an unlimited one alone', async () => {
      const session = http2.connect(tlsUrl, { ca: ca.ca.cert });
      session.on('error', () => {});
      try {
        const open = await h2GetTimed(session, '/open/big.bin');
        assert.equal(open.status, 200);
        assert.equal(sha256(open.body), sha256(BIG));
        assert.ok(open.ms < leastMs(BIG.length, FILE_RATE) / 2, `/open/big.bin took ${Math.round(open.ms)} ms`);
        const answer = await h2GetTimed(session, '/paced/big.bin');
        assert.equal(session.alpnProtocol, 'h2');
        assert.equal(answer.status, 200);
        assert.equal(sha256(answer.body), sha256(BIG));
        assert.ok(answer.ms >= leastMs(BIG.length, FILE_RATE), `took ${Math.round(answer.ms)} ms`);
        const record = await lastRecord('/paced/big.bin');
        assert.equal(record?.bytesOut, BIG.length);
        assertNoBlame('paced');
      } finally {
        session.close();
      }
    });

    if (proxyEngine !== 'native') return; // HLS does not go through the proxy engines: once is enough.

    it(`paces an HLS segment per viewer at ${SEGMENT_RATE} bytes a second`, async () => {
      const playlist = await get(`${relay.relayUrl}/tv/cam/index.m3u8`);
      assert.equal(playlist.status, 200);
      const uri = playlist.body
        .toString()
        .split('\n')
        .find((line) => line.includes('seg1.ts'));
      assert.ok(uri, playlist.body.toString());
      const answer = await get(new URL(uri, `${relay.relayUrl}/tv/cam/index.m3u8`).href);
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['x-relaydeck-cache'], 'MISS');
      assert.equal(sha256(answer.body), sha256(SEGMENT));
      assert.ok(answer.ms >= leastMs(SEGMENT.length, SEGMENT_RATE), `took ${Math.round(answer.ms)} ms`);
      const record = await lastRecord(new URL(uri, relay.relayUrl).pathname);
      assert.equal(record?.errorCode, undefined);
      assert.equal(record?.bytesOut, SEGMENT.length);
      assertNoBlame('tv');
    });

    it('two viewers of one cached segment each get the full rate, over HTTP/1.1 and HTTP/2', async () => {
      const url = `${relay.relayUrl}/tv/cam/seg2.ts`;
      await get(url); // now cached
      const session = http2.connect(tlsUrl, { ca: ca.ca.cert });
      session.on('error', () => {});
      try {
        const answers = await Promise.all([get(url), h2GetTimed(session, '/tv/cam/seg2.ts')]);
        for (const answer of answers) {
          assert.equal(answer.status, 200);
          assert.equal(answer.headers['x-relaydeck-cache'], 'HIT');
          assert.equal(sha256(answer.body), sha256(SEGMENT));
          assert.ok(answer.ms >= leastMs(SEGMENT.length, SEGMENT_RATE), `took ${Math.round(answer.ms)} ms`);
          // One rate shared by both would need (2 x 600,000 - 200,000) / 200,000 = 5 s.
          assert.ok(answer.ms < leastMs(2 * SEGMENT.length, SEGMENT_RATE) * 0.8, `took ${Math.round(answer.ms)} ms: the viewers shared one rate`);
        }
        assertNoBlame('tv');
      } finally {
        session.close();
      }
    });
  });
}
