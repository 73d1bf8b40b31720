/**
 * CORS on the relay port (issue 12 point 5), through raw sockets: the relay's own error
 * answers (404, 401, 410, 405, a malformed request) carry access-control-allow-origin, and
 * preflights are answered by the relay with 204 and the route's methods, never forwarded to
 * the node. The admin port sends no CORS allowance at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeSign } from '../../../electron/engine/relay/auth/signing.js';
import { CORS_PREFLIGHT_MAX_AGE_S } from '../../../electron/engine/relay/cors.js';
import { TestOrigin } from '../../helpers/origin.js';
import { portOf, rawExchange, rawJson, rawStatus, request } from '../../helpers/http.js';
import { startRelay, TEST_TOKEN, type StartedRelay } from '../../helpers/relay.js';

const KEY = { id: 'k1', secret: 'cors-secret-cors-secret-01' };

/** The header fields of a raw answer, names lowercased. */
function rawHeaders(answer: string): Record<string, string> {
  const head = answer.slice(0, answer.indexOf('\r\n\r\n')).split('\r\n').slice(1);
  return Object.fromEntries(head.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
}

describe('CORS on relay answers', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let port: number;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
        { id: 'files', path: '/files/', kind: 'file', mode: 'proxy' },
        { id: 'signed', path: '/signed/', kind: 'hls', mode: 'proxy', auth: { keys: [KEY] } },
      ],
    });
    port = portOf(relay.relayUrl);
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('answers a preflight itself: 204, the route methods, the requested simple headers, max-age', async () => {
    const answer = await rawExchange(
      port,
      'OPTIONS /live/cam1.flv HTTP/1.1\r\nHost: relay\r\nOrigin: http://player.example\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: Range, Authorization\r\nConnection: close\r\n\r\n',
    );
    assert.equal(rawStatus(answer), 204, answer);
    const headers = rawHeaders(answer);
    assert.equal(headers['access-control-allow-origin'], '*');
    assert.equal(headers['access-control-allow-methods'], 'GET, HEAD');
    assert.equal(headers['access-control-allow-headers'], 'range, authorization');
    assert.equal(headers['access-control-max-age'], String(CORS_PREFLIGHT_MAX_AGE_S));
    assert.equal(origin.requests.length, 0, 'never forwarded to the node');
  });

  it('a preflight on a signed route needs no credentials; a file route allows the requested method', async () => {
    const signed = await rawExchange(
      port,
      'OPTIONS /signed/cam1/index.m3u8 HTTP/1.1\r\nHost: relay\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n',
    );
    assert.equal(rawStatus(signed), 204, signed);
    assert.equal(rawHeaders(signed)['access-control-allow-headers'], undefined, 'none requested, none allowed');
    const file = await rawExchange(
      port,
      'OPTIONS /files/a.bin HTTP/1.1\r\nHost: relay\r\nAccess-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: x-ok, bad header\r\nConnection: close\r\n\r\n',
    );
    assert.equal(rawStatus(file), 204, file);
    assert.equal(rawHeaders(file)['access-control-allow-methods'], 'GET, HEAD, PUT');
    assert.equal(rawHeaders(file)['access-control-allow-headers'], undefined, 'a list with a name that is not a token is not echoed');
    assert.equal(origin.requests.length, 0);
  });

  it('the relay’s own errors carry the CORS headers: 404, 401, 410, 405, malformed', async () => {
    const expired = makeSign(KEY.secret, '/signed/cam1/index.m3u8', Math.floor(Date.now() / 1000) - 60);
    const cases: [string, number, string][] = [
      ['GET /nowhere HTTP/1.1', 404, 'NO_ROUTE'],
      ['GET /signed/cam1/index.m3u8 HTTP/1.1', 401, 'AUTH_MISSING'],
      [`GET /signed/cam1/index.m3u8?sign=${expired} HTTP/1.1`, 410, 'AUTH_EXPIRED'],
      ['OPTIONS /live/cam1.flv HTTP/1.1', 405, 'METHOD_NOT_ALLOWED'],
    ];
    for (const [line, status, code] of cases) {
      const answer = await rawExchange(port, `${line}\r\nHost: relay\r\nOrigin: http://player.example\r\nConnection: close\r\n\r\n`);
      assert.equal(rawStatus(answer), status, answer);
      assert.equal(rawJson(answer).error.code, code);
      assert.equal(rawHeaders(answer)['access-control-allow-origin'], '*', line);
      assert.match(rawHeaders(answer)['access-control-expose-headers'] ?? '', /content-length/);
    }
    const malformed = await rawExchange(port, 'GET /live/x.flv HTTP/1.1\r\nBad Header\r\n\r\n');
    assert.equal(rawStatus(malformed), 400, malformed);
    assert.equal(rawHeaders(malformed)['access-control-allow-origin'], '*');
  });

  it('the admin port never sends CORS allowances', async () => {
    const preflight = await request(`${relay.adminUrl}/api/routes`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
    const denied = await request(`${relay.adminUrl}/api/routes`, { headers: { origin: 'http://evil.example' } });
    assert.ok(denied.status >= 400, String(denied.status));
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
    const ok = await request(`${relay.adminUrl}/api/routes`, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    assert.equal(ok.headers['access-control-allow-origin'], undefined);
  });
});
