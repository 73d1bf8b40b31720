/**
 * The probe locator through real sockets: each adapter's answer format (SRS, MediaMTX,
 * ZLMediaKit, HEAD), concurrent lookups sharing one probe, the TTL, dropping a location
 * when its node goes down, and a slow node that blocks nobody else.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { parseConfig, type NodeConfig } from '../../../shared/config.js';
import { createLogger } from '../../../electron/engine/core/log.js';
import { UpstreamTransport } from '../../../electron/engine/upstream/transport.js';
import { listStreams } from '../../../electron/engine/upstream/adapters.js';
import { StreamProbe } from '../../../electron/engine/upstream/probe.js';
import { NodeRegistry } from '../../../electron/engine/upstream/registry.js';
import { sleep } from '../../helpers/http.js';

interface FakeApi {
  url: string;
  hits: number;
  answer: (path: string) => { status?: number; json?: unknown; delayMs?: number };
  close: () => Promise<void>;
}

async function fakeApi(answer: FakeApi['answer']): Promise<FakeApi> {
  const api: FakeApi = { url: '', hits: 0, answer, close: async () => {} };
  const server = http.createServer((req, res) => {
    api.hits += 1;
    const { status = 200, json, delayMs = 0 } = api.answer(req.url ?? '');
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(json === undefined ? '' : JSON.stringify(json));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  api.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.close = () => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return api;
}

const node = (id: string, url: string, api: unknown): NodeConfig => parseConfig({ nodes: [{ id, url, api }] }).nodes[0];

describe('stream probe', () => {
  const apis: FakeApi[] = [];
  after(async () => {
    for (const api of apis) await api.close();
  });

  it('reads SRS, MediaMTX and ZLMediaKit stream lists', async () => {
    const srs = await fakeApi(() => ({
      json: {
        code: 0,
        streams: [
          { app: 'live', name: 'cam1', publish: { active: true } },
          { app: 'live', name: 'gone', publish: { active: false } },
        ],
      },
    }));
    const mtx = await fakeApi(() => ({
      json: {
        itemCount: 2,
        items: [
          { name: 'live/cam2', ready: true },
          { name: 'live/idle', ready: false },
        ],
      },
    }));
    const transport = new UpstreamTransport({ maxIdleSockets: 0 });
    const zlm = await fakeApi((path) => ({
      json: path.includes('secret=s3cret')
        ? {
            code: 0,
            data: [
              { app: 'live', stream: 'cam3', schema: 'rtmp' },
              { app: 'live', stream: 'cam3', schema: 'hls' },
            ],
          }
        : { code: -100, msg: 'bad secret' },
    }));
    apis.push(srs, mtx, zlm);
    assert.deepEqual([...(await listStreams(node('s', srs.url, { type: 'srs' }), 1000, transport))], ['live/cam1']);
    assert.deepEqual([...(await listStreams(node('m', mtx.url, { type: 'mediamtx' }), 1000, transport))], ['live/cam2']);
    assert.deepEqual([...(await listStreams(node('z', zlm.url, { type: 'zlm', secret: 's3cret' }), 1000, transport))], ['live/cam3']);
    await assert.rejects(listStreams(node('z', zlm.url, { type: 'zlm', secret: 'wrong' }), 1000, transport), /code -100/);
  });

  function probeOver(nodes: NodeConfig[], locator: Record<string, number> = {}) {
    const config = parseConfig({ health: { intervalMs: 0 }, locator: { probeRefreshMs: 0, ...locator }, nodes });
    const registry = new NodeRegistry(createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
    registry.sync(config);
    const probe = new StreamProbe(registry, () => config.locator, createLogger('test'), new UpstreamTransport({ maxIdleSockets: 0 }));
    return { registry, probe, nodes: config.nodes, stop: () => registry.stop() };
  }

  it('shares one probe among concurrent lookups, caches for the TTL, then asks again', async () => {
    const api = await fakeApi(() => ({ json: { streams: [{ app: 'live', name: 'cam1', publish: { active: true } }] }, delayMs: 50 }));
    apis.push(api);
    const { probe, nodes, stop } = probeOver([{ id: 'a', url: api.url, api: { type: 'srs' } } as never], { probeTtlMs: 300 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => probe.locate('live/cam1', nodes, () => '/live/cam1.flv')));
    assert.equal(api.hits, 1, 'one probe for 20 concurrent lookups');
    assert.ok(answers.every((a) => a.nodeIds[0] === 'a'));
    const cached = await probe.locate('live/cam1', nodes, () => '');
    assert.equal(cached.source, 'cache');
    assert.equal(api.hits, 1);
    await sleep(320); // kept: the TTL (300 ms) passing is the input under test
    const fresh = await probe.locate('live/cam1', nodes, () => '');
    assert.equal(fresh.source, 'probe', 'the TTL expired');
    assert.equal(api.hits, 2);
    stop();
  });

  it('drops a location when its node goes down', async () => {
    const api = await fakeApi(() => ({ json: { streams: [{ app: 'live', name: 'cam1' }] } }));
    apis.push(api);
    const { registry, probe, nodes, stop } = probeOver([{ id: 'a', url: api.url, api: { type: 'srs' }, health: { passiveMaxFails: 1 } } as never], {
      probeTtlMs: 60_000,
    });
    await probe.locate('live/cam1', nodes, () => '');
    registry.recordFailure('a', 'DIAL'); // one passive failure takes it down
    assert.equal(registry.get('a')!.status, 'down');
    const before = api.hits;
    await probe.locate('live/cam1', nodes, () => '');
    assert.equal(api.hits, before + 1, 'the cached location was dropped, so it asked again');
    stop();
  });

  it('does not wait for a slow node when another node holds the stream', async () => {
    const slow = await fakeApi(() => ({ json: { streams: [] }, delayMs: 1_000 }));
    const fast = await fakeApi(() => ({ json: { streams: [{ app: 'live', name: 'cam1' }] } }));
    apis.push(slow, fast);
    const { probe, nodes, stop } = probeOver([
      { id: 'slow', url: slow.url, api: { type: 'srs' } } as never,
      { id: 'fast', url: fast.url, api: { type: 'srs' } } as never,
    ]);
    const started = Date.now();
    const answer = await probe.locate('live/cam1', nodes, () => '');
    assert.deepEqual(answer.nodeIds, ['fast']);
    assert.ok(Date.now() - started < 500, `answered in ${Date.now() - started} ms, not after the slow node's 1 s`);
    stop();
  });

  it('asks nodes without a list API with HEAD on the stream URL', async () => {
    const head = await fakeApi((path) => ({ status: path.startsWith('/live/cam1') ? 200 : 404 }));
    apis.push(head);
    const { probe, nodes, stop } = probeOver([{ id: 'h', url: head.url, api: { type: 'head' } } as never]);
    assert.deepEqual((await probe.locate('live/cam1', nodes, () => '/live/cam1.flv')).nodeIds, ['h']);
    assert.deepEqual((await probe.locate('live/cam9', nodes, () => '/live/cam9.flv')).nodeIds, []);
    stop();
  });
});
