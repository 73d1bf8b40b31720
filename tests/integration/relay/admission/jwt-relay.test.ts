/**
 * JWT viewer tokens through the relay (routes[].auth.jwt): a real FLV origin and HLS origin,
 * tokens signed here with jose, keys served by a real JWKS endpoint. A valid token (query or
 * `Authorization: Bearer`) plays and labels the session; an expired one gets 410, a wrong
 * audience, a foreign path scope, an HS/RS confusion or `alg: none` 403, none at all 401; HLS
 * child URIs carry the token so segments pass; a JWT and the route's webhook and caps combine.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { FlvTestViewer } from '../../../helpers/flv-viewer.js';
import { LiveFlvOrigin } from '../../../helpers/flv-origin.js';
import { request, type Answer } from '../../../helpers/http.js';
import { TestOrigin } from '../../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../../helpers/relay.js';
import { WebhookService } from '../../../helpers/webhook-service.js';

const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
const PLAYLIST = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\nseg1.ts\n';

function codeOf(answer: Answer): string {
  return JSON.parse(answer.body.toString()).error.code;
}

describe('JWT viewer tokens through the relay', () => {
  let flv: LiveFlvOrigin;
  let hls: TestOrigin;
  let jwks: http.Server;
  let hooks: WebhookService;
  let relay: StartedRelay;
  let rsa: CryptoKey;
  let rsaPublic: JWK;

  const hs = (claims: Record<string, unknown>, expiresIn: string | number = '5m') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .setAudience('viewers')
      .sign(new TextEncoder().encode(SECRET));
  const rs = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'rsa1' }).setIssuedAt().setExpirationTime('5m').setAudience('viewers').sign(rsa);

  before(async () => {
    flv = new LiveFlvOrigin();
    const flvUrl = await flv.start();
    hls = new TestOrigin();
    hls.handler = (req, res) => {
      if ((req.url ?? '').includes('.m3u8')) res.writeHead(200, { 'content-type': 'application/vnd.apple.mpegurl' }).end(PLAYLIST);
      else res.writeHead(200, { 'content-type': 'video/mp2t' }).end(Buffer.alloc(500, 0x47));
    };
    const hlsUrl = await hls.start();
    const pair = await generateKeyPair('RS256');
    rsa = pair.privateKey;
    rsaPublic = { ...(await exportJWK(pair.publicKey)), kid: 'rsa1', alg: 'RS256', use: 'sig' };
    jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [rsaPublic] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    hooks = new WebhookService();
    const base = await hooks.start();
    const jwt = { secrets: [{ secret: SECRET }], jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`, audience: 'viewers' };
    relay = await startRelay({
      nodes: [
        { id: 'flv', url: flvUrl },
        { id: 'hls', url: hlsUrl },
      ],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['flv'], auth: { jwt } },
        { id: 'tv', path: '/tv/', kind: 'hls', mode: 'proxy', stripPrefix: true, nodes: ['hls'], auth: { jwt } },
        {
          id: 'both',
          path: '/both/',
          kind: 'flv',
          mode: 'proxy',
          stripPrefix: true,
          nodes: ['flv'],
          auth: { jwt, webhook: { url: `${base}/play` } },
          limits: { maxViewersPerStream: 1 },
        },
      ],
    });
  });
  after(async () => {
    await relay?.stop();
    await hooks?.stop();
    await new Promise<void>((resolve) => jwks?.close(() => resolve()));
    await flv?.stop();
    await hls?.stop();
  });

  it('a valid HS256 token in the query plays, labelled by its sub; the node never sees it', async () => {
    const token = await hs({ sub: 'alice', relaydeck: '/live/' });
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv?jwt=${token}`).open();
    try {
      assert.equal(viewer.status, 200);
      const { body: sessions } = await relay.api.call('GET', '/api/sessions');
      assert.equal(sessions.find((s: { routeId: string }) => s.routeId === 'live')?.label, 'alice');
      assert.ok(!flv.requests.some((r) => r.url.includes('jwt=')), 'the token stays at the relay');
    } finally {
      viewer.close();
    }
  });

  it('a valid RS256 token from the JWKS, sent as Authorization: Bearer, plays', async () => {
    const token = await rs({ sub: 'bob', relaydeck: { streams: ['live/cam1'] } });
    const viewer = await new FlvTestViewer(`${relay.relayUrl}/live/cam1.flv`, true, { authorization: `Bearer ${token}` }).open();
    assert.equal(viewer.status, 200);
    viewer.close();
  });

  it('refuses what it must: none (401), expired (410), wrong audience, foreign scope, HS/RS confusion, alg none (403)', async () => {
    const url = `${relay.relayUrl}/live/cam1.flv`;
    const missing = await request(url);
    assert.equal(missing.status, 401);
    assert.match(JSON.parse(missing.body.toString()).error.message, /JWT/);
    const expired = await request(`${url}?jwt=${await hs({ sub: 'a', relaydeck: '/live/' }, Math.floor(Date.now() / 1000) - 3_600)}`);
    assert.equal(expired.status, 410);
    assert.equal(codeOf(expired), 'AUTH_EXPIRED');
    const wrongAudience = await new SignJWT({ relaydeck: '/live/' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .setAudience('admins')
      .sign(new TextEncoder().encode(SECRET));
    assert.equal((await request(`${url}?jwt=${wrongAudience}`)).status, 403);
    const otherStream = await hs({ relaydeck: '/live/cam2.flv' });
    assert.equal((await request(`${url}?jwt=${otherStream}`)).status, 403, 'a token scoped to another stream');
    // The RSA public key (as the JWKS publishes it) used as an HMAC secret: the classic confusion.
    const confused = await new SignJWT({ relaydeck: '/live/' })
      .setProtectedHeader({ alg: 'HS256', kid: 'rsa1' })
      .setExpirationTime('5m')
      .setAudience('viewers')
      .sign(new TextEncoder().encode(JSON.stringify(rsaPublic)));
    assert.equal((await request(`${url}?jwt=${confused}`)).status, 403);
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ relaydeck: '/live/', aud: 'viewers', exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url');
    assert.equal((await request(`${url}?jwt=${header}.${payload}.`)).status, 403, 'alg none');
    assert.ok(!flv.requests.some((r) => r.url.includes('jwt')), 'no refused viewer reached the node with a token');
  });

  it('HLS: the playlist carries the token into its URIs, so segments pass; a bare segment is refused', async () => {
    const token = await hs({ sub: 'carol', relaydeck: '/tv/' });
    const playlist = await request(`${relay.relayUrl}/tv/live/cam1/index.m3u8?jwt=${token}`);
    assert.equal(playlist.status, 200);
    const segment = playlist.body
      .toString()
      .split('\n')
      .find((line) => line.startsWith('/'))!;
    assert.ok(segment.includes(`jwt=${token}`));
    assert.equal((await request(relay.relayUrl + segment)).status, 200);
    assert.equal((await request(relay.relayUrl + segment.split('?')[0])).status, 401);
  });

  it('with a webhook and caps too: the token is checked first, then the webhook is asked, then the cap', async () => {
    const token = await hs({ sub: 'dave', relaydeck: '/both/' });
    assert.equal((await request(`${relay.relayUrl}/both/live/cam1.flv`)).status, 401, 'no token: no webhook call');
    assert.equal(hooks.callsTo('/play').length, 0);
    const first = await new FlvTestViewer(`${relay.relayUrl}/both/live/cam1.flv?jwt=${token}`).open();
    try {
      assert.equal(first.status, 200);
      assert.equal(hooks.callsTo('/play').length, 1);
      assert.ok(hooks.callsTo('/play')[0].body.query.includes(`jwt=${token}`), 'the webhook sees the credentials the viewer sent');
      const second = await request(`${relay.relayUrl}/both/live/cam1.flv?jwt=${token}`);
      assert.equal(second.status, 503);
      assert.equal(codeOf(second), 'VIEWER_LIMIT');
      const { body: stats } = await relay.api.call('GET', '/api/stats');
      assert.ok(stats.admission.jwt.verifications >= 1);
    } finally {
      first.close();
    }
  });
});
