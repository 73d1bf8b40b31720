/**
 * Viewer auth in HLS proxy mode: the credentials of the playlist request (a token, or a
 * signed URL with a signed prefix) are carried into every URI of the playlist, so the
 * player's segment requests pass the same check; they are removed before the node, and
 * viewers with different credentials share one cached copy of each segment.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeSign } from '../../../../electron/engine/relay/auth/signing.js';
import { request } from '../../../helpers/http.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';

const KEY = { id: 'k1', secret: 'hls-signing-secret-0123456789' };
const TOKENS = [
  { token: 'token-alice-1', label: 'alice' },
  { token: 'token-bob-222', label: 'bob' },
];
const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2,\nseg1.m4s\n#EXTINF:2,\nseg2.m4s?node=q\n';
const uriOf = (line: string) => line.replace(/^#EXT-X-MAP:URI="(.*)"$/, '$1');

describe('HLS proxy mode carries viewer auth into child URIs', () => {
  let origin: TestOrigin;
  let relay: StartedRelay;
  before(async () => {
    origin = new TestOrigin();
    origin.handler = (req, res) => {
      if ((req.url ?? '').includes('.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(PLAYLIST);
      else res.writeHead(200, { 'content-type': 'video/iso.segment' }).end(`bytes of ${req.url}`);
    };
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'n', url }],
      routes: [
        { id: 'tok', path: '/tok/', kind: 'hls', mode: 'proxy', auth: { tokens: TOKENS } },
        { id: 'sig', path: '/sig/', kind: 'hls', mode: 'proxy', auth: { keys: [KEY] } },
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await origin?.stop();
  });

  it('a token: every child URI carries it and passes; without it a child is refused 401', async () => {
    const playlist = await request(`${relay.relayUrl}/tok/cam1/index.m3u8?token=token-alice-1`);
    assert.equal(playlist.status, 200);
    assert.equal(playlist.headers['cache-control'], 'private, no-cache', 'a copy with credentials is private');
    const uris = playlist.body
      .toString()
      .split('\n')
      .filter((l) => l.startsWith('/') || l.startsWith('#EXT-X-MAP'))
      .map(uriOf);
    assert.equal(uris.length, 3);
    for (const uri of uris) {
      assert.match(uri, /[?&]token=token-alice-1&_rdh=/);
      const answer = await request(relay.relayUrl + uri);
      assert.equal(answer.status, 200, uri);
    }
    assert.match(uris[2], /^\/tok\/cam1\/seg2\.m4s\?node=q&token=token-alice-1&_rdh=/, "the node's own query is kept");
    const bare = await request(`${relay.relayUrl}${uris[1].split('?')[0]}`);
    assert.equal(bare.status, 401);
    assert.ok(!origin.requests.some((r) => r.url.includes('token=')), 'the node never sees the token');
  });

  it('viewers with different tokens share one cached copy of a segment', async () => {
    const before = origin.requests.filter((r) => r.url.startsWith('/tok/cam1/seg1.m4s')).length;
    const bob = await request(`${relay.relayUrl}/tok/cam1/index.m3u8?token=token-bob-222`);
    const seg1 = bob.body
      .toString()
      .split('\n')
      .find((l) => l.startsWith('/tok/cam1/seg1.m4s'))!;
    assert.match(seg1, /token=token-bob-222/);
    const answer = await request(relay.relayUrl + seg1);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-relaydeck-cache'], 'HIT');
    assert.equal(origin.requests.filter((r) => r.url.startsWith('/tok/cam1/seg1.m4s')).length, before);
    const { body: streams } = await relay.api.call('GET', '/api/hls/streams');
    assert.equal(streams.find((s: { routeId: string }) => s.routeId === 'tok').viewers, 2, 'two viewers told apart by their credentials');
  });

  it('a signed URL with a signed prefix (sign + sp) is carried whole, and the children verify', async () => {
    const expiry = Math.floor(Date.now() / 1000) + 600;
    const sign = makeSign(KEY.secret, '/sig/cam2/', expiry);
    const playlist = await request(`${relay.relayUrl}/sig/cam2/index.m3u8?sign=${sign}&sp=/sig/cam2/`);
    assert.equal(playlist.status, 200);
    const segment = playlist.body
      .toString()
      .split('\n')
      .find((l) => l.startsWith('/sig/cam2/seg1.m4s'))!;
    assert.equal(segment, `/sig/cam2/seg1.m4s?sign=${sign}&sp=/sig/cam2/&${segment.slice(segment.indexOf('_rdh='))}`);
    assert.equal((await request(relay.relayUrl + segment)).status, 200);
  });
});
