/**
 * flv.tlsWriteBatchMs through real TLS connections: the relay's HTTPS, HTTP/2 and wss://
 * viewers get the live stream in merged writes, counted as TLS records on the wire (the
 * client reads the raw TCP bytes under its TLS session), while a plain-HTTP viewer of the
 * same stream still gets each upstream chunk at once; every tag arrives, in order. Turning
 * the setting to 0 (live, PATCH /api/settings) gives every chunk its own record again.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer, timestampViolation } from '../../../helpers/flv-viewer.js';
import { sleep, waitFor } from '../../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { TestCa, writePem } from '../../../helpers/test-ca.js';

const MERGE_MS = 100;
const WINDOW_MS = 2_000;
const URL_PATH = '/live/cam1.flv';
/** TLS record content type of application data (RFC 8446 §5.1). */
const APPLICATION_DATA = 23;

/** A TLS connection whose raw TCP bytes are read too: `records` counts the application-data records the server sent. */
class TappedTls {
  records = 0;
  /** The next record's header while incomplete, and the bytes of the record being read still to come. */
  private header = Buffer.alloc(0);
  private remaining = 0;
  readonly socket: tls.TLSSocket;

  constructor(port: number, ca: string, alpn: string[]) {
    const raw = net.connect(port, '127.0.0.1');
    // A JS stream between TLS and the TCP socket: given the socket itself, TLS would read its handle directly, past any listener.
    const between = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, done) {
        raw.write(chunk, done);
      },
      final(done) {
        raw.end();
        done();
      },
      destroy(error, done) {
        raw.destroy();
        done(error);
      },
    });
    raw.on('data', (chunk: Buffer) => {
      this.read(chunk);
      between.push(chunk);
    });
    raw.on('end', () => between.push(null));
    raw.on('error', (error) => between.destroy(error));
    this.socket = tls.connect({ socket: between, ca, servername: 'relay.test', ALPNProtocols: alpn });
  }

  private read(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        this.remaining -= take;
        at += take;
        continue;
      }
      const need = 5 - this.header.length;
      this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)]);
      at += Math.min(need, chunk.length - at);
      if (this.header.length < 5) return;
      if (this.header[0] === APPLICATION_DATA) this.records += 1;
      this.remaining = this.header.readUInt16BE(3);
      this.header = Buffer.alloc(0);
    }
  }
}

/** Bytes a client got of the FLV stream, and the TLS records they came in. */
interface Watched {
  bytes: () => number;
  records: () => number;
  close: () => void;
}

function httpsViewer(port: number, ca: string): Promise<Watched> {
  const tapped = new TappedTls(port, ca, ['http/1.1']);
  let bytes = 0;
  tapped.socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  tapped.socket.on('error', () => {});
  tapped.socket.write(`GET ${URL_PATH} HTTP/1.1\r\nHost: relay.test\r\n\r\n`);
  return Promise.resolve({ bytes: () => bytes, records: () => tapped.records, close: () => tapped.socket.destroy() });
}

function h2Viewer(port: number, ca: string): Promise<Watched> {
  const tapped = new TappedTls(port, ca, ['h2']);
  const session = http2.connect('https://relay.test', { createConnection: () => tapped.socket });
  session.on('error', () => {});
  const request = session.request({ ':path': URL_PATH });
  let bytes = 0;
  request.on('data', (chunk: Buffer) => (bytes += chunk.length));
  request.on('error', () => {});
  return Promise.resolve({ bytes: () => bytes, records: () => tapped.records, close: () => session.destroy() });
}

function wssViewer(port: number, ca: string): Promise<Watched> {
  const tapped = new TappedTls(port, ca, ['http/1.1']);
  const ws = new WebSocket(`wss://relay.test${URL_PATH}`, { createConnection: () => tapped.socket });
  let bytes = 0;
  ws.on('message', (data: Buffer) => (bytes += data.length));
  ws.on('error', () => {});
  return Promise.resolve({ bytes: () => bytes, records: () => tapped.records, close: () => ws.terminate() });
}

/** Records and bytes over WINDOW_MS, once the viewer is receiving. */
async function measure(viewer: Watched): Promise<{ records: number; bytes: number }> {
  await waitFor(() => viewer.bytes() > 0, 5_000, 'the first bytes');
  await sleep(300); // kept: the start (header and cached GOP) is left out of the window
  const records0 = viewer.records();
  const bytes0 = viewer.bytes();
  await sleep(WINDOW_MS); // kept: the measurement window (records per merge interval are counted over it)
  return { records: viewer.records() - records0, bytes: viewer.bytes() - bytes0 };
}

/** A relay with an HTTPS listener (certificate for relay.test from a test CA) in front of `origin`, with these flv settings. */
class TlsRelayFixture {
  dir = '';
  ca = '';
  port = 0;
  relay!: StartedRelay;

