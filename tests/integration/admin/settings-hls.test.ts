/**
 * The hls section of the settings calls over the admin HTTP API, through real sockets with
 * a config file: it is read with every default, a bad value is refused 400 naming the field
 * with the running config and the saved file unchanged, a good change is saved to the file,
 * and a change applies to the running relay at once (cache bounds, carried parameters).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ApiError } from '../../../shared/api.js';
import { DEFAULT_HLS_CARRY_PARAMS, DEFAULT_HLS_SEGMENT_CACHE_MAX_BYTES, DEFAULT_HLS_SEGMENT_TTL_MS } from '../../../shared/config.js';
import type { HlsCacheDto, SettingsDto } from '../../../shared/dto.js';
import { createHttpClient } from '../../../shared/http-client.js';
import { readConfigFile, writeConfigAtomic } from '../../../electron/engine/config/store.js';
import { request } from '../../helpers/http.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, testConfig, TEST_TOKEN, type StartedRelay } from '../../helpers/relay.js';

const SEGMENT = Buffer.alloc(64 * 1024, 3);
const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg1.ts\n';

/** The node: one live playlist and its segment. */
function node(req: IncomingMessage, res: ServerResponse): void {
  const pathname = (req.url ?? '').split('?')[0];
  if (pathname === '/live/cam.m3u8') res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(PLAYLIST);
  else if (pathname === '/live/seg1.ts') res.writeHead(200, { 'content-type': 'video/mp2t', 'content-length': SEGMENT.length }).end(SEGMENT);
  else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
}

