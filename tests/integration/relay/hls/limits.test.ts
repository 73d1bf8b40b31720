/**
 * Bounded memory with hostile or broken nodes: a huge (endless) playlist is cut off at
 * hls.playlistMaxBytes and answered 502 HLS_PLAYLIST_TOO_LARGE, a malformed one 502
 * HLS_BAD_PLAYLIST naming the line; the segment cache never exceeds its byte bound; an
 * object over hls.segmentMaxBytes streams through uncached, and a viewer that stops
 * reading it pauses the node instead of filling the relay's memory.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { portOf, request, waitFor, waitUntilSteady } from '../../../helpers/http.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';

const MIB = 1_048_576;
const PLAYLIST_MAX = 256 * 1024;
const SEGMENT_MAX = 256 * 1024;
const CACHE_MAX = 1 * MIB;
const LINES = Buffer.from('#EXTINF:1.0,\nseg_00001.ts\n'.repeat(2_000));

/** Bytes written per request path by the node (the huge answers count what they managed to send). */
const sent = new Map<string, number>();

/** Write `chunk` over and over (honouring backpressure) until `total` bytes or the client leaves. */
function pour(res: ServerResponse, key: string, first: Buffer, chunk: Buffer, total = Infinity): void {
  let written = 0;
  const write = () => {
    while (written < total && !res.destroyed) {
      const piece = written === 0 ? first : chunk;
      written += piece.length;
      sent.set(key, (sent.get(key) ?? 0) + piece.length);
      if (!res.write(piece)) return void res.once('drain', write);
    }
    if (!res.destroyed) res.end();
  };
  write();
}

function node(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  const m3u8 = { 'content-type': 'application/vnd.apple.mpegurl' };
  if (path.startsWith('/live/huge')) {
    res.writeHead(200, m3u8);
    pour(res, path, Buffer.from('#EXTM3U\n#EXT-X-TARGETDURATION:1\n'), LINES);
  } else if (path === '/live/declared.m3u8') {
    res.writeHead(200, { ...m3u8, 'content-length': 100 * MIB });
    pour(res, path, LINES, LINES);
  } else if (path === '/live/binary.m3u8') {
    res.writeHead(200, m3u8).end(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]));
  } else if (path === '/live/html.m3u8') {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Welcome to nginx!</body></html>');
  } else if (path === '/live/quote.m3u8') {
    res.writeHead(200, m3u8).end('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI="init.mp4\n#EXTINF:1,\na.ts\n');
  } else if (path.startsWith('/live/seg')) {
    const body = Buffer.alloc(100 * 1024, path.length);
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': body.length }).end(body);
  } else if (path === '/live/big.ts') {
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': 4 * MIB });
    pour(res, path, Buffer.alloc(64 * 1024, 1), Buffer.alloc(64 * 1024, 1), 4 * MIB);
  } else if (path === '/live/endless.ts') {
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    pour(res, path, Buffer.alloc(64 * 1024, 2), Buffer.alloc(64 * 1024, 2), 40 * MIB);
  } else {
    res.writeHead(404).end();
  }
}

