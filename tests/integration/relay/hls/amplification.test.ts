/**
 * HLS playlist amplification (issue 11, point 3): distinct viewer query strings must not
 * multiply node fetches and parses. One playlist fetch per playlist version and one fetch
 * per segment, whatever viewers add; a node's own segment query still reaches the node
 * (vouched for by the hint's MAC) while viewers cannot invent or alter node queries; the
 * route's streamParams do select distinct node fetches; and the playlist work in flight is
 * bounded: over it the viewer gets 503 HLS_BUSY and the node is not blamed.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { request, waitFor } from '../../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { HlsOrigin, tempDir } from '../../../helpers/hls-origin.js';

const PLAYLIST_V1 = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\nseg1.ts\n#EXTINF:2,\nseg2.ts?t=abc\n';
const PLAYLIST_V2 = `${PLAYLIST_V1}#EXTINF:2,\nseg3.ts\n`;
const BURST = 20;

/** Requests to paths matching `match` wait until released, then get their file. */
function holdOrigin(origin: HlsOrigin, dir: string, match: RegExp): () => void {
  const held: [IncomingMessage, ServerResponse][] = [];
  let holding = true;
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const file = path.join(dir, (req.url ?? '/').split('?')[0].slice('/live/'.length));
    fs.readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl', 'content-length': body.length }).end(body),
      () => res.writeHead(404).end(),
    );
  };
  origin.override = (req, res) => {
    if (!match.test((req.url ?? '').split('?')[0])) return false;
    if (holding) held.push([req, res]);
    else answer(req, res);
    return true;
  };
  return () => {
    holding = false;
    for (const [req, res] of held.splice(0)) answer(req, res);
    origin.override = undefined;
  };
}

/** Requests the relay's HLS cache has answered so far (hits, joins, fetches, bypasses). */
async function cacheRequests(relay: StartedRelay): Promise<number> {
  const { body } = await relay.api.call('GET', '/api/hls/cache');
  return body.hits + body.shared + body.misses + body.bypassed;
}

/** Fire `urls` at once while the node holds the playlist, release it once the relay has every request. */
async function burst(relay: StartedRelay, origin: HlsOrigin, dir: string, urls: string[]) {
  const before = await cacheRequests(relay);
  const release = holdOrigin(origin, dir, /index\.m3u8$/);
  const answers = Promise.all(urls.map((url) => request(url)));
  await waitFor(async () => (await cacheRequests(relay)) - before >= urls.length, 10_000, 'the relay to take every request');
  release();
  return answers;
}

const relayUris = (body: Buffer) =>
  body
    .toString()
    .split('\n')
    .filter((line) => line.startsWith('/'));
const nodeUrls = (origin: HlsOrigin, match: RegExp) => origin.urls.filter((url) => match.test(url.split('?')[0]));

