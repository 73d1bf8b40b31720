/**
 * HLS bodies in hand are written to viewers in slices (WRITE_SLICE_BYTES, relay/hls/delivery.ts):
 * over TLS a write is encrypted into the connection's own buffer at once, so a cached 12 MB
 * segment written in one go held most of 12 MB per viewer that had not read it yet. Here
 * HTTPS/1.1 viewers that ask for it and do not read grow the relay's RSS by a slice or so each,
 * not by the object; once they read, each gets every byte. A cached segment and a rendered
 * playlist larger than TURN_WRITE_MIN_BYTES (written in turns, then in slices) arrive whole
 * over HTTP/2 and HTTP/1.1; and a stop lets a segment being written in slices finish within
 * relay.shutdownGraceMs instead of cutting it.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { TURN_WRITE_MIN_BYTES } from '../../../../electron/engine/relay/hls/delivery.js';
import { HlsOrigin } from '../../../helpers/hls-origin.js';
import { h2Get, sleep } from '../../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { TestCa, writePem } from '../../../helpers/test-ca.js';

const BIG = randomBytes(12 * 1_048_576);
const BIG_SHA = createHash('sha256').update(BIG).digest('hex');
/** A playlist of about 330 KB: over TURN_WRITE_MIN_BYTES, and several slices, once rendered. */
const LONG_PLAYLIST_ENTRIES = 7_000;
const STALLED_VIEWERS = 12;
const rssMb = () => process.memoryUsage().rss / 1_048_576;

interface RawAnswer {
  status: number;
  length: number;
  sha256: string;
  body: Buffer;
}

/** Checks a rendered long playlist: from its first line to its last, every entry there. */
function assertWholePlaylist(body: Buffer): void {
  assert.ok(body.length > TURN_WRITE_MIN_BYTES, `the rendered playlist is written in turns and slices (${body.length} bytes)`);
  const text = body.toString();
  assert.ok(text.startsWith('#EXTM3U\n') && text.endsWith('#EXT-X-ENDLIST\n'), 'the playlist arrives from its first line to its last');
  assert.equal(text.split('\n').filter((line) => line.startsWith('#EXTINF')).length, LONG_PLAYLIST_ENTRIES);
}

