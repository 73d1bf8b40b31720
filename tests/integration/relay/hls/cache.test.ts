/**
 * The HLS cache through real sockets: concurrent requests share one node fetch (segments
 * and playlists, joining mid-body), segments are served from the cache afterwards,
 * playlists are cached for a share of their target duration, node errors only briefly,
 * LL-HLS blocking reloads pass uncached (and are still rewritten), Range is keyed.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { request, sleep, waitFor } from '../../../helpers/http.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';

const SEGMENT = Buffer.alloc(256 * 1024, 7);
SEGMENT.write('first half', 0);
SEGMENT.write('second half', SEGMENT.length / 2);
const playlist = (target: number, extra = '') => `#EXTM3U\n#EXT-X-TARGETDURATION:${target}\n${extra}#EXTINF:${target},\nseg1.ts\n`;

/** Sends the second half of seg1.ts when called (the test holds the fetch in flight until every viewer joined). */
let releaseSecondHalf: () => void = () => {};

/** The node: a playlist per target duration, a segment sent in two halves, a 404, an LL-HLS playlist. */
function node(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  if (path === '/live/seg1.ts') {
    res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': SEGMENT.length });
    res.write(SEGMENT.subarray(0, SEGMENT.length / 2));
    releaseSecondHalf = () => res.end(SEGMENT.subarray(SEGMENT.length / 2));
  } else if (path === '/live/range.ts') {
    const range = /bytes=(\d+)-(\d+)/.exec(String(req.headers.range ?? ''));
    const [from, to] = range ? [Number(range[1]), Number(range[2])] : [0, SEGMENT.length - 1];
    res.writeHead(range ? 206 : 200, { 'content-type': 'video/mp2t', 'content-length': to - from + 1 });
    res.end(SEGMENT.subarray(from, to + 1));
  } else if (/^\/live\/t(\d)\.m3u8$/.test(path)) {
    setTimeout(() => res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(playlist(Number(path[7]))), 100);
  } else if (path === '/live/ll.m3u8') {
    setTimeout(
      () =>
        res
          .writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' })
          .end(playlist(1, '#EXT-X-PART-INF:PART-TARGET=0.2\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n') + '#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p2.mp4"\n'),
      150,
    );
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing');
  }
}

