/**
 * HLS and a draining node (issue 12, point 1): a playlist request whose hint names a
 * draining node goes to the locator when it offers another node; segments named by the
 * draining node's playlist may still come from it; when no other node can serve, the
 * draining node keeps serving its viewers' playlists. A request that moved on to another
 * node is logged with the node that answered, and says where it was before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from '../../helpers/http.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000\ncam1_hi.m3u8\n';
const MEDIA = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nseg1.ts\n';

describe('HLS playlists leave a draining node', () => {
  const origins = { a: new TestOrigin(), b: new TestOrigin() };
  let relay: StartedRelay;
  before(async () => {
    for (const [id, origin] of Object.entries(origins)) {
      origin.handler = (req, res) => {
        const path = (req.url ?? '').split('?')[0];
        if (path.startsWith('/live/only-b') && id === 'a') res.writeHead(404).end('no such stream');
        else if (path.endsWith('cam1.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(MASTER);
        else if (path.endsWith('.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(`${MEDIA}#node ${id}\n`);
        else res.writeHead(200, { 'content-type': 'video/mp2t' }).end(`segment from ${id}`);
      };
    }
    const [a, b] = [await origins.a.start(), await origins.b.start()];
    relay = await startRelay({
      nodes: [
        { id: 'a', url: a },
        { id: 'b', url: b },
      ],
      routes: [{ id: 'hls', path: '/live/', kind: 'hls', mode: 'proxy' }],
    });
  });
  after(async () => {
    await relay?.stop();
    await origins.a.stop();
    await origins.b.stop();
  });

  it('a hinted playlist request goes to another node while its node drains; its segments may still come from it', async () => {
    const master = (await request(`${relay.relayUrl}/live/cam1.m3u8`)).body.toString();
    const variant = master.split('\n').find((l) => l.startsWith('/live/cam1_hi.m3u8'))!;
    assert.ok(variant.endsWith('.a'), variant);
    const media = (await request(relay.relayUrl + variant)).body.toString();
    assert.match(media, /#node a/);
    const segment = media.split('\n').find((l) => l.startsWith('/live/seg1.ts'))!;

    assert.equal((await relay.api.call('PATCH', '/api/nodes/a', { draining: true })).status, 200);
    const moved = (await request(relay.relayUrl + variant)).body.toString();
    assert.match(moved, /#node b/, 'the playlist came from node b');
    assert.equal((await request(relay.relayUrl + segment)).body.toString(), 'segment from a', "a segment named by a's playlist still comes from a");
    const sessions = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/cam1_hi.m3u8');
    assert.equal(sessions.at(-1).nodeId, 'b');

    // No other node can serve: the draining node keeps its viewers' playlists.
    await relay.api.call('PATCH', '/api/nodes/b', { enabled: false });
    assert.match((await request(relay.relayUrl + variant)).body.toString(), /#node a/);
    await relay.api.call('PATCH', '/api/nodes/b', { enabled: true });
    await relay.api.call('PATCH', '/api/nodes/a', { draining: false });
  });

  it('a request that moved on after a 404 is logged under the node that answered, with the node it left', async () => {
    const answer = await request(`${relay.relayUrl}/live/only-b.m3u8`);
    assert.match(answer.body.toString(), /#node b/);
    const entry = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/only-b.m3u8').at(-1);
    assert.equal(entry.nodeId, 'b');
    assert.deepEqual(entry.movedFrom, ['a']);
  });
});