/** An HTTPS/1.1 GET on a raw TLS socket that reads nothing until `read()` is called. */
function stalledViewer(port: number, ca: string, urlPath: string) {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
  socket.on('error', () => {});
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => {
      socket.write(`GET ${urlPath} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      socket.pause();
      resolve();
    });
    socket.once('error', reject);
  });
  /** Read the whole answer (its body hashed as it comes; kept too when `keep`). */
  const read = (keep = false) =>
    new Promise<RawAnswer>((resolve, reject) => {
      let head = Buffer.alloc(0);
      let headEnd = -1;
      let status = 0;
      let length = 0;
      const hash = createHash('sha256');
      const kept: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => {
        if (headEnd < 0) {
          head = Buffer.concat([head, chunk]);
          headEnd = head.indexOf('\r\n\r\n');
          if (headEnd < 0) return;
          status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString('latin1'))?.[1]);
          chunk = head.subarray(headEnd + 4);
        }
        length += chunk.length;
        hash.update(chunk);
        if (keep) kept.push(chunk);
      });
      socket.once('end', () => resolve({ status, length, sha256: hash.digest('hex'), body: Buffer.concat(kept) }));
      socket.once('error', reject);
      socket.resume();
    });
  return { socket, connected, read };
}

describe('HLS bodies written in slices over TLS', () => {
  let dir: string;
  let ca: TestCa;
  let hls: HlsOrigin;
  let relay: StartedRelay;
  let tlsUrl: string;
  let port: number;
  /** The stop the last test began (the relay is stopped once). */
  let stopping: Promise<void> | undefined;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-hls-slices-'));
    ca = await TestCa.create();
    const pem = await writePem(dir, 'localhost', await ca.issue(['localhost']));
    await fs.mkdir(path.join(dir, 'hls', 'cam1'), { recursive: true });
    await fs.writeFile(path.join(dir, 'hls', 'cam1', 'big.ts'), BIG);
    const entries = Array.from({ length: LONG_PLAYLIST_ENTRIES }, (_, i) => `#EXTINF:2,\nsegment-with-a-long-name-${i}.ts\n`).join('');
    await fs.writeFile(
      path.join(dir, 'hls', 'cam1', 'long.m3u8'),
      `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n${entries}#EXT-X-ENDLIST\n`,
    );
    hls = new HlsOrigin(path.join(dir, 'hls'), '/hls/');
    const hlsUrl = await hls.start();
    relay = await startRelay({
      tls: { enabled: true, port: 0, certificates: [pem] },
      hls: { segmentMaxBytes: 32 * 1_048_576 },
      nodes: [{ id: 'h', url: hlsUrl }],
      routes: [{ id: 'hls', path: '/hls/', kind: 'hls', mode: 'proxy', nodes: ['h'] }],
    });
    tlsUrl = (await relay.api.call('GET', '/api/tls')).body.url;
    port = Number(new URL(tlsUrl).port);
  });
  after(async () => {
    await (stopping ?? relay?.stop());
    await hls?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('a cached 12 MB segment and a 330 KB playlist arrive whole over HTTP/2 and HTTPS/1.1', async () => {
    const session = http2.connect(tlsUrl, { ca: ca.ca.cert, settings: { initialWindowSize: 6 * 1_048_576 } });
    session.on('error', () => {});
    try {
      const first = await h2Get(session, '/hls/cam1/big.ts');
      const cached = await h2Get(session, '/hls/cam1/big.ts');
      assert.equal(cached.status, 200);
      assert.equal(cached.headers['x-relaydeck-cache'], 'HIT', 'the second answer comes from the cache, a complete object in hand');
      for (const answer of [first, cached]) assert.equal(createHash('sha256').update(answer.body).digest('hex'), BIG_SHA);
      const playlist = await h2Get(session, '/hls/cam1/long.m3u8');
      assert.equal(playlist.status, 200);
      assertWholePlaylist(playlist.body);
      const overHttp1 = stalledViewer(port, ca.ca.cert, '/hls/cam1/long.m3u8');
      await overHttp1.connected;
      const answer = await overHttp1.read(true);
      assert.equal(answer.status, 200);
      assertWholePlaylist(answer.body);
      assert.equal(hls.count(/big\.ts$/), 1, 'one node request for the segment');
    } finally {
      session.destroy();
    }
  });

  it('HTTPS/1.1 viewers that do not read hold a slice each, not the segment; then each reads it all', async () => {
    // The segment is in the cache (the test above, or this fetch): every viewer below gets it from the one buffer.
    const warm = stalledViewer(port, ca.ca.cert, '/hls/cam1/big.ts');
    await warm.connected;
    assert.equal((await warm.read()).sha256, BIG_SHA);

    const before = rssMb();
    const viewers = Array.from({ length: STALLED_VIEWERS }, () => stalledViewer(port, ca.ca.cert, '/hls/cam1/big.ts'));
    await Promise.all(viewers.map((viewer) => viewer.connected));
    // Long enough for the relay to hand over everything it would: the kernel buffers fill at once on loopback.
    await sleep(1_500);
    const grownMb = rssMb() - before;
    const wholeMb = (STALLED_VIEWERS * BIG.length) / 1_048_576;
    console.log(
      `# ${STALLED_VIEWERS} stalled HTTPS viewers of a cached ${BIG.length / 1_048_576} MB segment: RSS grew ${grownMb.toFixed(1)} MB (${wholeMb} MB of segment asked for)`,
    );
    assert.ok(
      grownMb < wholeMb / 4,
      `RSS grew ${grownMb.toFixed(1)} MB while ${STALLED_VIEWERS} viewers read nothing (a whole copy each would be ${wholeMb} MB)`,
    );

    const answers = await Promise.all(viewers.map((viewer) => viewer.read()));
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assert.equal(answer.length, BIG.length);
      assert.equal(answer.sha256, BIG_SHA);
    }
    assert.equal(hls.count(/big\.ts$/), 1, 'still one node request');
  });

  it('a stop lets a segment being written in slices finish (relay.shutdownGraceMs), then closes', async () => {
    const viewer = stalledViewer(port, ca.ca.cert, '/hls/cam1/big.ts');
    await viewer.connected;
    await sleep(300); // the relay has written what the connection took and waits for 'drain'
    stopping = relay.stop();
    await sleep(300);
    const answer = await viewer.read();
    assert.equal(answer.status, 200);
    assert.equal(answer.length, BIG.length, 'the whole segment, not a cut one');
    assert.equal(answer.sha256, BIG_SHA);
    await stopping;
  });
});
