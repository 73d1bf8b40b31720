/**
 * Stream location against two real node-media-server nodes with ffmpeg publishing to one:
 * the probe finds the stream through NMS's API; when the publisher moves, the next request
 * follows within the TTL; when a node is killed, its health flips within the configured
 * checks and the locator stops choosing it; redirect and proxy both follow the locator.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { FlvTestViewer } from '../../helpers/flv-viewer.js';
import { missingTool, NMS_API_USER, publishTestStream, startNms, type NmsOrigin } from '../../helpers/media.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request, waitFor } from '../../helpers/http.js';

const skip = missingTool('ffmpeg', 'ffmpeg');
if (skip) console.log(`# skipping node-media-server locator suite: ${skip}`);

const TTL_MS = 1_500;

describe('probe locator with two real node-media-servers', { skip }, () => {
  let a: NmsOrigin;
  let b: NmsOrigin;
  let publisher: ChildProcess | undefined;
  let relay: StartedRelay;
  const resolve = async (path: string) => (await relay.api.call('GET', `/api/resolve?path=${encodeURIComponent(path)}`)).body;

  before(async () => {
    [a, b] = await Promise.all([startNms(), startNms()]);
    relay = await startRelay({
      health: { intervalMs: 200, timeoutMs: 300, fails: 2, passes: 1 },
      locator: { probeTtlMs: TTL_MS, probeRefreshMs: 500, probeTimeoutMs: 1000 },
      flv: { idleCloseMs: 0 },
      nodes: [
        { id: 'a', url: a.httpUrl, api: { type: 'nms', ...NMS_API_USER } },
        { id: 'b', url: b.httpUrl, api: { type: 'nms', ...NMS_API_USER } },
      ],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', locate: 'probe' },
        { id: 'jump', path: '/jump/', kind: 'flv', mode: 'redirect', locate: 'probe', stripPrefix: true },
      ],
    });
    publisher = publishTestStream(`${a.rtmpUrl}/live/cam1`);
  });
  after(async () => {
    publisher?.kill('SIGKILL');
    await relay?.stop();
    await a?.stop();
    await b?.stop();
  });

  it('finds the stream on the node that holds it, for proxy and redirect alike', async () => {
    const found = await waitFor(
      async () => {
        const r = await resolve('/live/cam1.flv');
        return r.nodeId === 'a' ? r : undefined;
      },
      20000,
      'the probe to find live/cam1 on a',
    );
    assert.equal(found.locator, 'probe');
    assert.equal(found.streamKey, 'live/cam1');
    assert.match(found.reason, /found on a/);
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => viewer.firstKeyframeAt > 0, 10000, 'playback through the proxy');
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'a');
    viewer.close();
    const jump = await request(`${relay.relayUrl}/jump/live/cam1.flv`);
    assert.equal(jump.status, 302);
    assert.equal(jump.headers.location, `${a.httpUrl}/live/cam1.flv`);
    const missing = await request(`${relay.relayUrl}/jump/live/nobody.flv`);
    assert.equal(missing.status, 503);
    assert.match(JSON.parse(missing.body.toString()).error.message, /no node holds "live\/nobody"/);
  });

  it('follows the publisher to the other node within the TTL', async () => {
    publisher?.kill('SIGKILL');
    publisher = publishTestStream(`${b.rtmpUrl}/live/cam1`);
    const movedAt = Date.now();
    await waitFor(async () => (await resolve('/live/cam1.flv')).nodeId === 'b', 20000, 'the location to move to b');
    const published = Date.now();
    const jump = await request(`${relay.relayUrl}/jump/live/cam1.flv`);
    assert.equal(jump.headers.location, `${b.httpUrl}/live/cam1.flv`, 'redirect follows');
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => viewer.firstKeyframeAt > 0, 10000, 'playback from b');
    assert.equal((await relay.api.call('GET', '/api/streams')).body[0].nodeId, 'b', 'proxy follows');
    viewer.close();
    console.log(`# publisher moved: the relay followed ${published - movedAt} ms later (includes ffmpeg's start; TTL ${TTL_MS} ms)`);
  });

  it('flips a killed node down within the configured checks and stops choosing it', async () => {
    b.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitFor(async () => (await relay.api.call('GET', '/api/nodes')).body.find((n: any) => n.id === 'b').status === 'down', 5000, 'b to go down');
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 2000, `down after ${tookMs} ms (2 failed checks at 200 ms)`);
    const answer = await relay.api.call('GET', '/api/resolve?path=/live/cam1.flv');
    assert.equal(answer.status, 503, 'the only holder is down: no node is handed out');
    assert.match(answer.body.error.message, /a|b/);
    const events = (await relay.api.call('GET', '/api/nodes')).body.find((n: any) => n.id === 'b');
    assert.ok(events.consecutiveFails >= 2);
  });
});
