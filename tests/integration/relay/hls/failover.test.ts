/**
 * HLS node failover: when the node chosen for a playlist or segment fails before the viewer
 * got a byte (closed port, reset, 5xx; a 404 while the locator offered other nodes), the
 * request is answered by the next node that can serve the stream, and the failure is
 * counted against the node (passive health, the nodes API, /metrics). Viewers moving on
 * together still share one fetch; nothing is retried once bytes reached the viewer; when
 * every node fails the viewer gets a JSON error from the taxonomy at once.
 */
import assert from 'node:assert/strict';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request, waitFor } from '../../../helpers/http.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import type { NodeConfig } from '../../../../shared/config.js';
import { NodeAttempts } from '../../../../electron/engine/relay/hls/failover.js';

/** What a test node does with a request. */
type Behaviour = 'serve' | '502' | 'reset' | '404' | 'cut' | 'slow502' | 'head-only' | 'slow-head' | '503' | '500-cut';

const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:1,\nseg1.ts\n#EXTINF:1,\nseg2.ts\n';
/** Bytes of a segment the "cut" behaviour promises (and sends half of). */
const CUT_LENGTH = 200_000;

/** A node serving the same live stream under any path: playlists list seg1.ts and seg2.ts; a segment says where it came from. */
function streamNode(id: string): TestOrigin & { behaviour: (path: string) => Behaviour } {
  const origin = new TestOrigin() as TestOrigin & { behaviour: (path: string) => Behaviour };
  origin.behaviour = () => 'serve';
  origin.handler = (req, res) => answer(id, origin.behaviour(req.url ?? ''), req, res);
  return origin;
}

function answer(id: string, behaviour: Behaviour, req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  const isPlaylist = path.endsWith('.m3u8');
  const type = isPlaylist ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
  if (behaviour === 'head-only' || behaviour === 'slow-head') {
    // A probe (HEAD) is answered, at once or after 100 ms; a GET is reset by the first.
    if (req.method === 'HEAD') setTimeout(() => res.writeHead(200, { 'content-type': type }).end(), behaviour === 'slow-head' ? 100 : 0);
    else if (behaviour === 'head-only') req.socket.destroy();
    else res.writeHead(200, { 'content-type': type }).end(isPlaylist ? PLAYLIST : `segment ${path} from ${id}`);
  } else if (behaviour === '503') {
    res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5' }).end(`busy at ${id}`);
  } else if (behaviour === '500-cut') {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': 1000 });
    res.write('x');
    setTimeout(() => req.socket.destroy(), 50);
  } else if (behaviour === 'reset') {
    req.socket.destroy();
  } else if (behaviour === '502') {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`bad gateway at ${id}`);
  } else if (behaviour === 'slow502') {
    setTimeout(() => res.writeHead(502, { 'content-type': 'text/plain' }).end(`bad gateway at ${id}`), 300);
  } else if (behaviour === '404') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`no such stream on ${id}`);
  } else if (behaviour === 'cut') {
    const body = isPlaylist ? PLAYLIST : 'x'.repeat(CUT_LENGTH);
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.write(body.slice(0, body.length >> 1));
    setTimeout(() => req.socket.destroy(), 150);
  } else {
    res.writeHead(200, { 'content-type': type }).end(isPlaylist ? PLAYLIST : `segment ${path} from ${id}`);
  }
}

/** A URL on which nothing listens (a port just closed). */
async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

const uriLines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));
const countOf = (origin: TestOrigin, path: string) => origin.requests.filter((r) => r.url.split('?')[0] === path).length;

async function passiveFailures(relay: StartedRelay, nodeId: string): Promise<number> {
  const { body } = await relay.api.call('GET', '/api/nodes');
  return (body as { id: string; passiveFailures: number }[]).find((n) => n.id === nodeId)!.passiveFailures;
}

/** A GET whose answer may be cut: the status, the bytes that came, and whether the body was complete. */
function fetchCut(url: string): Promise<{ status: number; bytes: number; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('error', () => {});
      res.on('close', () => resolve({ status: res.statusCode ?? 0, bytes, complete: res.complete }));
    });
    req.on('error', reject);
  });
}

