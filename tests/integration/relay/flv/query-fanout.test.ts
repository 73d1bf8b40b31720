/**
 * Query strings do not defeat the FLV one-pull fan-out (issue 11, point 4): a stream is the
 * node URL the relay pulls, so viewers with distinct `?r=` share one pull and the node sees
 * none of their parameters; only the route's streamParams select distinct pulls. Auth
 * parameters passed on (auth.passParams) reach the node but never split a stream. One client
 * address may only open so many new streams (flv.maxStreamsPerClient,
 * flv.newStreamsPerClientPerMinute): past that it gets 429 CLIENT_STREAM_LIMIT while other
 * addresses, and joins of existing streams, go on. Redirects and fanout-off routes keep the
 * full query as before.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../../helpers/flv-viewer.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { waitFor } from '../../../helpers/http.js';

/** Node requests for `path` made since request index `from` (their raw URLs). */
function pullsOf(origin: LiveFlvOrigin, path: string, from: number): string[] {
  return origin.requests
    .slice(from)
    .map((r) => r.url)
    .filter((url) => url.split('?')[0] === path);
}

/** Open `count` viewers at once and wait until every one of them has a keyframe. */
async function watchAll(urls: string[]): Promise<FlvTestViewer[]> {
  const viewers = await Promise.all(urls.map((url) => new FlvTestViewer(url, false).open()));
  await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0 || v.ended), 10_000, 'every viewer to get a keyframe');
  return viewers;
}

function assertValidFlv(viewers: FlvTestViewer[]): void {
  for (const viewer of viewers) {
    assert.equal(viewer.status, 200, viewer.url);
    assert.equal(viewer.headers['content-type'], 'video/x-flv');
    assert.equal(viewer.parseError, undefined);
    assert.ok(viewer.firstKeyframeAt > 0, `${viewer.url} got a keyframe`);
  }
}

async function closeAll(relay: StartedRelay, origin: LiveFlvOrigin, viewers: FlvTestViewer[]): Promise<void> {
  viewers.forEach((v) => v.close());
  await origin.waitAllClosed(3000);
  await waitFor(() => relay.engine.flvStreams.size === 0, 3000, 'the streams to close');
}

describe('FLV fan-out: the query string does not select the stream', () => {
  const origin = new LiveFlvOrigin({ fps: 25, gopFrames: 25, keyframeBytes: 4_000, interBytes: 1_000 });
  origin.streams.add('/live/cam2.flv');
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      flv: { idleCloseMs: 0 },
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'sp', path: '/sp/', kind: 'flv', mode: 'proxy', stripPrefix: true, streamParams: ['cam', 'q'] },
        {
          id: 'tok',
          path: '/tok/',
          kind: 'flv',
          mode: 'proxy',
          stripPrefix: true,
          auth: {
            tokens: [
              { token: 'token-aaaaaaaa', label: 'a' },
              { token: 'token-bbbbbbbb', label: 'b' },
            ],
            passParams: true,
          },
        },
        { id: 'redir', path: '/redir/', kind: 'flv', mode: 'redirect', stripPrefix: true },
        { id: 'nofan', path: '/nofan/', kind: 'flv', mode: 'proxy', stripPrefix: true, fanout: false },
      ],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('200 viewers with distinct ?r= share one pull, each gets valid FLV, the node sees no query', async () => {
    const from = origin.requests.length;
    const viewers = await watchAll(Array.from({ length: 200 }, (_, i) => `${relay.relayUrl}/live/cam1.flv?r=${i}-${Math.random().toString(36).slice(2)}`));
    assertValidFlv(viewers);
    assert.deepEqual(pullsOf(origin, '/live/cam1.flv', from), ['/live/cam1.flv'], "one pull, without the viewers' parameters");
    assert.equal(relay.engine.flvStreams.size, 1);
    const streams = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(streams[0].viewers, 200);
    await closeAll(relay, origin, viewers);
  });

  it('streamParams pieces select distinct pulls and reach the node; other pieces never do', async () => {
    const from = origin.requests.length;
    const urls = ['?cam=1&r=a', '?r=b&cam=1', '?cam=2&r=c', '?cam=2&q=x&r=d', '?r=e'].map((q) => `${relay.relayUrl}/sp/live/cam1.flv${q}`);
    const viewers = await watchAll(urls);
    assertValidFlv(viewers);
    assert.deepEqual(
      pullsOf(origin, '/live/cam1.flv', from).sort(),
      ['/live/cam1.flv', '/live/cam1.flv?cam=1', '/live/cam1.flv?cam=2', '/live/cam1.flv?cam=2&q=x'].sort(),
    );
    assert.equal(relay.engine.flvStreams.size, 4);
    await closeAll(relay, origin, viewers);
  });

  it('passed-on auth parameters reach the node but distinct tokens share one pull', async () => {
    const from = origin.requests.length;
    const first = await watchAll([`${relay.relayUrl}/tok/live/cam1.flv?token=token-aaaaaaaa&r=1`]);
    const second = await watchAll([`${relay.relayUrl}/tok/live/cam1.flv?r=2&token=token-bbbbbbbb`]);
    assertValidFlv([...first, ...second]);
    assert.deepEqual(pullsOf(origin, '/live/cam1.flv', from), ['/live/cam1.flv?token=token-aaaaaaaa'], "one pull, with the first viewer's token and no r");
    await closeAll(relay, origin, [...first, ...second]);
  });

  it('redirects keep the full query', async () => {
    const answer = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(`${relay.relayUrl}/redir/live/cam1.flv?r=1&x=2`, { agent: false }, resolve).on('error', reject),
    );
    answer.resume();
    assert.equal(answer.statusCode, 302);
    assert.equal(answer.headers.location, `http://127.0.0.1:${origin.port}/live/cam1.flv?r=1&x=2`);
  });

  it('with fanout off each viewer still gets its own pull with its full query', async () => {
    const from = origin.requests.length;
    const viewers = await watchAll([`${relay.relayUrl}/nofan/live/cam2.flv?r=1`, `${relay.relayUrl}/nofan/live/cam2.flv?r=2`]);
    assert.deepEqual(pullsOf(origin, '/live/cam2.flv', from).sort(), ['/live/cam2.flv?r=1', '/live/cam2.flv?r=2']);
    viewers.forEach((v) => v.close());
    await origin.waitAllClosed(3000);
  });
});

