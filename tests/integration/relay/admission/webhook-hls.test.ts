/**
 * Admission webhooks on an HLS route: one call per viewer session, not per playlist reload or
 * segment. 200 concurrent viewers (each from its own loopback address, as real viewers come
 * from their own) load the playlist, its segments and a reload; the webhook sees 200 calls.
 * Each viewer's later requests carry the relay's session parameter; a reload of the original
 * URL is known by the viewer's identity. When a session goes idle its end is reported with
 * the bytes that viewer received. (hls.viewerWindowMs is long enough that a loaded CI machine
 * does not end a session between its own requests.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, waitFor, type Answer } from '../../../helpers/http.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { WebhookService } from '../../../helpers/webhook-service.js';

const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\nseg1.ts\n#EXTINF:2,\nseg2.ts\n#EXTINF:2,\nseg3.ts\n';
const SEGMENT_BYTES = 20_000;
const VIEWERS = 200;

/** The relay URIs of a playlist body. */
function urisOf(playlist: Answer): string[] {
  return playlist.body
    .toString()
    .split('\n')
    .filter((line) => line.startsWith('/'));
}

/** One viewer from `address`: the playlist, its segments, a reload of the same URL and one more segment; the body bytes it got. */
async function watch(relayUrl: string, address: string, path: string): Promise<{ bytes: number; statuses: number[]; uris: string[] }> {
  const options = { localAddress: address, headers: { 'user-agent': 'hls-test-player' } };
  const first = await request(`${relayUrl}${path}`, options);
  const uris = urisOf(first);
  const segments = await Promise.all(uris.map((uri) => request(relayUrl + uri, options)));
  const reload = await request(`${relayUrl}${path}`, options);
  const again = await request(relayUrl + urisOf(reload)[2], options);
  const all = [first, ...segments, reload, again];
  return { bytes: all.reduce((sum, a) => sum + a.body.length, 0), statuses: all.map((a) => a.status), uris };
}

describe('admission webhook on an HLS route: one call per viewer session', () => {
  let origin: TestOrigin;
  let hooks: WebhookService;
  let relay: StartedRelay;

  before(async () => {
    origin = new TestOrigin();
    origin.handler = (req, res) => {
      if ((req.url ?? '').includes('.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(PLAYLIST);
      else res.writeHead(200, { 'content-type': 'video/mp2t' }).end(Buffer.alloc(SEGMENT_BYTES, 0x47));
    };
    const url = await origin.start();
    hooks = new WebhookService();
    const base = await hooks.start();
    hooks.answers.set('/play', (call) => ({ status: 200, body: { label: `from-${call.body.clientAddress}` } }));
    relay = await startRelay({
      hls: { viewerWindowMs: 6_000 },
      nodes: [{ id: 'n', url }],
      routes: [
        {
          id: 'tv',
          path: '/tv/',
          kind: 'hls',
          mode: 'proxy',
          stripPrefix: true,
          auth: { webhook: { url: `${base}/play`, stopUrl: `${base}/stop`, cacheMs: 0, maxConcurrent: 32, maxQueue: 1_000, timeoutMs: 10_000 } },
        },
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await hooks?.stop();
    await origin?.stop();
  });

  it(`${VIEWERS} concurrent viewers: ${VIEWERS} calls, every request answered, and each viewer's end reported with its bytes`, async () => {
    const addresses = Array.from({ length: VIEWERS }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);
    const seen = await Promise.all(addresses.map((address) => watch(relay.relayUrl, address, '/tv/live/cam1/index.m3u8')));
    for (const viewer of seen)
      assert.ok(
        viewer.statuses.every((status) => status === 200),
        `statuses ${viewer.statuses}`,
      );
    for (const uri of seen[0].uris) assert.match(uri, /[?&]_rds=[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{16}/, 'each URI carries the viewer session');
    assert.equal(hooks.callsTo('/play').length, VIEWERS, 'one call per viewer, whatever it requested');
    assert.equal(new Set(hooks.callsTo('/play').map((call) => call.body.clientAddress)).size, VIEWERS);
    const stops = await waitFor(() => (hooks.callsTo('/stop').length >= VIEWERS ? hooks.callsTo('/stop') : undefined), 30_000, 'every end reported');
    assert.equal(stops.length, VIEWERS, 'one end per session');
    for (const [i, address] of addresses.entries()) {
      const stop = stops.find((call) => call.body.clientAddress === address);
      assert.ok(stop, address);
      assert.equal(stop.body.label, `from-${address}`);
      assert.equal(stop.body.kind, 'hls');
      assert.equal(stop.body.closeReason, 'OK');
      assert.equal(stop.body.bytesOut, seen[i].bytes, `${address}: the bytes it received`);
    }
  });

  it('a forged or foreign session parameter is no session: the webhook is asked', async () => {
    const before = hooks.callsTo('/play').length;
    const first = await request(`${relay.relayUrl}/tv/live/cam2/index.m3u8`, { localAddress: '127.0.9.1' });
    const segment = urisOf(first)[0];
    const forged = segment.replace(/_rds=([A-Za-z0-9_-]{16})\.[A-Za-z0-9_-]{16}/, '_rds=$1.AAAAAAAAAAAAAAAA');
    assert.equal((await request(relay.relayUrl + forged, { localAddress: '127.0.9.2' })).status, 200);
    // cam2's session moved onto cam3's path: it does not verify there.
    const moved = segment.replace('/cam2/', '/cam3/');
    assert.equal((await request(relay.relayUrl + moved, { localAddress: '127.0.9.3' })).status, 200);
    assert.equal(hooks.callsTo('/play').length - before, 3);
    // The session itself passes from anywhere it is carried.
    assert.equal((await request(relay.relayUrl + segment, { localAddress: '127.0.9.4' })).status, 200);
    assert.equal(hooks.callsTo('/play').length - before, 3);
  });
});