describe('HLS failover to the next node', () => {
  const a = streamNode('a');
  const b = streamNode('b');
  let relay: StartedRelay;
  before(async () => {
    const [urlA, urlB, dead, dead2] = [await a.start(), await b.start(), await closedPortUrl(), await closedPortUrl()];
    relay = await startRelay({
      // Failures are counted but never take a node down here (each test picks who fails); node errors are not cached between tests.
      health: { intervalMs: 0, passiveMaxFails: 1_000 },
      hls: { errorCacheMs: 0 },
      locator: { probeRefreshMs: 0, probeTtlMs: 60_000 },
      nodes: [
        { id: 'a', url: urlA },
        { id: 'b', url: urlB },
        { id: 'dead', url: dead },
        { id: 'dead2', url: dead2 },
      ],
      routes: [
        { id: 'ab', path: '/live/', kind: 'hls', mode: 'proxy', locate: 'first', nodes: ['a', 'b'] },
        { id: 'dead-first', path: '/dead/', kind: 'hls', mode: 'proxy', locate: 'first', nodes: ['dead', 'b'] },
        { id: 'all-dead', path: '/gone/', kind: 'hls', mode: 'proxy', locate: 'first', nodes: ['dead', 'dead2'] },
        { id: 'dead-then-bad', path: '/bad/', kind: 'hls', mode: 'proxy', locate: 'first', nodes: ['dead', 'a'] },
        { id: 'probed', path: '/probe/', kind: 'hls', mode: 'proxy', locate: 'probe', nodes: ['a', 'b'] },
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await a.stop();
    await b.stop();
  });

  it('a dead node (closed port): playlist and segments answer 200 from the next node, and the failure shows on the node', async () => {
    const playlist = await request(`${relay.relayUrl}/dead/cam1.m3u8`);
    assert.equal(playlist.status, 200, playlist.body.toString());
    const uris = uriLines(playlist.body.toString());
    assert.equal(uris.length, 2);
    for (const uri of uris) {
      assert.match(uri, /\.b$/, 'the rewritten URIs pin the node that answered');
      const segment = await request(relay.relayUrl + uri);
      assert.equal(segment.status, 200);
      assert.equal(segment.body.toString(), `segment ${uri.split('?')[0]} from b`);
    }
    const unhinted = await request(`${relay.relayUrl}/dead/cam1/seg9.ts`);
    assert.equal(unhinted.status, 200);
    assert.equal(unhinted.body.toString(), 'segment /dead/cam1/seg9.ts from b');
    assert.ok((await passiveFailures(relay, 'dead')) >= 2, 'each failed fetch counts against the node');
    const metrics = (await relay.api.call('GET', '/metrics')).body as string;
    assert.match(metrics, /relaydeck_node_passive_failures\{node="dead",relay="[^"]+"\} [1-9]/);
    const { body: streams } = await relay.api.call('GET', '/api/hls/streams');
    assert.equal((streams as { streamKey: string; nodeId: string }[]).find((s) => s.streamKey === 'dead/cam1')?.nodeId, 'b');
  });

  for (const behaviour of ['502', 'reset'] as const) {
    it(`a node answering ${behaviour === '502' ? '502' : 'with a connection reset'}: playlist and segment come from the next node`, async () => {
      const stream = `/live/${behaviour}`;
      a.behaviour = () => behaviour;
      try {
        const before = await passiveFailures(relay, 'a');
        const playlist = await request(`${relay.relayUrl}${stream}.m3u8`);
        assert.equal(playlist.status, 200, playlist.body.toString());
        const uri = uriLines(playlist.body.toString())[0];
        assert.match(uri, /\.b$/);
        const segment = await request(`${relay.relayUrl}${stream}/seg1.ts`);
        assert.equal(segment.status, 200);
        assert.equal(segment.body.toString(), `segment ${stream}/seg1.ts from b`);
        assert.ok(countOf(a, `${stream}.m3u8`) >= 1 && countOf(a, `${stream}/seg1.ts`) >= 1, 'node a was asked first');
        assert.ok((await passiveFailures(relay, 'a')) >= before + 2, 'both failures count against node a');
      } finally {
        a.behaviour = () => 'serve';
      }
    });
  }

  it('a hinted segment whose node has failed since its playlist moves to another node of the route', async () => {
    const playlist = await request(`${relay.relayUrl}/live/hinted/index.m3u8`);
    const uri = uriLines(playlist.body.toString())[0];
    assert.match(uri, /\.a$/);
    a.behaviour = () => 'reset';
    try {
      const segment = await request(relay.relayUrl + uri);
      assert.equal(segment.status, 200);
      assert.equal(segment.body.toString(), 'segment /live/hinted/seg1.ts from b');
      const log = (await relay.api.call('GET', '/api/requests')).body as { path: string; nodeId: string; status: number }[];
      const entry = log.filter((e) => e.path === '/live/hinted/seg1.ts').at(-1);
      assert.equal(entry?.nodeId, 'b', 'the request log names the node that answered');
    } finally {
      a.behaviour = () => 'serve';
    }
  });

  it("a 404 from a node without the stream moves on when the locator offered several; a hinted node's 404 is the answer", async () => {
    a.behaviour = (url) => (url.startsWith('/live/only-b') ? '404' : 'serve');
    const playlist = await request(`${relay.relayUrl}/live/only-b.m3u8`);
    assert.equal(playlist.status, 200);
    assert.match(uriLines(playlist.body.toString())[0], /\.b$/);
    assert.equal((await request(`${relay.relayUrl}/live/only-b/seg1.ts`)).body.toString(), 'segment /live/only-b/seg1.ts from b');

    const pinned = uriLines((await request(`${relay.relayUrl}/live/expiring/index.m3u8`)).body.toString())[1];
    assert.match(pinned, /\.a$/);
    a.behaviour = () => '404';
    try {
      const asked = countOf(b, '/live/expiring/seg2.ts');
      const gone = await request(relay.relayUrl + pinned);
      assert.equal(gone.status, 404, 'an expired segment on its stream node stays a 404');
      assert.equal(countOf(b, '/live/expiring/seg2.ts'), asked, 'the other node was not asked');
    } finally {
      a.behaviour = () => 'serve';
    }
  });

  it("a probed location whose node fails is forgotten, and the probe finds the stream's other node for the same request", async () => {
    b.behaviour = (url) => (url.startsWith('/probe/') ? '404' : 'serve');
    try {
      const first = await request(`${relay.relayUrl}/probe/cam1/seg1.ts`);
      assert.equal(first.body.toString(), 'segment /probe/cam1/seg1.ts from a', 'the probe placed the stream on a (b lacked it)');
      b.behaviour = () => 'serve';
      a.behaviour = () => '502';
      const moved = await request(`${relay.relayUrl}/probe/cam1/seg2.ts`);
      assert.equal(moved.status, 200, moved.body.toString());
      assert.equal(moved.body.toString(), 'segment /probe/cam1/seg2.ts from b');
      const { body } = await relay.api.call('GET', '/api/resolve?path=/probe/cam1/seg3.ts');
      assert.deepEqual([body.nodeId, body.locator], ['b', 'probe'], 'the probe cache now places the stream on b');
    } finally {
      a.behaviour = () => 'serve';
      b.behaviour = () => 'serve';
    }
  });

  it('the probe asked again leaves out the node that failed, even when that node still answers probes first', async () => {
    a.behaviour = () => 'head-only';
    b.behaviour = () => 'slow-head';
    try {
      const answer = await request(`${relay.relayUrl}/probe/cam2/seg2.ts`);
      assert.equal(answer.status, 200, answer.body.toString());
      assert.equal(answer.body.toString(), 'segment /probe/cam2/seg2.ts from b');
      assert.equal(countOf(a, '/probe/cam2/seg2.ts'), 2, 'a was probed (HEAD) and asked (GET) once each');
    } finally {
      a.behaviour = () => 'serve';
      b.behaviour = () => 'serve';
    }
  });

  it('many viewers moving on together share one fetch on the next node', async () => {
    const path = '/live/crowd/seg1.ts';
    a.behaviour = () => 'slow502';
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, () => request(relay.relayUrl + path)));
      for (const answer of answers) {
        assert.equal(answer.status, 200);
        assert.equal(answer.body.toString(), `segment ${path} from b`);
      }
      assert.equal(countOf(a, path), 1, 'one request to the failing node');
      assert.equal(countOf(b, path), 1, 'one request to the next node');
    } finally {
      a.behaviour = () => 'serve';
    }
  });

  it('a segment cut after bytes reached the viewer is not retried; a playlist (held until complete) is', async () => {
    a.behaviour = () => 'cut';
    try {
      const cut = await fetchCut(`${relay.relayUrl}/live/cut/seg1.ts`);
      assert.equal(cut.status, 200);
      assert.ok(cut.bytes > 0 && cut.bytes < CUT_LENGTH && !cut.complete, `the viewer got ${cut.bytes} bytes, then the cut`);
      assert.equal(countOf(b, '/live/cut/seg1.ts'), 0, 'no other node was asked after bytes went out');
      const playlist = await request(`${relay.relayUrl}/live/cut.m3u8`);
      assert.equal(playlist.status, 200);
      assert.match(uriLines(playlist.body.toString())[0], /\.b$/);
    } finally {
      a.behaviour = () => 'serve';
    }
  });

  it('every node failing: a JSON error from the taxonomy at once, naming the nodes tried', async () => {
    const started = Date.now();
    const dial = await request(`${relay.relayUrl}/gone/cam1.m3u8`);
    assert.equal(dial.status, 502);
    const dialError = JSON.parse(dial.body.toString()).error;
    assert.equal(dialError.code, 'DIAL');
    assert.match(dialError.message, /also tried node dead/);
    const segment = await request(`${relay.relayUrl}/gone/cam1/seg1.ts`);
    assert.equal(segment.status, 502);
    assert.equal(JSON.parse(segment.body.toString()).error.code, 'DIAL');

    a.behaviour = () => '502';
    try {
      const bad = await request(`${relay.relayUrl}/bad/cam1/seg1.ts`);
      assert.equal(bad.status, 502);
      const badError = JSON.parse(bad.body.toString()).error;
      assert.equal(badError.code, 'UPSTREAM_STATUS');
      assert.match(badError.message, /node a answered 502 \(also tried node dead\)/);
      assert.ok(!badError.message.includes('127.0.0.1'), 'no node address reaches the viewer');
    } finally {
      a.behaviour = () => 'serve';
    }
    assert.ok(Date.now() - started < 5_000, 'answered without waiting on anything');
  });

  it('only GET and HEAD may move on to another node (the relay refuses other methods before that: 405)', async () => {
    const node = (id: string) => ({ id, url: `http://127.0.0.1:1/${id}` }) as NodeConfig;
    const attempts = (method: string) => new NodeAttempts([node('a'), node('b')], { maxAttempts: 3, method, located: true });
    assert.equal(attempts('GET').mayMoveOn('failed'), true);
    assert.equal(attempts('HEAD').mayMoveOn('server-error'), true);
    assert.equal(attempts('POST').mayMoveOn('failed'), false);
    const asked = a.requests.length + b.requests.length;
    const answer = await request(`${relay.relayUrl}/live/cam1.m3u8`, { method: 'POST' }, 'x');
    assert.equal(answer.status, 405);
    assert.equal(a.requests.length + b.requests.length, asked);
  });
});

describe('HLS failover bounded by hls.maxNodeAttempts', () => {
  const b = streamNode('b');
  let relay: StartedRelay;
  before(async () => {
    const [dead, urlB] = [await closedPortUrl(), await b.start()];
    relay = await startRelay({
      health: { intervalMs: 0, passiveMaxFails: 1_000 },
      hls: { errorCacheMs: 0, maxNodeAttempts: 1 },
      nodes: [
        { id: 'dead', url: dead },
        { id: 'b', url: urlB },
      ],
      routes: [
        { id: 'hls', path: '/live/', kind: 'hls', mode: 'proxy', locate: 'first' },
        { id: 'solo', path: '/solo/', kind: 'hls', mode: 'proxy', locate: 'first', nodes: ['b'] },
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await b.stop();
  });

  it('1 attempt: the first node failing is the answer, no other node is asked', async () => {
    const answer = await request(`${relay.relayUrl}/live/cam1.m3u8`);
    assert.equal(answer.status, 502);
    assert.equal(JSON.parse(answer.body.toString()).error.code, 'DIAL');
    assert.equal(b.requests.length, 0);
  });

  it("a lone node's 5xx reaches the viewer as the node sent it (status, Retry-After), not as a relay error", async () => {
    b.behaviour = () => '503';
    try {
      const answer = await request(`${relay.relayUrl}/solo/cam1.m3u8`);
      assert.equal(answer.status, 503);
      assert.equal(answer.headers['retry-after'], '5');
      assert.equal(answer.body.toString(), 'busy at b');
    } finally {
      b.behaviour = () => 'serve';
    }
  });

  it('a 5xx whose body then breaks counts once against the node', async () => {
    b.behaviour = () => '500-cut';
    try {
      const before = await passiveFailures(relay, 'b');
      const answer = await fetchCut(`${relay.relayUrl}/solo/once/seg1.ts`);
      assert.equal(answer.status, 500, 'the lone node answer, passed through');
      assert.equal(answer.complete, false, 'then cut');
      const counted = await waitFor(async () => (await passiveFailures(relay, 'b')) - before, 2000, 'the failure to be counted');
      assert.equal(counted, 1);
    } finally {
      b.behaviour = () => 'serve';
    }
  });
});