describe('HLS: distinct viewer queries share one node fetch', () => {
  let dir: string;
  let origin: HlsOrigin;
  let relay: StartedRelay;
  before(async () => {
    dir = await tempDir('rd-amp-');
    await fs.mkdir(path.join(dir, 'cam1'));
    await fs.writeFile(path.join(dir, 'cam1', 'index.m3u8'), PLAYLIST_V1);
    for (const name of ['seg1.ts', 'seg2.ts', 'seg3.ts']) await fs.writeFile(path.join(dir, 'cam1', name), Buffer.alloc(1_000, name));
    origin = new HlsOrigin(dir);
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'n1', url }],
      routes: [
        { id: 'live', path: '/live/', kind: 'hls', mode: 'proxy' },
        { id: 'sp', path: '/sp/', kind: 'hls', mode: 'proxy', stripPrefix: true, streamParams: ['cam'] },
      ],
      // Live playlists uncached: only the sharing of fetches in flight is under test.
      hls: { playlistCachePercent: 0 },
    });
  });
  after(async () => {
    await relay?.stop();
    await origin?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it(`${BURST} distinct ?b= on one playlist: one node fetch per playlist version, no viewer query at the node`, async () => {
    const v1 = await burst(
      relay,
      origin,
      dir,
      Array.from({ length: BURST }, (_, i) => `${relay.relayUrl}/live/cam1/index.m3u8?b=${i}`),
    );
    assert.ok(
      v1.every((a) => a.status === 200 && a.body.equals(v1[0].body)),
      'every viewer gets the same playlist',
    );
    assert.equal(origin.count(/\/cam1\/index\.m3u8$/), 1, 'one fetch for version 1');
    await fs.writeFile(path.join(dir, 'cam1', 'index.m3u8'), PLAYLIST_V2);
    const v2 = await burst(
      relay,
      origin,
      dir,
      Array.from({ length: BURST }, (_, i) => `${relay.relayUrl}/live/cam1/index.m3u8?b=x${i}&c=${i}`),
    );
    assert.ok(v2.every((a) => a.status === 200 && a.body.toString().includes('/live/cam1/seg3.ts?')));
    assert.equal(origin.count(/\/cam1\/index\.m3u8$/), 2, 'one fetch for version 2');
    assert.deepEqual(nodeUrls(origin, /index\.m3u8$/), ['/live/cam1/index.m3u8', '/live/cam1/index.m3u8'], 'no viewer query reached the node');
  });

  it('a segment is fetched once whatever query a viewer adds, with or without the hint', async () => {
    const playlist = await request(`${relay.relayUrl}/live/cam1/index.m3u8`);
    const seg1 = relayUris(playlist.body).find((uri) => uri.startsWith('/live/cam1/seg1.ts?'))!;
    const urls = [seg1, ...Array.from({ length: 5 }, (_, i) => `${seg1}&b=${i}`), ...Array.from({ length: 5 }, (_, i) => `/live/cam1/seg1.ts?b=${i}`)];
    for (const url of urls) assert.equal((await request(relay.relayUrl + url)).status, 200, url);
    assert.deepEqual(nodeUrls(origin, /seg1\.ts$/), ['/live/cam1/seg1.ts']);
  });

  it("the node's own segment query survives the rewrite and reaches the node", async () => {
    const playlist = await request(`${relay.relayUrl}/live/cam1/index.m3u8?b=1`);
    const seg2 = relayUris(playlist.body).find((uri) => uri.startsWith('/live/cam1/seg2.ts?'))!;
    assert.match(seg2, /^\/live\/cam1\/seg2\.ts\?t=abc&_rdh=[\w-]+\.n1~[\w-]{16}$/);
    assert.equal((await request(relay.relayUrl + seg2)).status, 200);
    assert.deepEqual(nodeUrls(origin, /seg2\.ts$/), ['/live/cam1/seg2.ts?t=abc']);
  });

  it('a forged or altered hint query is not forwarded: viewers cannot invent node queries', async () => {
    const playlist = await request(`${relay.relayUrl}/live/cam1/index.m3u8`);
    const seg2 = relayUris(playlist.body).find((uri) => uri.startsWith('/live/cam1/seg2.ts?'))!;
    const pinned = seg2.slice(seg2.indexOf('_rdh=') + 5).split('~')[0]; // stream and node, without the MAC
    const tries = [
      seg2.replace('t=abc', 't=evil'), // altered node piece, genuine MAC
      `${seg2}&evil=1`, // a piece added to a vouched URI
      `/live/cam1/seg2.ts?t=evil2&_rdh=${pinned}~AAAAAAAAAAAAAAAA`, // forged MAC
      `/live/cam1/seg2.ts?t=evil3&_rdh=${pinned}`, // no MAC
      '/live/cam1/seg2.ts?evil=4', // no hint at all
    ];
    for (const url of tries) await request(relay.relayUrl + url);
    assert.ok(!origin.urls.some((url) => url.includes('evil')), `the node saw only: ${nodeUrls(origin, /seg2\.ts$/).join(', ')}`);
    // The node's query of one URI moved onto another (a segment token onto the playlist) is not vouched for there.
    await request(relay.relayUrl + seg2.replace('seg2.ts', 'index.m3u8'));
    assert.ok(!origin.urls.some((url) => url.startsWith('/live/cam1/index.m3u8?')), 'no playlist fetch with a query');
  });

  it('a large playlist (rewritten in slices) is fetched once for a burst; every viewer gets the same full copy', async () => {
    let text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n';
    for (let i = 1; i <= 10_000; i += 1) text += `#EXTINF:2,\nseg_${String(i).padStart(6, '0')}.ts?t=tok${i % 3}\n`;
    assert.ok(text.length > 300_000);
    await fs.mkdir(path.join(dir, 'cam2'));
    await fs.writeFile(path.join(dir, 'cam2', 'index.m3u8'), text);
    const answers = await burst(
      relay,
      origin,
      dir,
      Array.from({ length: 10 }, (_, i) => `${relay.relayUrl}/live/cam2/index.m3u8?b=${i}`),
    );
    assert.ok(answers.every((a) => a.status === 200 && a.body.equals(answers[0].body)));
    assert.equal(origin.count(/\/cam2\/index\.m3u8$/), 1);
    const uris = relayUris(answers[0].body);
    assert.equal(uris.length, 10_000);
    assert.match(uris[9_999], /^\/live\/cam2\/seg_010000\.ts\?t=tok1&_rdh=[\w-]+\.n1~[\w-]{16}$/);
    await fs.writeFile(path.join(dir, 'cam2', 'seg_010000.ts'), 'x');
    assert.equal((await request(relay.relayUrl + uris[9_999])).status, 200);
    assert.deepEqual(nodeUrls(origin, /seg_010000\.ts$/), ['/live/cam2/seg_010000.ts?t=tok1']);
  });

  it('a large malformed playlist is answered 502 HLS_BAD_PLAYLIST naming the line', async () => {
    let text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n';
    for (let i = 1; i <= 10_000; i += 1) text += `#EXTINF:2,\nseg_${i}.ts\n`;
    await fs.mkdir(path.join(dir, 'cam3'));
    await fs.writeFile(path.join(dir, 'cam3', 'index.m3u8'), `${text}#EXTINF:soon,\nlast.ts\n`);
    const answer = await request(`${relay.relayUrl}/live/cam3/index.m3u8`);
    assert.equal(answer.status, 502);
    const { error } = JSON.parse(answer.body.toString());
    assert.equal(error.code, 'HLS_BAD_PLAYLIST');
    assert.match(error.message, /line 20003: EXTINF duration is not a number/);
  });

  it('streamParams pieces select distinct node fetches; other pieces are still dropped', async () => {
    const urls = ['cam=1&b=1', 'cam=2&b=2', 'b=3&cam=1', 'cam=2&b=4&z=9'].map((q) => `${relay.relayUrl}/sp/live/cam1/index.m3u8?${q}`);
    const answers = await burst(relay, origin, dir, urls);
    assert.ok(answers.every((a) => a.status === 200));
    assert.deepEqual(
      nodeUrls(origin, /index\.m3u8$/)
        .filter((url) => url.includes('cam='))
        .sort(),
      ['/live/cam1/index.m3u8?cam=1', '/live/cam1/index.m3u8?cam=2'],
    );
  });
});

