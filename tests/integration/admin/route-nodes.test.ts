/**
 * Issue 12, point 4, through the admin HTTP API of a real engine on a first run (the demo
 * node installed, listed first) with two real FLV origins as the operator's own nodes, each
 * holding a different stream: a route created without `nodes` never uses the demo node (the
 * demo's own routes name it and still play); a route with no node of its own, and a switch
 * to redirect with locate "first" over two nodes, answer with warnings (update call and
 * resolve check); redirect with static, probe and hash sends the viewer to a node that
 * holds the stream, without a warning.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import type { ResolveDto, RouteSavedDto } from '../../../shared/dto.js';
import { Engine } from '../../../electron/engine/engine.js';
import { HttpApiClient } from '../../helpers/api-client.js';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { TEST_TOKEN } from '../../helpers/relay.js';

/** One GET without following redirects: status and Location; the body is not read. */
function head(url: string): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      res.destroy();
    });
    req.on('error', reject);
  });
}

describe('routes and the demo node; redirect warnings (admin HTTP API)', () => {
  const originA = new LiveFlvOrigin();
  const originB = new LiveFlvOrigin();
  let home: string;
  let engine: Engine;
  let api: HttpApiClient;
  let urlA: string;
  let urlB: string;
  const resolve = async (p: string) => (await api.call<ResolveDto>('GET', `/api/resolve?path=${encodeURIComponent(p)}`)).body;

  before(async () => {
    originA.streams = new Set(['/live/cam1.flv']);
    originB.streams = new Set(['/live/cam2.flv']);
    // The test origin streams for ever and so never sends the head of a HEAD answer; a media
    // server answers HEAD at once (what the "probe" locator asks a node without a stream API).
    for (const origin of [originA, originB]) {
      const serve = origin.handler;
      origin.handler = (req, res) =>
        req.method === 'HEAD' ? res.writeHead(origin.streams.has((req.url ?? '').split('?')[0]) ? 200 : 404).end() : serve(req, res);
    }
    urlA = await originA.start();
    urlB = await originB.start();
    home = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-route-nodes-'));
    // A first run: a saved config with nothing in it, so the engine installs the demo node.
    const config = parseConfig({ relay: { port: 0, shutdownGraceMs: 0 }, admin: { port: 0, token: TEST_TOKEN }, health: { intervalMs: 0 }, demo: undefined });
    engine = await Engine.start({ config, configPath: path.join(home, 'config.json') });
    api = new HttpApiClient(engine.adminUrl, TEST_TOKEN);
    assert.equal(engine.config.nodes[0]?.id, 'demo', 'the demo node is installed, first');
  });

  after(async () => {
    await engine?.stop();
    await originA.stop();
    await originB.stop();
    await fs.rm(home, { recursive: true, force: true });
  });

  it('a route without nodes while only the demo node exists: saved, with a warning, and NO_NODE (never the demo)', async () => {
    const created = await api.call<RouteSavedDto>('POST', '/api/routes', { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.nodes, undefined);
    assert.equal(created.body.warnings.length, 1);
    assert.match(created.body.warnings[0], /route "live" has no node \(the demo node serves only routes that name it\)/);
    const refused = await api.call<{ error: { code: string } }>('GET', `/api/resolve?path=${encodeURIComponent('/live/cam1.flv')}`);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'NO_NODE');
    assert.equal((await head(`${engine.relayUrl}/live/cam1.flv`)).status, 503);
  });

  it('with nodes of its own, "all nodes" means those: the demo node is not among them; the demo routes still use it', async () => {
    for (const [id, url] of [
      ['edgeA', urlA],
      ['edgeB', urlB],
    ])
      assert.equal((await api.call('POST', '/api/nodes', { id, url })).status, 201);
    const answer = await resolve('/live/cam1.flv');
    assert.equal(answer.nodeId, 'edgeA');
    assert.deepEqual(answer.fallbackNodeIds, ['edgeB']);
    assert.deepEqual(answer.warnings, []);
    // Proxy mode fails over on a node's 404: cam2 (only on B) plays.
    assert.equal((await head(`${engine.relayUrl}/live/cam2.flv`)).status, 200);
    const demo = await resolve('/demo/live.flv');
    assert.equal(demo.nodeId, 'demo');
    assert.equal((await head(`${engine.relayUrl}/demo/live.flv`)).status, 200);
  });

  it('switching to redirect with locate "first" over two nodes: the update answer and the resolve check warn', async () => {
    const updated = await api.call<RouteSavedDto>('PATCH', '/api/routes/live', { mode: 'redirect' });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.equal(updated.body.mode, 'redirect');
    assert.equal(updated.body.warnings.length, 1);
    assert.match(updated.body.warnings[0], /redirects with locate "first" over 2 nodes \(edgeA, edgeB\)/);
    const answer = await resolve('/live/cam2.flv');
    assert.deepEqual(answer.warnings, updated.body.warnings);
    // What the warning is about: cam2 is only on B, the viewer is sent to A and gets A's 404.
    const redirected = await head(`${engine.relayUrl}/live/cam2.flv`);
    assert.equal(redirected.status, 302);
    assert.equal(redirected.location, `${urlA}/live/cam2.flv`);
    assert.equal((await head(redirected.location!)).status, 404);
    // The list call keeps the config shape (no warnings field): a listed route can be PUT back as is.
    const listed = (await api.call<Record<string, unknown>[]>('GET', '/api/routes')).body.find((r) => r.id === 'live')!;
    assert.equal('warnings' in listed, false);
    assert.equal((await api.call('PUT', '/api/routes/live', listed)).status, 200);
  });

  for (const locate of ['static', 'probe', 'hash'] as const) {
    it(`redirect with locate "${locate}": no warning, and the viewer is sent to a node that holds the stream`, async () => {
      const body =
        locate === 'static'
          ? {
              locate,
              static: [
                { match: 'live/cam1', node: 'edgeA' },
                { match: 'live/cam2', node: 'edgeB' },
              ],
            }
          : { locate, static: undefined };
      const current = (await api.call<Record<string, unknown>[]>('GET', '/api/routes')).body.find((r) => r.id === 'live')!;
      const replaced = await api.call<RouteSavedDto>('PUT', '/api/routes/live', { ...current, ...body });
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
      assert.deepEqual(replaced.body.warnings, []);
      for (const [stream, origin] of [
        ['/live/cam1.flv', urlA],
        ['/live/cam2.flv', urlB],
      ]) {
        const answer = await resolve(stream);
        assert.deepEqual(answer.warnings, [], JSON.stringify(answer));
        const redirected = await head(`${engine.relayUrl}${stream}`);
        assert.equal(redirected.status, 302);
        assert.equal(redirected.location, answer.url, 'the resolve check names the Location the relay gives');
        if (locate === 'hash') {
          // The hash spreads streams over the nodes whatever they hold: it names one of them, consistently.
          assert.ok([`${urlA}${stream}`, `${urlB}${stream}`].includes(redirected.location!));
          assert.equal((await head(`${engine.relayUrl}${stream}`)).location, redirected.location);
        } else {
          assert.equal(redirected.location, `${origin}${stream}`);
          assert.equal((await head(redirected.location!)).status, 200);
        }
      }
    });
  }
});
