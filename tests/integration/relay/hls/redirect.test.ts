/**
 * HLS redirect mode against a real live stream: the relay serves the playlist itself (no
 * 302, so no relative URI is ever resolved against a pre-redirect URL), with absolute node
 * URLs for media, so segments go straight to the node; refreshes keep coming to the relay
 * and keep working; a master's variants stay on the relay with the viewer's token, which
 * never reaches a node URL; a segment that reaches the relay anyway gets the plain 302.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { missingTool } from '../../../helpers/media.js';
import { request, waitFor } from '../../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { HlsOrigin, startLiveHls, tempDir, type LiveHls } from '../../../helpers/hls-origin.js';

const skip = missingTool('ffmpeg', 'ffmpeg');
if (skip) console.log(`# skipping HLS redirect suite: ${skip}`);

const TOKEN = 'viewer-token-42';
const uriLines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

describe('HLS redirect mode, live MPEG-TS stream from ffmpeg', { skip }, () => {
  let live: LiveHls;
  let origin: HlsOrigin;
  let relay: StartedRelay;
  before(async () => {
    live = await startLiveHls(await tempDir('relaydeck-hls-redirect-'));
    await writeFile(path.join(live.dir, 'master.m3u8'), '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=600000,RESOLUTION=320x180\nindex.m3u8\n');
    origin = new HlsOrigin(live.dir);
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'n1', url }],
      routes: [
        { id: 'tv', path: '/live/', kind: 'hls', mode: 'redirect' },
        { id: 'paid', path: '/paid/', kind: 'hls', mode: 'redirect', stripPrefix: true, auth: { tokens: [{ token: TOKEN, label: 'viewer' }] } },
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await origin?.stop();
    await live?.stop();
  });

  it('the playlist is served by the relay (200), its media URIs are absolute node URLs that the node serves', async () => {
    const answer = await request(`${relay.relayUrl}/live/index.m3u8`);
    assert.equal(answer.status, 200);
    const uris = uriLines(answer.body.toString());
    assert.ok(uris.length >= 3);
    for (const uri of uris) assert.ok(uri.startsWith(`${origin.url}/live/seg_`), uri);
    const segment = await request(uris.at(-1)!);
    assert.equal(segment.status, 200);
    assert.ok(segment.body.length > 1_000);
  });

  it('refreshes keep coming to the relay and keep working as the live window slides', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3; i += 1) {
      // Refresh until the window has moved past every segment seen so far.
      const last = await waitFor(
        async () => {
          const answer = await request(`${relay.relayUrl}/live/index.m3u8`);
          assert.equal(answer.status, 200, `refresh ${i}`);
          const newest = uriLines(answer.body.toString()).at(-1)!;
          return seen.has(newest) ? undefined : newest;
        },
        10_000,
        `the live window to move (refresh ${i})`,
      );
      assert.equal((await request(last)).status, 200, `newest segment after refresh ${i}`);
      seen.add(last);
    }
    assert.equal(seen.size, 3, 'the window moved');
    assert.equal(origin.count(/\.ts$/) > 0, true);
    const { body: stats } = await relay.api.call('GET', '/api/stats');
    assert.equal(stats.routes.tv.redirects, 0, 'no segment went through the relay');
  });

  it('a master: variants stay on the relay and are served by it; media of the variant goes to the node', async () => {
    const master = await request(`${relay.relayUrl}/live/master.m3u8`);
    const [variant] = uriLines(master.body.toString());
    assert.match(variant, /^\/live\/index\.m3u8\?_rdh=[\w-]+\.n1$/);
    const media = await request(relay.relayUrl + variant);
    assert.equal(media.status, 200);
    for (const uri of uriLines(media.body.toString())) assert.ok(uri.startsWith(origin.url), uri);
    const { body: streams } = await relay.api.call('GET', '/api/hls/streams');
    const stream = streams.find((s: { streamKey: string; routeId: string }) => s.routeId === 'tv' && s.streamKey === 'live/master');
    assert.equal(stream.playlistRequests, 2, 'the variant request counted for the master stream');
  });

  it("the viewer's token goes into relay URIs (variants) and never into node URLs; the node never sees it", async () => {
    assert.equal((await request(`${relay.relayUrl}/paid/live/master.m3u8`)).status, 401);
    const master = await request(`${relay.relayUrl}/paid/live/master.m3u8?token=${TOKEN}`);
    assert.equal(master.status, 200);
    const [variant] = uriLines(master.body.toString());
    assert.match(variant, new RegExp(`^/paid/live/index\\.m3u8\\?token=${TOKEN}&_rdh=[\\w-]+\\.n1$`));
    const media = await request(relay.relayUrl + variant);
    assert.equal(media.status, 200);
    const text = media.body.toString();
    assert.ok(!text.includes(TOKEN), 'no relay credential in node URLs');
    for (const uri of uriLines(text)) assert.ok(uri.startsWith(`${origin.url}/live/seg_`), uri);
    assert.ok(!origin.urls.some((u) => u.includes(TOKEN)), 'the token was removed before the node');
  });

  it('a segment request that reaches a redirect route gets the plain 302 to the node', async () => {
    const answer = await request(`${relay.relayUrl}/live/seg_00001.ts?x=1`);
    assert.equal(answer.status, 302);
    assert.equal(answer.headers.location, `${origin.url}/live/seg_00001.ts?x=1`);
  });
});