describe('HLS: the playlist work in flight is bounded', () => {
  let dir: string;
  let origin: HlsOrigin;
  let relay: StartedRelay;
  const held: ServerResponse[] = [];
  const PAD = `${'# pad\n'.repeat(600)}`; // 3600 bytes of comment lines
  before(async () => {
    dir = await tempDir('rd-amp-work-');
    await fs.mkdir(path.join(dir, 'cam1'));
    await fs.writeFile(path.join(dir, 'cam1', 'index.m3u8'), PLAYLIST_V1);
    origin = new HlsOrigin(dir);
    // "slow" playlists answer only when the test lets them; "big" ones send 3600 bytes, then wait.
    origin.override = (req, res) => {
      const url = req.url ?? '';
      if (url.includes('/slow')) {
        held.push(res);
        return true;
      }
      if (url.includes('/big')) {
        res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' });
        res.write(`#EXTM3U\n#EXT-X-TARGETDURATION:2\n${PAD}`);
        held.push(res);
        return true;
      }
      return false;
    };
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'n1', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'hls', mode: 'proxy' }],
      hls: { playlistWorkMaxCount: 2, playlistMaxBytes: 4_096, playlistWorkMaxBytes: 6_000 },
    });
  });
  after(async () => {
    for (const res of held) res.destroy();
    await relay?.stop();
    await origin?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const finishHeld = () => {
    for (const res of held.splice(0)) res.end(res.headersSent ? '#EXTINF:2,\nseg1.ts\n' : '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg1.ts\n');
  };

  async function assertNodeUntouched() {
    const { body: nodes } = await relay.api.call('GET', '/api/nodes');
    assert.equal(nodes[0].status, 'up');
    assert.equal(nodes[0].passiveFailures, 0, 'HLS_BUSY is no node fault');
  }

  it('over hls.playlistWorkMaxCount: 503 HLS_BUSY, counted; the node stays up; the held ones still answer', async () => {
    const slow = [request(`${relay.relayUrl}/live/slow1/index.m3u8`), request(`${relay.relayUrl}/live/slow2/index.m3u8`)];
    await waitFor(() => held.length === 2, 10_000, 'two playlist fetches in flight');
    const refused = await request(`${relay.relayUrl}/live/cam1/index.m3u8?b=1`);
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body.toString()).error.code, 'HLS_BUSY');
    assert.equal(origin.count(/\/cam1\//), 0, 'the node was not asked');
    finishHeld();
    for (const answer of await Promise.all(slow)) assert.equal(answer.status, 200);
    assert.equal((await request(`${relay.relayUrl}/live/cam1/index.m3u8?b=2`)).status, 200, 'room again once they settled');
    const { body: stats } = await relay.api.call('GET', '/api/stats');
    assert.equal(stats.routes.live.errors.HLS_BUSY, 1);
    await assertNodeUntouched();
  });

  it('over hls.playlistWorkMaxBytes: the playlist that would pass it gets 503 HLS_BUSY; the node stays up', async () => {
    const { body: before } = await relay.api.call('GET', '/api/stats');
    const first = request(`${relay.relayUrl}/live/big1/index.m3u8`);
    await waitFor(
      async () => (await relay.api.call('GET', '/api/stats')).body.routes.live.bytesIn - before.routes.live.bytesIn >= 3_600,
      10_000,
      'the first big playlist to be half read',
    );
    const second = await request(`${relay.relayUrl}/live/big2/index.m3u8`);
    assert.equal(second.status, 503);
    assert.equal(JSON.parse(second.body.toString()).error.code, 'HLS_BUSY');
    finishHeld();
    assert.equal((await first).status, 200);
    await assertNodeUntouched();
  });
});