describe('HLS cache and request coalescing', () => {
  let origin: TestOrigin;
  let relay: StartedRelay;
  const seen = (path: string) => origin.requests.filter((r) => r.url.split('?')[0] === path);
  before(async () => {
    origin = new TestOrigin();
    origin.handler = node;
    const url = await origin.start();
    relay = await startRelay({ hls: { errorCacheMs: 300 }, nodes: [{ id: 'n', url }], routes: [{ id: 'hls', path: '/live/', kind: 'hls', mode: 'proxy' }] });
  });
  after(async () => {
    await relay?.stop();
    await origin?.stop();
  });
  beforeEach(() => origin.requests.splice(0));

  it('100 concurrent requests for a segment make one node request; all get every byte; later ones are hits', async () => {
    const first = request(`${relay.relayUrl}/live/seg1.ts`);
    await waitFor(() => seen('/live/seg1.ts').length === 1, 5_000, 'the node fetch');
    await sleep(50); // the first half has arrived: later viewers join mid-body
    const rest = Array.from({ length: 99 }, () => request(`${relay.relayUrl}/live/seg1.ts`));
    await waitFor(() => relay.engine.sessions.size >= 100, 10_000, 'every viewer to be in flight');
    releaseSecondHalf();
    const answers = await Promise.all([first, ...rest]);
    assert.equal(seen('/live/seg1.ts').length, 1, 'one node request');
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.ok(answer.body.equals(SEGMENT));
    }
    const labels = answers.map((a) => a.headers['x-relaydeck-cache']);
    assert.equal(labels.filter((l) => l === 'MISS').length, 1);
    assert.equal(labels.filter((l) => l === 'SHARED').length, 99);
    const again = await request(`${relay.relayUrl}/live/seg1.ts`);
    assert.equal(again.headers['x-relaydeck-cache'], 'HIT');
    assert.equal(Number(again.headers['content-length']), SEGMENT.length);
    assert.equal(seen('/live/seg1.ts').length, 1);
  });

  it('concurrent playlist requests share one fetch; the playlist is cached for half its target duration', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => request(`${relay.relayUrl}/live/t2.m3u8`)));
    assert.ok(answers.every((a) => a.status === 200 && a.body.toString().includes('/live/seg1.ts?_rdh=')));
    assert.equal(seen('/live/t2.m3u8').length, 1);
    await sleep(400); // kept: the time to live is the behaviour under test (still cached at 0.4 s of 1 s)
    assert.equal((await request(`${relay.relayUrl}/live/t2.m3u8`)).headers['x-relaydeck-cache'], 'HIT');
    await sleep(700); // 1.1 s after the fetch: 50 % of 2 s has passed
    assert.equal((await request(`${relay.relayUrl}/live/t2.m3u8`)).headers['x-relaydeck-cache'], 'MISS');
    assert.equal(seen('/live/t2.m3u8').length, 2);
  });

  it('LL-HLS blocking reloads (_HLS_msn/_HLS_part) pass uncached, one node request each, still rewritten', async () => {
    const url = `${relay.relayUrl}/live/ll.m3u8?_HLS_msn=10&_HLS_part=1&_rdh=abc.n`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => request(url)));
    assert.equal(seen('/live/ll.m3u8').length, 5);
    for (const answer of answers) {
      assert.equal(answer.headers['x-relaydeck-cache'], 'BYPASS');
      assert.match(answer.body.toString(), /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="\/live\/p2\.mp4\?_rdh=[\w-]+\.n"/);
    }
    assert.equal(seen('/live/ll.m3u8')[0].url, '/live/ll.m3u8?_HLS_msn=10&_HLS_part=1', 'the node gets the LL-HLS parameters, not the relay hint');
    // The same playlist without blocking parameters is cached for half its part target.
    await request(`${relay.relayUrl}/live/ll.m3u8`);
    assert.equal((await request(`${relay.relayUrl}/live/ll.m3u8`)).headers['x-relaydeck-cache'], 'HIT');
  });

  it("node errors are cached only briefly (hls.errorCacheMs) and passed through as the node's answer", async () => {
    const a = await request(`${relay.relayUrl}/live/missing.ts`);
    const b = await request(`${relay.relayUrl}/live/missing.ts`);
    assert.equal(a.status, 404);
    assert.equal(b.body.toString(), 'no such thing');
    assert.equal(b.headers['x-relaydeck-cache'], 'HIT');
    assert.equal(seen('/live/missing.ts').length, 1);
    await sleep(350); // kept: the error's time to live (hls.errorCacheMs) must pass
    await request(`${relay.relayUrl}/live/missing.ts`);
    assert.equal(seen('/live/missing.ts').length, 2, 'asked again after the error expired');
  });

  it('Range requests are keyed by their range and passed on', async () => {
    const one = await request(`${relay.relayUrl}/live/range.ts`, { headers: { range: 'bytes=0-9' } });
    const two = await request(`${relay.relayUrl}/live/range.ts`, { headers: { range: 'bytes=10-19' } });
    const oneAgain = await request(`${relay.relayUrl}/live/range.ts`, { headers: { range: 'bytes=0-9' } });
    assert.equal(one.status, 206);
    assert.ok(one.body.equals(SEGMENT.subarray(0, 10)) && two.body.equals(SEGMENT.subarray(10, 20)) && oneAgain.body.equals(one.body));
    assert.equal(oneAgain.headers['x-relaydeck-cache'], 'HIT');
    assert.equal(seen('/live/range.ts').length, 2);
  });

  it('HEAD is answered from the same cache entry, without a body', async () => {
    const head = await request(`${relay.relayUrl}/live/seg1.ts`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(Number(head.headers['content-length']), SEGMENT.length);
  });

  it('the stream stats count coalesced requests and hits as node requests saved', async () => {
    await Promise.all(Array.from({ length: 10 }, () => request(`${relay.relayUrl}/live/t3.m3u8`)));
    const { body } = await relay.api.call('GET', '/api/hls/streams');
    const stream = body.find((s: { streamKey: string }) => s.streamKey === 'live/t3');
    assert.equal(stream.requests, 10);
    assert.equal(stream.upstreamRequests, 1);
    assert.equal(stream.coalesced, 9);
    assert.equal(stream.upstreamRequestsSaved, 9);
    assert.equal(stream.hitRatio, 0.9);
    assert.equal(stream.viewers, 1, 'one client address and user agent');
  });
});
