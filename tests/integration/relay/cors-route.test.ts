/**
 * Per-route CORS (issue 14 point 5), through real sockets: a route that lists origins allows
 * only those, echoing the Origin with `Vary: Origin`, on every kind of answer (preflight,
 * redirect, proxied file with both proxy engines, FLV fan-out, HLS playlist and segment, the
 * relay's own errors); a request from another origin is answered without any allowance; the
 * node's own access-control-* headers are replaced by the route's; with credentials the
 * Origin is echoed with Access-Control-Allow-Credentials, never "*"; the default keeps "*";
 * and the admin port answers a preflight without any allowance.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CORS_PREFLIGHT_MAX_AGE_S } from '../../../electron/engine/relay/cors.js';
import { LiveFlvOrigin } from '../../helpers/flv-origin.js';
import { HlsOrigin, tempDir } from '../../helpers/hls-origin.js';
import { TestOrigin } from '../../helpers/origin.js';
import { request, type Answer } from '../../helpers/http.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const PLAYER = 'https://player.example';
const OTHER_PLAYER = 'http://localhost:8080';
const EVIL = 'https://evil.example';
const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\nseg1.ts\n#EXTINF:2,\nseg2.ts\n';

/** The access-control-* headers of an answer. */
function allowances(answer: { headers: http.IncomingHttpHeaders }): Record<string, unknown> {
  return Object.fromEntries(Object.entries(answer.headers).filter(([name]) => name.startsWith('access-control-')));
}

