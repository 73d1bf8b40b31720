/**
 * A stream is back only when media arrives (issue 12, point 3). A node whose publisher
 * stopped still answers 200 with the FLV header, metadata and sequence headers, then
 * nothing: that is no return, so the viewers are closed within flv.failoverGraceMs of the
 * loss with UPSTREAM_LOST in their session records. A node that sends an end-of-sequence tag
 * and then keeps the connection open silent (node-media-server) has lost the stream at that
 * tag, not relay.idleStreamTimeoutMs later.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { aacSequenceHeader, avcInterframe, avcKeyframe, avcSequenceHeader, flvHeader, flvTag, metadataTag } from '../../../helpers/flv-builder.js';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { FlvTestViewer } from '../../../helpers/flv-viewer.js';
import { startRelay } from '../../../helpers/relay.js';
import { waitFor } from '../../../helpers/http.js';

const GRACE_MS = 1500;
/** An AVC end-of-sequence video tag. */
const endOfSequence = (ts: number) => flvTag(9, ts, Buffer.from([0x17, 0x02, 0, 0, 0]));
const HEAD = () => Buffer.concat([flvHeader(), metadataTag({ width: 640, height: 360 }), avcSequenceHeader(), aacSequenceHeader()]);

describe('FLV end of stream', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('headers and sequence headers without frames are not the stream returning: viewers end within the grace time, UPSTREAM_LOST', async () => {
    const origin = new LiveFlvOrigin();
    const url = await origin.start();
    cleanups.push(() => origin.stop());
    const relay = await startRelay({
      flv: { failoverGraceMs: GRACE_MS, reconnectMinMs: 50, reconnectMaxMs: 200, firstMediaTimeoutMs: 5000, idleCloseMs: 0 },
      nodes: [{ id: 'n1', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    cleanups.push(() => relay.stop());
    const viewers = await Promise.all([1, 2].map(() => new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open()));
    await waitFor(() => viewers.every((v) => v.firstKeyframeAt > 0), 3000, 'playback');
    // The publisher stops: the node now answers with headers and sequence headers only.
    origin.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.write(HEAD());
    };
    origin.cutAll();
    const lostAt = Date.now();
    await waitFor(() => viewers.every((v) => v.ended), GRACE_MS + 2000, 'the viewers to be closed');
    assert.ok(Date.now() - lostAt >= GRACE_MS - 200, 'kept for the grace time first');
    const log = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/cam1.flv');
    assert.equal(log.length, 2);
    for (const entry of log) assert.equal(entry.errorCode, 'UPSTREAM_LOST');
    assert.ok(origin.requests.length >= 2, 'the relay did ask the node again');
  });

  it('an end-of-sequence tag on a connection the node keeps open silent is the loss: viewers end within the grace time', async () => {
    const origin = new TestOrigin();
    let publishing = true;
    const players = new Set<import('node:http').ServerResponse>();
    origin.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.write(HEAD());
      if (!publishing) {
        res.write(endOfSequence(0));
        return;
      }
      res.write(Buffer.concat([avcKeyframe(0), ...Array.from({ length: 10 }, (_, i) => avcInterframe(40 * (i + 1)))]));
      players.add(res);
    };
    const url = await origin.start();
    cleanups.push(() => origin.stop());
    const relay = await startRelay({
      relay: { idleStreamTimeoutMs: 60_000 },
      flv: { failoverGraceMs: GRACE_MS, reconnectMinMs: 50, reconnectMaxMs: 200, firstMediaTimeoutMs: 500, idleCloseMs: 0 },
      nodes: [{ id: 'n1', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    cleanups.push(() => relay.stop());
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => viewer.firstKeyframeAt > 0, 3000, 'playback');
    publishing = false;
    for (const res of players) res.write(endOfSequence(440)); // and the connection stays open, silent
    const lostAt = Date.now();
    await waitFor(() => viewer.ended, GRACE_MS + 2000, 'the viewer to be closed');
    assert.ok(Date.now() - lostAt >= GRACE_MS - 200, 'kept for the grace time first');
    const [entry] = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/cam1.flv');
    assert.equal(entry.errorCode, 'UPSTREAM_LOST');
    assert.equal(
      viewer.tags.some((t) => t.type === 9 && t.bytes[12] === 2),
      false,
      'the end-of-sequence tag was not passed on',
    );
  });

  it('a node replaying the GOP the viewers already had (its publisher died, its GOP cache stayed) is not the stream returning', async () => {
    // node-media-server keeps serving a killed publisher's cached GOP: header, sequence headers,
    // the same keyframe and frames (same timestamps), then silence, on every new pull.
    const origin = new TestOrigin();
    let publishing = true;
    const players = new Set<import('node:http').ServerResponse>();
    const lastGop = () => Buffer.concat([avcKeyframe(1000), ...Array.from({ length: 5 }, (_, i) => avcInterframe(1000 + 40 * (i + 1)))]);
    origin.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'video/x-flv' });
      res.write(HEAD());
      if (!publishing) {
        res.write(lastGop()); // and nothing more
        return;
      }
      res.write(Buffer.concat([avcKeyframe(0), ...Array.from({ length: 5 }, (_, i) => avcInterframe(40 * (i + 1))), lastGop()]));
      players.add(res);
    };
    const url = await origin.start();
    cleanups.push(() => origin.stop());
    const relay = await startRelay({
      relay: { idleStreamTimeoutMs: 1000 },
      flv: { failoverGraceMs: GRACE_MS, reconnectMinMs: 50, reconnectMaxMs: 200, firstMediaTimeoutMs: 400, idleCloseMs: 0 },
      nodes: [{ id: 'n1', url }],
      routes: [{ id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' }],
    });
    cleanups.push(() => relay.stop());
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`).open();
    await waitFor(() => viewer.firstKeyframeAt > 0, 3000, 'playback');
    publishing = false;
    for (const res of players) res.destroy(); // the publisher is killed: the node drops its players
    const lostAt = Date.now();
    await waitFor(() => viewer.ended, GRACE_MS + 2000, 'the viewer to be closed');
    assert.ok(Date.now() - lostAt >= GRACE_MS - 200, 'kept for the grace time first');
    const [entry] = (await relay.api.call('GET', '/api/requests')).body.filter((e: any) => e.path === '/live/cam1.flv');
    assert.equal(entry.errorCode, 'UPSTREAM_LOST');
  });
});