describe('hls settings over the admin HTTP API', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let configPath: string;
  const segmentFetches = () => origin.requests.filter((r) => r.url.split('?')[0] === '/live/seg1.ts').length;
  const patch = (body: unknown) => relay.api.call('PATCH', '/api/settings', body);

  before(async () => {
    origin.handler = node;
    const url = await origin.start();
    const partial = { nodes: [{ id: 'n', url }], routes: [{ id: 'hls', path: '/live/', kind: 'hls', mode: 'proxy' }] };
    configPath = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-settings-')), 'config.json');
    await writeConfigAtomic(configPath, testConfig(partial));
    relay = await startRelay(partial, configPath);
  });
  after(async () => {
    await relay?.stop();
    await origin.stop();
  });

  it('GET /api/settings shows the hls section with every default', async () => {
    const answer = await relay.api.call<SettingsDto>('GET', '/api/settings');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.hls.segmentCacheMaxBytes, DEFAULT_HLS_SEGMENT_CACHE_MAX_BYTES);
    assert.equal(answer.body.hls.segmentTtlMs, DEFAULT_HLS_SEGMENT_TTL_MS);
    assert.deepEqual(answer.body.hls.carryParams, [...DEFAULT_HLS_CARRY_PARAMS]);
    assert.equal(answer.body.hls.foreignUris, 'keep');
    assert.deepEqual(answer.body.hls, relay.engine.config.hls);
  });

  it('refuses a bad hls value with 400 naming the field; the running config and the saved file stay as they were', async () => {
    const savedBefore = await fs.readFile(configPath, 'utf8');
    const runningBefore = structuredClone(relay.engine.config.hls);
    const cases: [unknown, RegExp][] = [
      [{ hls: { segmentCacheMaxBytes: -1 } }, /^body\.hls\.segmentCacheMaxBytes: expected an integer from 0 to /],
      [{ hls: { segmentTtlMs: 5_000, segmentCacheMaxBytes: 'big' } }, /^body\.hls\.segmentCacheMaxBytes: /],
      [{ hls: { playlistCachePercent: 101 } }, /^body\.hls\.playlistCachePercent: expected an integer from 0 to 100/],
      [{ hls: { foreignUris: 'drop' } }, /^body\.hls\.foreignUris: /],
      [{ hls: { carryParams: ['sign', 'bad name'] } }, /^body\.hls\.carryParams\[1\]: /],
      [{ hls: { carryParams: ['sign', '_rdh'] } }, /^hls\.carryParams\[1\]: "_rdh" is reserved/],
      [{ hls: { nope: 1 } }, /^body\.hls\.nope: unknown key/],
      [{ hls: 'all' }, /^body\.hls: /],
    ];
    for (const [body, message] of cases) {
      const answer = await patch(body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.error.code, 'BAD_CONFIG');
      assert.match(answer.body.error.message, message);
    }
    assert.equal(await fs.readFile(configPath, 'utf8'), savedBefore, 'the saved file is byte for byte the same');
    assert.deepEqual(relay.engine.config.hls, runningBefore);
    assert.deepEqual((await relay.api.call<SettingsDto>('GET', '/api/settings')).body.hls, runningBefore);
  });

  it('saves a good change to the config file, keeping the fields it does not name', async () => {
    const client = createHttpClient({ baseUrl: relay.adminUrl, token: TEST_TOKEN });
    const changed = await client.updateSettings({ body: { hls: { segmentTtlMs: 30_000, foreignUris: 'reject', carryParams: ['sign', 'auth'] } } });
    assert.equal(changed.hls.segmentTtlMs, 30_000);
    assert.equal(changed.hls.foreignUris, 'reject');
    assert.deepEqual(changed.hls.carryParams, ['sign', 'auth']);
    assert.equal(changed.hls.segmentCacheMaxBytes, DEFAULT_HLS_SEGMENT_CACHE_MAX_BYTES, 'a field not named is kept');
    assert.equal(changed.restartNeeded, false);
    const saved = await readConfigFile(configPath);
    assert.deepEqual(saved.hls, changed.hls);
    assert.deepEqual((await client.getSettings({})).hls, changed.hls);
    await assert.rejects(
      client.updateSettings({ body: { hls: { segmentMaxBytes: 10 } } }),
      (error: ApiError) => error.status === 400 && /^body\.hls\.segmentMaxBytes: /.test(error.message),
    );
    assert.deepEqual((await readConfigFile(configPath)).hls, changed.hls);
  });

  it('applies live: carried parameters from the next playlist, a lowered cache bound at once', async () => {
    const rewritten = async () => (await request(`${relay.relayUrl}/live/cam.m3u8?auth=abc&other=1`)).body.toString();
    await patch({ hls: { carryParams: ['sign'] } });
    assert.doesNotMatch(await rewritten(), /auth=abc/);
    await patch({ hls: { carryParams: ['sign', 'auth'] } });
    assert.match(await rewritten(), /seg1\.ts\?[^\n]*auth=abc/);

    assert.equal((await request(`${relay.relayUrl}/live/seg1.ts`)).body.length, SEGMENT.length);
    assert.equal((await request(`${relay.relayUrl}/live/seg1.ts`)).body.length, SEGMENT.length);
    assert.equal(segmentFetches(), 1, 'the second request is a cache hit');
    const cached = (await relay.api.call<HlsCacheDto>('GET', '/api/hls/cache')).body;
    assert.equal(cached.segmentEntries, 1);

    assert.equal((await patch({ hls: { segmentCacheMaxBytes: 0 } })).status, 200);
    const emptied = (await relay.api.call<HlsCacheDto>('GET', '/api/hls/cache')).body;
    assert.equal(emptied.segmentMaxBytes, 0);
    assert.equal(emptied.segmentEntries, 0, 'the cache is trimmed to the new bound at once');
    assert.equal((await request(`${relay.relayUrl}/live/seg1.ts`)).body.length, SEGMENT.length);
    assert.equal((await request(`${relay.relayUrl}/live/seg1.ts`)).body.length, SEGMENT.length);
    assert.equal(segmentFetches(), 3, 'with caching off every request goes to the node');
    assert.equal((await readConfigFile(configPath)).hls.segmentCacheMaxBytes, 0);
  });
});