/** A GET from a given local address: the status, the headers and (for an error) the JSON body; a 200 stays open until closed. */
function getFrom(
  url: string,
  localAddress: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, localAddress, headers }, (res) => {
      const close = () => req.destroy();
      if (res.statusCode === 200) {
        res.resume();
        resolve({ status: 200, headers: res.headers, body: undefined, close });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString()), close }));
    });
    req.on('error', reject);
  });
}

describe('FLV fan-out: new streams per client address', () => {
  const origin = new LiveFlvOrigin({ fps: 25, gopFrames: 5, keyframeBytes: 2_000, interBytes: 500 });
  for (let i = 1; i <= 6; i += 1) origin.streams.add(`/live/cam${i}.flv`);
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      relay: { trustedProxies: ['127.0.0.1'] },
      flv: { idleCloseMs: 0, maxStreamsPerClient: 3, newStreamsPerClientPerMinute: 6 },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('one address is held to flv.maxStreamsPerClient open streams; joins and other addresses are not', async () => {
    const url = (n: number) => `${relay.relayUrl}/live/cam${n}.flv`;
    const opened = [await getFrom(url(1), '127.0.0.2'), await getFrom(url(2), '127.0.0.2'), await getFrom(`${url(3)}?r=x`, '127.0.0.2')];
    assert.deepEqual(
      opened.map((a) => a.status),
      [200, 200, 200],
    );
    const refused = await getFrom(url(4), '127.0.0.2');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'CLIENT_STREAM_LIMIT');
    assert.match(refused.body.error.message, /flv\.maxStreamsPerClient \(3\)/);
    assert.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After is set');
    const other = await getFrom(url(4), '127.0.0.3');
    assert.equal(other.status, 200, 'another address still opens a new stream');
    const join = await getFrom(`${url(4)}?r=join`, '127.0.0.2');
    assert.equal(join.status, 200, 'joining an existing stream is never limited');
    const stats = (await relay.api.call('GET', '/api/stats')).body;
    assert.equal(stats.routes.live.errors.CLIENT_STREAM_LIMIT, 1);
    // A stream that closes frees its opener's slot.
    opened[0].close();
    await waitFor(() => relay.engine.flvStreams.size === 3, 3000, 'cam1 to close');
    const again = await getFrom(url(5), '127.0.0.2');
    assert.equal(again.status, 200);
    for (const answer of [...opened, other, join, again]) answer.close();
    await origin.waitAllClosed(3000);
    await waitFor(() => relay.engine.flvStreams.size === 0, 3000, 'the streams to close');
  });

  it('one address is held to flv.newStreamsPerClientPerMinute new streams, offline ones included', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await getFrom(`${relay.relayUrl}/live/offline-${i}.flv`, '127.0.0.4')).status);
    assert.deepEqual(statuses, [404, 404, 404, 404, 404, 404]);
    const refused = await getFrom(`${relay.relayUrl}/live/offline-6.flv`, '127.0.0.4');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'CLIENT_STREAM_LIMIT');
    assert.match(refused.body.error.message, /flv\.newStreamsPerClientPerMinute \(6\)/);
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} s`);
    const other = await getFrom(`${relay.relayUrl}/live/cam1.flv`, '127.0.0.5');
    assert.equal(other.status, 200, 'another address still opens a new stream');
    other.close();
    await origin.waitAllClosed(3000);
  });

  it('an IPv6 client counts by its /64 (the address behind a trusted proxy)', async () => {
    const from = (address: string, n: number) => getFrom(`${relay.relayUrl}/live/cam${n}.flv`, '127.0.0.1', { 'x-forwarded-for': address });
    const opened = [await from('2001:db8:1:2::a', 1), await from('2001:db8:1:2::b', 2), await from('2001:db8:1:2:ffff::1', 3)];
    assert.deepEqual(
      opened.map((a) => a.status),
      [200, 200, 200],
    );
    const refused = await from('2001:db8:1:2::c', 4);
    assert.equal(refused.status, 429, 'the same /64 shares the limit');
    assert.equal(refused.body.error.code, 'CLIENT_STREAM_LIMIT');
    const other = await from('2001:db8:1:3::a', 4);
    assert.equal(other.status, 200, 'another /64 is another client');
    for (const answer of [...opened, other]) answer.close();
    await origin.waitAllClosed(3000);
    await waitFor(() => relay.engine.flvStreams.size === 0, 3000, 'the streams to close');
  });
});
