/**
 * A stream's segments go to the node of its playlist: the rewritten URIs name that node
 * (by id, in the relay's hint), so a locator that would place a segment path elsewhere
 * ("hash" on the segment's own stream key here) is not asked. When that node stops being
 * usable, the hint is ignored and the locator chooses again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rankByHash } from '../../../../electron/engine/upstream/hash.js';
import { request } from '../../../helpers/http.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';

const NODES = [
  { id: 'a', weight: 1 },
  { id: 'b', weight: 1 },
];
const playlistNode = rankByHash('live/cam1', NODES)[0].id;
const otherNode = playlistNode === 'a' ? 'b' : 'a';
/** Segment names whose own stream key the hash would send to the other node. */
const SEGMENTS = Array.from({ length: 200 }, (_, i) => `cam1-${i}`)
  .filter((name) => rankByHash(`live/${name}`, NODES)[0].id === otherNode)
  .slice(0, 3);
const PLAYLIST = `#EXTM3U\n#EXT-X-TARGETDURATION:1\n${SEGMENTS.map((s) => `#EXTINF:1,\n${s}.ts\n`).join('')}`;

describe('HLS segments follow their playlist to its node', () => {
  const origins = { a: new TestOrigin(), b: new TestOrigin() };
  let relay: StartedRelay;
  before(async () => {
    for (const [id, origin] of Object.entries(origins)) {
      origin.handler = (req, res) => {
        if ((req.url ?? '').includes('.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(PLAYLIST);
        else res.writeHead(200, { 'content-type': 'video/mp2t' }).end(`segment from ${id}`);
      };
    }
    const [a, b] = [await origins.a.start(), await origins.b.start()];
    relay = await startRelay({
      nodes: [
        { id: 'a', url: a },
        { id: 'b', url: b },
      ],
      routes: [{ id: 'hls', path: '/live/', kind: 'hls', mode: 'proxy', locate: 'hash' }],
    });
  });
  after(async () => {
    await relay?.stop();
    await origins.a.stop();
    await origins.b.stop();
  });

  it("segments that the locator would place on another node are fetched from the playlist's node", async () => {
    assert.equal(SEGMENTS.length, 3);
    const text = (await request(`${relay.relayUrl}/live/cam1.m3u8`)).body.toString();
    const uris = text.split('\n').filter((l) => l.startsWith('/live/'));
    assert.equal(uris.length, 3);
    for (const uri of uris) {
      assert.ok(uri.endsWith(`.${playlistNode}`), uri);
      assert.equal((await request(relay.relayUrl + uri)).body.toString(), `segment from ${playlistNode}`);
    }
    assert.equal(origins[otherNode as 'a' | 'b'].requests.length, 0, 'the other node was never asked');
    // Without the hint the locator decides: the other node.
    assert.equal((await request(`${relay.relayUrl}/live/${SEGMENTS[0]}.ts`)).body.toString(), `segment from ${otherNode}`);
  });

  it('a hint naming a node that is no longer usable is ignored (the locator chooses)', async () => {
    const text = (await request(`${relay.relayUrl}/live/cam1.m3u8`)).body.toString();
    const uri = text.split('\n').filter((l) => l.startsWith('/live/'))[1];
    assert.equal((await relay.api.call('PATCH', `/api/nodes/${playlistNode}`, { enabled: false })).status, 200);
    const answer = await request(relay.relayUrl + uri);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.toString(), `segment from ${otherNode}`);
  });

  it('a forged hint naming an unknown node or stream changes nothing', async () => {
    const answer = await request(`${relay.relayUrl}/live/${SEGMENTS[2]}.ts?_rdh=AAAAAAAAAAAA.nosuchnode`);
    assert.equal(answer.status, 200);
    const { body: streams } = await relay.api.call('GET', '/api/hls/streams');
    assert.ok(streams.every((s: { id: string }) => s.id !== 'AAAAAAAAAAAA'));
  });
});
