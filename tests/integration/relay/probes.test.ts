/**
 * Health probes on the relay port (issue 12 point 9): /healthz answers 200 while the process
 * serves, /readyz 200 when ready and 503 with a reason while paused or stopping; both GET and
 * HEAD, answered before routing (a route on "/" does not shadow them), outside stats and the
 * request log; paths configurable, "" turns one off.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { request, portOf } from '../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const json = (body: Buffer) => JSON.parse(body.toString('utf8'));

describe('health probes', () => {
  let relay: StartedRelay;
  before(async () => {
    relay = await startRelay({ nodes: [{ id: 'a', url: 'http://127.0.0.1:9' }], routes: [{ id: 'root', path: '/', kind: 'file', mode: 'redirect' }] });
  });
  after(() => relay.stop());

  it('GET /healthz and /readyz answer 200 JSON before the route on "/", HEAD without a body', async () => {
    const health = await request(`${relay.relayUrl}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(json(health.body), { status: 'ok' });
    assert.match(String(health.headers['content-type']), /^application\/json/);
    const ready = await request(`${relay.relayUrl}/readyz?probe=k8s`);
    assert.equal(ready.status, 200);
    assert.deepEqual(json(ready.body), { status: 'ready' });
    const head = await request(`${relay.relayUrl}/readyz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal((await request(`${relay.relayUrl}/healthz`, { method: 'POST' })).status, 405);
    assert.equal((await request(`${relay.relayUrl}/other`)).status, 302, 'the route on "/" still takes every other path');
  });

  it('probes are not counted in the route stats nor in the request log', async () => {
    const before = relay.engine.stats.route('root').requests;
    const logged = relay.engine.sessions.recent().length;
    for (let i = 0; i < 3; i += 1) await request(`${relay.relayUrl}/healthz`);
    await request(`${relay.relayUrl}/readyz`, { method: 'HEAD' });
    assert.equal(relay.engine.stats.route('root').requests, before);
    assert.equal(relay.engine.sessions.recent().length, logged);
  });

  it('while paused: /readyz 503 with the reason, /healthz still 200', async () => {
    relay.engine.setPaused(true);
    try {
      const ready = await request(`${relay.relayUrl}/readyz`);
      assert.equal(ready.status, 503);
      assert.equal(json(ready.body).status, 'unready');
      assert.match(json(ready.body).reason, /paused/);
      assert.equal((await request(`${relay.relayUrl}/healthz`)).status, 200);
    } finally {
      relay.engine.setPaused(false);
    }
    assert.equal((await request(`${relay.relayUrl}/readyz`)).status, 200);
  });

  it('configurable paths; an empty path turns the probe off (the path goes to the routes again)', async () => {
    await relay.engine.changeConfig((draft) => {
      draft.relay.healthPath = '/ops/alive';
      draft.relay.readyPath = '';
    });
    try {
      assert.deepEqual(json((await request(`${relay.relayUrl}/ops/alive`)).body), { status: 'ok' });
      assert.equal((await request(`${relay.relayUrl}/readyz`)).status, 302, 'readyz is off: the route answers');
      assert.equal((await request(`${relay.relayUrl}/healthz`)).status, 302);
    } finally {
      await relay.engine.changeConfig((draft) => {
        draft.relay.healthPath = '/healthz';
        draft.relay.readyPath = '/readyz';
      });
    }
  });

  it('validation names the field', () => {
    assert.throws(() => parseConfig({ relay: { healthPath: 'healthz' } }), /relay\.healthPath: expected an empty string or a path starting with "\/"/);
    assert.throws(() => parseConfig({ relay: { readyPath: '/healthz' } }), /relay\.readyPath: must differ from relay\.healthPath/);
    assert.throws(() => parseConfig({ relay: { readyPath: '/r?x=1' } }), /relay\.readyPath/);
    assert.equal(parseConfig({ relay: { healthPath: '', readyPath: '' } }).relay.healthPath, '');
  });
});

describe('readiness while stopping', () => {
  it('a request that arrives on an open connection during shutdown gets /readyz 503 "stopping"', async () => {
    const relay = await startRelay({ relay: { shutdownGraceMs: 10_000 } });
    // The request head is half sent: the connection is busy, so stopping does not close it.
    const socket = net.connect(portOf(relay.relayUrl), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /readyz HTTP/1.1\r\nHost: relay\r\n');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    // A full exchange on another connection, opened after those bytes were sent: the server has read them by its end.
    assert.equal((await request(`${relay.relayUrl}/healthz`)).status, 200);
    const stopped = relay.stop();
    socket.end('\r\n');
    await closed;
    await stopped;
    assert.match(answer, /^HTTP\/1\.1 503 /);
    assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { status: 'unready', reason: 'stopping' });
  });
});
