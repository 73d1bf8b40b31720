/**
 * Slow viewers: one viewer that never reads beside 50 normal viewers. The slow one's queue
 * stays within flv.viewerQueueMaxBytes, it skips to keyframes with its drops counted, and
 * it is disconnected after flv.slowViewerTimeoutMs; the others keep the full rate.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { FlvTestViewer } from '../../../helpers/flv-viewer.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { portOf, sleep, waitFor } from '../../../helpers/http.js';

const QUEUE_BOUND = 256 * 1024;

describe('slow viewers', () => {
  // about 4.4 Mbit/s, so a stalled socket's kernel buffers fill within seconds
  const origin = new LiveFlvOrigin({ keyframeBytes: 60_000, interBytes: 20_000 });
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      flv: { viewerQueueMaxBytes: QUEUE_BOUND, slowViewerTimeoutMs: 2_000, idleCloseMs: 0 },
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('bounds the stalled viewer, counts its drops, disconnects it, and never slows the others', async () => {
    const rssBefore = process.memoryUsage().rss;
    const normal = await Promise.all(Array.from({ length: 50 }, () => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`, false).open()));
    const stalled = net.connect(portOf(relay.relayUrl), '127.0.0.1');
    stalled.on('error', () => {});
    stalled.write('GET /live/cam1.flv HTTP/1.1\r\nHost: relay\r\nUser-Agent: stalled-player\r\n\r\n');
    stalled.pause(); // never read: the kernel buffers fill, then the relay's queue
    let stalledClosed = false;
    stalled.on('close', () => (stalledClosed = true));
    let stalledGone = false;

    const stalledSession = await waitFor(
      async () => (await relay.api.call('GET', '/api/sessions')).body.find((s: any) => s.userAgent === 'stalled-player'),
      3000,
      'the stalled session',
    );
    let maxQueued = 0;
    let droppedSeen = 0;
    const startBytes = normal.map((v) => v.bytes);
    const emittedAtStart = origin.bytesEmitted;
    const windowStart = Date.now();
    while (!stalledGone && Date.now() - windowStart < 30_000) {
      const s = (await relay.api.call('GET', '/api/sessions')).body.find((x: any) => x.id === stalledSession.id);
      if (s) {
        maxQueued = Math.max(maxQueued, s.queuedBytes);
        droppedSeen = Math.max(droppedSeen, s.framesDropped);
      } else stalledGone = true;
      await sleep(100); // sampling interval of the queue/drops readings while waiting for the cut
    }
    // What the node sent meanwhile (its own clock: on a loaded machine it may send less than its nominal rate).
    const expected = origin.bytesEmitted - emittedAtStart;
    assert.ok(stalledGone, 'the relay disconnected the stalled viewer');
    stalled.resume(); // drain what the kernel holds: the connection then ends
    await waitFor(() => stalledClosed, 5000, 'the stalled socket to see the end');
    assert.ok(droppedSeen > 0, 'its dropped frames were counted');
    assert.ok(maxQueued <= QUEUE_BOUND, `its queue stayed within the bound (max ${maxQueued})`);
    const logged = (await relay.api.call('GET', '/api/requests')).body.find((e: any) => e.id === stalledSession.id);
    assert.equal(logged.errorCode, 'SLOW_VIEWER');
    assert.ok(logged.framesDropped > 0);

    for (const [i, viewer] of normal.entries()) {
      const got = viewer.bytes - startBytes[i];
      assert.ok(got >= expected * 0.9, `normal viewer ${i} got ${got} of ~${Math.round(expected)} bytes`);
      assert.equal(viewer.ended, false);
    }
    const sessions = (await relay.api.call('GET', '/api/sessions')).body;
    assert.equal(sessions.length, 50);
    assert.ok(
      sessions.every((s: any) => s.framesDropped === 0),
      'no normal viewer dropped a frame',
    );
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1048576;
    assert.ok(rssGrowthMb < 100, `RSS grew ${rssGrowthMb.toFixed(1)} MB (relay and 51 test clients in one process)`);
    normal.forEach((v) => v.close());
    await origin.waitAllClosed(2000);
    await waitFor(() => relay.engine.sessions.size === 0 && relay.engine.flvStreams.size === 0, 2000, 'maps to shrink to zero');
  });
});