  constructor(
    readonly origin: LiveFlvOrigin,
    private readonly flv: Record<string, number>,
  ) {}

  async start(): Promise<void> {
    this.dir = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-tls-merge-'));
    const authority = await TestCa.create();
    this.ca = authority.ca.cert;
    const files = await writePem(this.dir, 'relay', await authority.issue(['relay.test']));
    const url = await this.origin.start();
    this.relay = await startRelay({
      tls: { enabled: true, port: 0, http2: true, certificates: [files] },
      flv: { idleCloseMs: 0, ...this.flv },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    this.port = Number(new URL((await this.relay.api.call('GET', '/api/tls')).body.url).port);
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await this.origin.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

describe(`FLV viewers over TLS with flv.tlsWriteBatchMs ${MERGE_MS}`, () => {
  const fixture = new TlsRelayFixture(new LiveFlvOrigin({ fps: 25, gopFrames: 25 }), { tlsWriteBatchMs: MERGE_MS });
  before(() => fixture.start());
  after(() => fixture.stop());

  for (const [name, open] of [
    ['HTTPS/1.1', httpsViewer],
    ['HTTP/2', h2Viewer],
    ['wss://', wssViewer],
  ] as const) {
    it(`${name}: about one TLS record per merge interval, every byte delivered`, async () => {
      const plain = await new FlvTestViewer(`${fixture.relay.relayUrl}${URL_PATH}`).open();
      const viewer = await open(fixture.port, fixture.ca);
      const [merged] = await Promise.all([measure(viewer), sleep(0)]);
      const plainReads0 = plain.reads;
      await sleep(500); // kept: plain viewer's reads over a short window
      const plainReads = plain.reads - plainReads0;
      // 25 video frames a second plus audio: unmerged, at least one record per video frame (50 in the window).
      const most = (WINDOW_MS / MERGE_MS) * 1.5 + 4;
      assert.ok(merged.records <= most, `${merged.records} TLS records in ${WINDOW_MS} ms (at most ${most} when merged)`);
      assert.ok(merged.records >= WINDOW_MS / MERGE_MS / 2, `${merged.records} TLS records in ${WINDOW_MS} ms: the stream flows in merges`);
      // 2 s of the origin's stream: 25 frames/s, a 12,000-byte keyframe each second, 3,000-byte frames between.
      assert.ok(merged.bytes > 100_000, `${merged.bytes} bytes in ${WINDOW_MS} ms`);
      // The plain viewer is not held: a read per upstream chunk (25 video frames a second and audio).
      assert.ok(plainReads >= 10, `plain HTTP viewer: ${plainReads} reads in 500 ms`);
      assert.equal(plain.parseError, undefined);
      assert.equal(timestampViolation(plain), undefined);
      viewer.close();
      plain.close();
      await waitFor(() => fixture.relay.engine.sessions.size === 0, 3_000, 'the sessions to end');
    });
  }

  it('set to 0 live: each upstream chunk is its own TLS record again', async () => {
    const changed = await fixture.relay.api.call('PATCH', '/api/settings', { flv: { tlsWriteBatchMs: 0 } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    const viewer = await httpsViewer(fixture.port, fixture.ca);
    const unmerged = await measure(viewer);
    assert.ok(unmerged.records >= 40, `${unmerged.records} TLS records in ${WINDOW_MS} ms unmerged (one per chunk)`);
    viewer.close();
    await waitFor(() => fixture.relay.engine.sessions.size === 0, 3_000, 'the sessions to end');
  });
});

describe('FLV viewers over TLS: merged writes within a small queue bound', () => {
  // 25 frames a second of 8,000 bytes (a 12,000-byte keyframe each second): 1.6 Mbit/s, so 100 ms of it (about 20 KB) is more
  // than the whole queue bound (16 KiB, the least allowed). Held bytes must not count the viewer as slow.
  const fixture = new TlsRelayFixture(new LiveFlvOrigin({ fps: 25, gopFrames: 25, interBytes: 8_000 }), {
    tlsWriteBatchMs: MERGE_MS,
    viewerQueueMaxBytes: 16_384,
  });
  before(() => fixture.start());
  after(() => fixture.stop());

  it('a viewer that keeps up drops no frame: it holds at most a quarter of the bound, so its queue keeps room', async () => {
    const viewer = await httpsViewer(fixture.port, fixture.ca);
    const got = await measure(viewer);
    const sessions = (await fixture.relay.api.call<{ framesDropped?: number }[]>('GET', '/api/sessions')).body;
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].framesDropped ?? 0, 0, `no frame dropped: ${JSON.stringify(sessions[0])}`);
    // 2 s of a 200,000-byte-a-second stream.
    assert.ok(got.bytes > 300_000, `${got.bytes} bytes in ${WINDOW_MS} ms`);
    viewer.close();
    await waitFor(() => fixture.relay.engine.sessions.size === 0, 3_000, 'the sessions to end');
  });
});
