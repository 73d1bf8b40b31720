/**
 * Real media clients over the relay's HTTPS listener, trusting only a test CA: ffprobe
 * decodes a live HTTP-FLV stream (node-media-server fed by ffmpeg, through the fan-out) and a
 * live HLS stream (ffmpeg writing HLS, through the HLS proxy), and curl follows nothing but
 * reads the redirect and a proxied file, verifying the certificate by name.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HlsOrigin, startLiveHls, tempDir, type LiveHls } from '../../helpers/hls-origin.js';
import { waitFor } from '../../helpers/http.js';
import { ffprobe, missingTool, publishTestStream, startNms, type NmsOrigin, streamIsUp } from '../../helpers/media.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { TestCa, writePem } from '../../helpers/test-ca.js';

const run = promisify(execFile);
const skip = missingTool('ffmpeg', 'ffmpeg') || missingTool('ffprobe', 'ffmpeg') || missingTool('curl', 'curl');
if (skip) console.log(`# skipping HTTPS media clients suite: ${skip}`);

describe('HTTPS: ffprobe and curl through the relay', { skip }, () => {
  let dir: string;
  let caFile: string;
  let nms: NmsOrigin;
  let publisher: ChildProcess;
  let live: LiveHls;
  let hlsOrigin: HlsOrigin;
  let relay: StartedRelay;
  let tlsUrl: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-tls-media-'));
    const ca = await TestCa.create();
    caFile = path.join(dir, 'ca.pem');
    await writeFile(caFile, ca.ca.cert);
    const files = await writePem(dir, 'relay', await ca.issue(['relay.test']));
    nms = await startNms();
    publisher = publishTestStream(`${nms.rtmpUrl}/live/cam1`);
    live = await startLiveHls(await tempDir('relaydeck-tls-hls-'));
    hlsOrigin = new HlsOrigin(live.dir, '/');
    const hlsUrl = await hlsOrigin.start();
    await waitFor(() => streamIsUp(`${nms.httpUrl}/live/cam1.flv`), 20_000, 'the FLV stream on the node');
    relay = await startRelay({
      tls: { enabled: true, port: 0, certificates: [files] },
      nodes: [
        { id: 'nms', url: nms.httpUrl },
        { id: 'hls', url: hlsUrl },
      ],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['nms'] },
        { id: 'tv', path: '/tv/', kind: 'hls', mode: 'proxy', nodes: ['hls'], stripPrefix: true },
        { id: 'files', path: '/files/', kind: 'file', mode: 'proxy', nodes: ['hls'], stripPrefix: true },
        { id: 'r', path: '/r/', kind: 'file', mode: 'redirect', nodes: ['hls'], stripPrefix: true },
      ],
    });
    tlsUrl = (await relay.api.call('GET', '/api/tls')).body.url;
    await waitFor(async () => (await run('ls', [live.dir])).stdout.includes('index.m3u8'), 20_000, 'the HLS playlist on the node');
  });
  after(async () => {
    publisher?.kill('SIGKILL');
    await relay?.stop();
    await nms?.stop();
    await hlsOrigin?.stop();
    await live?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('ffprobe decodes the live HTTP-FLV stream over HTTPS, verifying the certificate', async () => {
    const probe = await ffprobe(`${tlsUrl}/live/cam1.flv`, 20, ['-ca_file', caFile, '-tls_verify', '1']);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    assert.equal(probe.streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
    const [stream] = (await relay.api.call('GET', '/api/streams')).body;
    assert.equal(stream.upstreamOpened, 1, 'one pull, as over plain HTTP');
  });

  it('ffprobe decodes the live HLS stream over HTTPS (playlist and segments through the relay)', async () => {
    const probe = await ffprobe(`${tlsUrl}/tv/index.m3u8`, 20, ['-ca_file', caFile, '-tls_verify', '1']);
    assert.equal(probe.streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
    const { body: streams } = await relay.api.call('GET', '/api/hls/streams');
    assert.ok(streams.length >= 1 && streams[0].segmentRequests >= 1, JSON.stringify(streams));
  });

  it('curl verifies the certificate by name and reads a redirect and a proxied playlist over HTTPS', async () => {
    const port = new URL(tlsUrl).port;
    const curl = (pathname: string) =>
      run('curl', [
        '-sS',
        '--cacert',
        caFile,
        '--resolve',
        `relay.test:${port}:127.0.0.1`,
        '-o',
        '/dev/null',
        '-w',
        '%{http_code} %{redirect_url}',
        `https://relay.test:${port}${pathname}`,
      ]);
    const redirect = await curl('/r/index.m3u8');
    assert.match(redirect.stdout, /^302 http:\/\/127\.0\.0\.1:\d+\/index\.m3u8$/);
    assert.equal((await curl('/files/index.m3u8')).stdout.trim(), '200');
    // The wrong name is refused by curl's own verification: the test trusts the CA, not any certificate.
    await assert.rejects(
      run('curl', ['-sS', '--cacert', caFile, '--resolve', `other.test:${port}:127.0.0.1`, `https://other.test:${port}/files/index.m3u8`]),
      /SSL|certificate|subject/i,
    );
  });
});