/** The Vary names of an answer, lowercased. */
function varyOf(answer: { headers: http.IncomingHttpHeaders }): string[] {
  return String(answer.headers.vary ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
}

/** Status and headers of an answer whose body never ends (a live stream); the connection is then dropped. */
function headersOf(url: string, headers: http.OutgoingHttpHeaders): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      req.destroy();
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

/** The allowance a listed route gives PLAYER: its Origin echoed, the default exposed headers, Vary: Origin. */
function assertAllowsPlayer(answer: Answer | { status: number; headers: http.IncomingHttpHeaders }, what: string): void {
  assert.equal(answer.headers['access-control-allow-origin'], PLAYER, what);
  assert.equal(answer.headers['access-control-allow-credentials'], undefined, `${what}: no credentials`);
  assert.match(String(answer.headers['access-control-expose-headers']), /content-length, content-range/, what);
  assert.ok(varyOf(answer).includes('origin'), `${what}: Vary: Origin (${String(answer.headers.vary)})`);
}

function assertNoAllowance(answer: Answer | { status: number; headers: http.IncomingHttpHeaders }, what: string): void {
  assert.deepEqual(allowances(answer), {}, what);
  assert.ok(varyOf(answer).includes('origin'), `${what}: Vary: Origin (${String(answer.headers.vary)})`);
}

describe('per-route CORS', () => {
  const files = new TestOrigin();
  const flv = new LiveFlvOrigin();
  let hlsDir: string;
  let hls: HlsOrigin;
  const relays: StartedRelay[] = [];
  let relay: StartedRelay;

  before(async () => {
    // A node that sends its own, looser CORS: the route's policy must replace it.
    files.handler = (_req, res) =>
      res
        .writeHead(200, {
          'content-type': 'text/plain',
          'access-control-allow-origin': '*',
          'access-control-allow-credentials': 'true',
          'access-control-expose-headers': 'x-node-secret',
          vary: 'Accept-Encoding',
        })
        .end('file body');
    hlsDir = await tempDir('rd-cors-');
    await fs.mkdir(path.join(hlsDir, 'cam1'));
    await fs.writeFile(path.join(hlsDir, 'cam1', 'index.m3u8'), PLAYLIST);
    for (const name of ['seg1.ts', 'seg2.ts']) await fs.writeFile(path.join(hlsDir, 'cam1', name), Buffer.alloc(500, name));
    hls = new HlsOrigin(hlsDir, '/hls/');
    const nodes = [
      { id: 'files', url: await files.start() },
      { id: 'flv', url: await flv.start() },
      { id: 'hls', url: await hls.start() },
    ];
    const listed = [PLAYER, OTHER_PLAYER];
    const routes = [
      { id: 'open', path: '/open/', kind: 'file', mode: 'proxy', nodes: ['files'] },
      { id: 'redirect', path: '/r/', kind: 'file', mode: 'redirect', nodes: ['files'], corsOrigins: listed },
      { id: 'files', path: '/f/', kind: 'file', mode: 'proxy', nodes: ['files'], corsOrigins: listed },
      { id: 'creds', path: '/c/', kind: 'file', mode: 'proxy', nodes: ['files'], corsOrigins: [PLAYER], corsCredentials: true },
      { id: 'flv', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['flv'], corsOrigins: listed },
      { id: 'hls', path: '/hls/', kind: 'hls', mode: 'proxy', nodes: ['hls'], corsOrigins: listed },
    ];
    for (const proxyEngine of ['native', 'http-proxy-3']) relays.push(await startRelay({ relay: { proxyEngine }, nodes, routes }));
    relay = relays[0];
  });
  after(async () => {
    for (const started of relays) await started.stop();
    await files.stop();
    await flv.stop();
    await hls.stop();
    await fs.rm(hlsDir, { recursive: true, force: true });
  });

  it('a preflight from a listed origin: 204 with its Origin echoed, the methods, the requested headers, max-age, Vary: Origin; never forwarded', async () => {
    const seen = files.requests.length;
    const answer = await request(`${relay.relayUrl}/f/a.bin`, {
      method: 'OPTIONS',
      headers: { origin: PLAYER, 'access-control-request-method': 'GET', 'access-control-request-headers': 'Range' },
    });
    assert.equal(answer.status, 204);
    assert.equal(answer.headers['access-control-allow-origin'], PLAYER);
    assert.equal(answer.headers['access-control-allow-methods'], 'GET, HEAD');
    assert.equal(answer.headers['access-control-allow-headers'], 'range');
    assert.equal(answer.headers['access-control-max-age'], String(CORS_PREFLIGHT_MAX_AGE_S));
    assert.equal(answer.headers['access-control-allow-credentials'], undefined);
    assert.ok(varyOf(answer).includes('origin'), String(answer.headers.vary));
    assert.equal(files.requests.length, seen, 'never forwarded to the node');
  });

  it('a preflight from an origin the route does not list gets no allowance at all', async () => {
    const seen = files.requests.length;
    const answer = await request(`${relay.relayUrl}/f/a.bin`, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'GET', 'access-control-request-headers': 'Range' },
    });
    assert.equal(answer.status, 204);
    assertNoAllowance(answer, 'preflight from a foreign origin');
    assert.equal(files.requests.length, seen, 'never forwarded to the node');
  });

  it('a redirect carries the allowance for a listed origin (a fetch that follows it needs it), none for another', async () => {
    const allowed = await request(`${relay.relayUrl}/r/a.bin`, { headers: { origin: OTHER_PLAYER } });
    assert.equal(allowed.status, 302);
    assert.equal(allowed.headers['access-control-allow-origin'], OTHER_PLAYER);
    assert.ok(varyOf(allowed).includes('origin'));
    const refused = await request(`${relay.relayUrl}/r/a.bin`, { headers: { origin: EVIL } });
    assert.equal(refused.status, 302, 'answered as usual: browsers enforce CORS');
    assertNoAllowance(refused, 'redirect for a foreign origin');
  });

  it("a proxied file: the node's own CORS headers are replaced by the route's, its Vary kept (both proxy engines)", async () => {
    for (const started of relays) {
      const allowed = await request(`${started.relayUrl}/f/a.bin`, { headers: { origin: PLAYER } });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body.toString(), 'file body');
      assertAllowsPlayer(allowed, 'proxied file');
      assert.doesNotMatch(String(allowed.headers['access-control-expose-headers']), /x-node-secret/);
      assert.ok(varyOf(allowed).includes('accept-encoding'), "the node's Vary is kept");
      const refused = await request(`${started.relayUrl}/f/a.bin`, { headers: { origin: EVIL } });
      assert.equal(refused.status, 200);
      assert.equal(refused.body.toString(), 'file body');
      assertNoAllowance(refused, "a foreign origin does not get the node's *");
      const noOrigin = await request(`${started.relayUrl}/f/a.bin`);
      assert.deepEqual(allowances(noOrigin), {}, 'no Origin, no allowance on a listed route');
    }
  });

  it('an FLV fan-out stream and an FLV error carry the route’s allowance', async () => {
    assertAllowsPlayer(await headersOf(`${relay.relayUrl}/live/cam1.flv`, { origin: PLAYER }), 'FLV stream');
    const refused = await headersOf(`${relay.relayUrl}/live/cam1.flv`, { origin: EVIL });
    assert.equal(refused.status, 200);
    assertNoAllowance(refused, 'FLV stream for a foreign origin');
    const offline = await request(`${relay.relayUrl}/live/nope.flv`, { headers: { origin: PLAYER } });
    assert.equal(offline.status, 404, offline.body.toString());
    assertAllowsPlayer(offline, 'FLV offline 404');
  });

  it('an HLS playlist and segment carry the route’s allowance, also when served from the shared fetch or cache', async () => {
    const playlist = await request(`${relay.relayUrl}/hls/cam1/index.m3u8`, { headers: { origin: PLAYER } });
    assert.equal(playlist.status, 200, playlist.body.toString());
    assertAllowsPlayer(playlist, 'HLS playlist');
    const segment = playlist.body
      .toString()
      .split('\n')
      .find((line) => line.startsWith('/hls/cam1/seg1.ts'));
    assert.ok(segment, playlist.body.toString());
    for (const origin of [PLAYER, EVIL]) {
      const answer = await request(relay.relayUrl + segment, { headers: { origin } });
      assert.equal(answer.status, 200);
      if (origin === PLAYER) assertAllowsPlayer(answer, 'HLS segment');
      else assertNoAllowance(answer, "HLS segment for a foreign origin (the node's * dropped)");
    }
    const again = await request(`${relay.relayUrl}/hls/cam1/index.m3u8`, { headers: { origin: EVIL } });
    assert.equal(again.status, 200);
    assertNoAllowance(again, 'HLS playlist for a foreign origin');
  });

  it('the relay’s own errors carry the route’s allowance: 405 on a stream route, 404 from an HLS node', async () => {
    const methodAllowed = await request(`${relay.relayUrl}/live/cam1.flv`, { method: 'DELETE', headers: { origin: PLAYER } });
    assert.equal(methodAllowed.status, 405);
    assert.equal(JSON.parse(methodAllowed.body.toString()).error.code, 'METHOD_NOT_ALLOWED');
    assertAllowsPlayer(methodAllowed, '405');
    const methodRefused = await request(`${relay.relayUrl}/live/cam1.flv`, { method: 'DELETE', headers: { origin: EVIL } });
    assert.equal(methodRefused.status, 405);
    assertNoAllowance(methodRefused, '405 for a foreign origin');
    const missing = await request(`${relay.relayUrl}/hls/cam1/none.m3u8`, { headers: { origin: PLAYER } });
    assert.equal(missing.status, 404);
    assertAllowsPlayer(missing, 'HLS 404');
  });

  it('with credentials the Origin is echoed with allow-credentials, never "*", on answers and preflights', async () => {
    const answer = await request(`${relay.relayUrl}/c/a.bin`, { headers: { origin: PLAYER, cookie: 'session=1' } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['access-control-allow-origin'], PLAYER);
    assert.equal(answer.headers['access-control-allow-credentials'], 'true');
    assert.ok(varyOf(answer).includes('origin'));
    const preflight = await request(`${relay.relayUrl}/c/a.bin`, { method: 'OPTIONS', headers: { origin: PLAYER, 'access-control-request-method': 'GET' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-origin'], PLAYER);
    assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
    for (const origin of [EVIL, undefined]) {
      const other = await request(`${relay.relayUrl}/c/a.bin`, { headers: origin ? { origin } : {} });
      assert.deepEqual(allowances(other), {}, `origin ${origin}: no "*", no credentials`);
    }
  });

  it('a route with the default policy keeps today\'s allowance ("*", the default exposed headers, no Vary: Origin), the node\'s own replaced', async () => {
    const answer = await request(`${relay.relayUrl}/open/a.bin`, { headers: { origin: EVIL } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['access-control-allow-origin'], '*');
    assert.equal(answer.headers['access-control-allow-credentials'], undefined);
    assert.equal(answer.headers['access-control-expose-headers'], 'content-length, content-range, accept-ranges, location, retry-after, allow');
    assert.ok(!varyOf(answer).includes('origin'), String(answer.headers.vary));
  });

  it('the admin port answers a preflight without any allowance', async () => {
    const preflight = await request(`${relay.adminUrl}/api/routes`, {
      method: 'OPTIONS',
      headers: { origin: PLAYER, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.deepEqual(allowances(preflight), {}, `status ${preflight.status}`);
  });
});