describe('HLS limits: huge and malformed playlists, bounded caches', () => {
  let origin: TestOrigin;
  let relay: StartedRelay;
  before(async () => {
    origin = new TestOrigin();
    origin.handler = node;
    const url = await origin.start();
    relay = await startRelay({
      hls: { playlistMaxBytes: PLAYLIST_MAX, segmentMaxBytes: SEGMENT_MAX, segmentCacheMaxBytes: CACHE_MAX },
      nodes: [{ id: 'n', url }],
      routes: [{ id: 'hls', path: '/live/', kind: 'hls', mode: 'proxy' }],
    });
  });
  after(async () => {
    await relay?.stop();
    await origin?.stop();
  });

  it('an endless playlist: 502 HLS_PLAYLIST_TOO_LARGE at once, the node connection cut, memory flat over many requests', async () => {
    const rssBefore = process.memoryUsage().rss;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 20);
    const started = Date.now();
    try {
      for (let round = 0; round < 5; round += 1) {
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(`${relay.relayUrl}/live/huge${i % 10}.m3u8?round=${round}`)));
        for (const answer of answers) {
          assert.equal(answer.status, 502);
          const { error } = JSON.parse(answer.body.toString());
          assert.equal(error.code, 'HLS_PLAYLIST_TOO_LARGE');
          assert.match(error.message, /hls\.playlistMaxBytes \(262144 bytes\)/);
        }
      }
    } finally {
      clearInterval(sampler);
    }
    assert.ok(Date.now() - started < 10_000, 'answered without reading the endless bodies');
    for (let i = 0; i < 10; i += 1)
      assert.ok((sent.get(`/live/huge${i}.m3u8`) ?? 0) < 5 * 6 * MIB, 'the node stopped being read (what it sent sat in socket buffers)');
    await origin.waitAllClosed(5_000).catch(() => undefined);
    assert.ok(rssPeak - rssBefore < 96 * MIB, `RSS grew ${((rssPeak - rssBefore) / MIB).toFixed(1)} MiB`);
    const { body: cache } = await relay.api.call('GET', '/api/hls/cache');
    assert.equal(cache.inflight, 0);
    assert.ok(cache.playlistBytes < 64 * 1024, 'only the brief error entries are kept');
  });

  it('a content-length over the limit is refused before reading the body', async () => {
    const answer = await request(`${relay.relayUrl}/live/declared.m3u8`);
    assert.equal(answer.status, 502);
    assert.match(JSON.parse(answer.body.toString()).error.message, /content-length is 104857600/);
  });

  it('malformed playlists: 502 HLS_BAD_PLAYLIST with what and where', async () => {
    const cases: [string, RegExp][] = [
      ['/live/binary.m3u8', /not UTF-8/],
      ['/live/html.m3u8', /line 1: not an HLS playlist/],
      ['/live/quote.m3u8', /line 3: EXT-X-MAP: attribute URI has an unterminated quoted string/],
    ];
    for (const [path, message] of cases) {
      const answer = await request(relay.relayUrl + path);
      assert.equal(answer.status, 502, path);
      assert.equal(answer.headers['content-type'], 'application/json; charset=utf-8');
      const { error } = JSON.parse(answer.body.toString());
      assert.equal(error.code, 'HLS_BAD_PLAYLIST');
      assert.match(error.message, message);
    }
    const { body: stats } = await relay.api.call('GET', '/api/stats');
    assert.ok(stats.routes.hls.errors.HLS_BAD_PLAYLIST >= 3);
  });

  it('the segment cache stays within hls.segmentCacheMaxBytes however many segments pass', async () => {
    let peak = 0;
    for (let i = 0; i < 40; i += 1) {
      const answer = await request(`${relay.relayUrl}/live/seg${i}.ts`);
      assert.equal(answer.body.length, 100 * 1024);
      const { body: cache } = await relay.api.call('GET', '/api/hls/cache');
      peak = Math.max(peak, cache.segmentBytes);
      assert.ok(cache.segmentBytes <= CACHE_MAX, `${cache.segmentBytes} > ${CACHE_MAX}`);
    }
    const { body: cache } = await relay.api.call('GET', '/api/hls/cache');
    assert.ok(peak > CACHE_MAX / 2 && cache.evictions > 0, `peak ${peak}, evictions ${cache.evictions}`);
  });

  it('an object over hls.segmentMaxBytes streams through whole, uncached', async () => {
    const one = await request(`${relay.relayUrl}/live/big.ts`);
    assert.equal(one.body.length, 4 * MIB);
    assert.equal(Number(one.headers['content-length']), 4 * MIB);
    const two = await request(`${relay.relayUrl}/live/big.ts`);
    assert.equal(two.headers['x-relaydeck-cache'], 'MISS', 'not cached');
    assert.equal(origin.requests.filter((r) => r.url === '/live/big.ts').length, 2);
  });

  it('a viewer that stops reading an uncacheable object pauses the node: the relay holds about segmentMaxBytes, not the object', async () => {
    const socket = net.connect(portOf(relay.relayUrl), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /live/endless.ts HTTP/1.1\r\nHost: relay\r\n\r\n');
    await waitFor(() => (sent.get('/live/endless.ts') ?? 0) > 0, 5_000, 'the node to start sending');
    socket.pause();
    // The node has stopped sending once its count is unchanged for 500 ms (the socket buffers fill first).
    const last = await waitUntilSteady(() => sent.get('/live/endless.ts') ?? 0, 500, 15_000, 'the node to be paused');
    socket.destroy();
    // Socket buffers on loopback (node → relay, relay → viewer) hold a few MiB; the object is 40 MiB.
    assert.ok(last < 16 * MIB, `the node sent ${(last / MIB).toFixed(1)} MiB to a relay whose viewer reads nothing`);
    await waitFor(async () => (await relay.api.call('GET', '/api/hls/cache')).body.inflight === 0, 5_000, 'the fetch to end after the viewer left');
  });
});
