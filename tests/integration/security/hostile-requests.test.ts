/**
 * Hostile requests, one per row, through raw sockets: each gets its status and JSON error
 * code, never a crash or a hang, and the relay is still serving afterwards.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { portOf, rawExchange, rawJson, rawStatus, request } from '../../helpers/http.js';

describe('hostile requests', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let port: number;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      relay: { headerReadTimeoutMs: 600, maxHeaderBytes: 8192, maxHeaderCount: 50 },
      nodes: [{ id: 'a', url }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', fanout: false },
        { id: 'jump', path: '/jump/', kind: 'file', mode: 'redirect' },
        { id: 'files', path: '/files/', kind: 'file', mode: 'proxy' },
      ],
    });
    port = portOf(relay.relayUrl);
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  const stillServing = async () => {
    const answer = await request(`${relay.relayUrl}/files/ok`);
    assert.equal(answer.status, 200);
  };
  const send = (head: string) => rawExchange(port, head, 3000);

  const rows: [string, string, number, string][] = [
    ['encoded CR/LF in the path', 'GET /jump/a%0d%0aSet-Cookie:x HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['an encoded NUL in the query', 'GET /jump/a?x=%00 HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['a raw control byte in the target', 'GET /jump/a\x01b HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['dot-dot traversal', 'GET /files/../admin HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['encoded traversal', 'GET /files/%2e%2e%2fsecret HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['double-encoded backslash traversal', 'GET /files/..%5csecret HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['an absolute-form target', 'GET http://evil.example/jump/a HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['an asterisk target', 'GET * HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['a protocol-relative target', 'GET //evil.example/x HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['oversized headers', `GET /files/a HTTP/1.1\r\nHost: r\r\nX-Big: ${'a'.repeat(10_000)}\r\nConnection: close\r\n\r\n`, 431, 'HEADERS_TOO_LARGE'],
    [
      'too many headers',
      `GET /files/a HTTP/1.1\r\nHost: r\r\n${Array.from({ length: 60 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\nConnection: close\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    [
      'Content-Length and Transfer-Encoding together (smuggling)',
      'POST /files/a HTTP/1.1\r\nHost: r\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
      400,
      'BAD_REQUEST',
    ],
    ['an unknown method on a stream route', 'BREW /live/cam1.flv HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 405, 'METHOD_NOT_ALLOWED'],
    ['a DELETE on a stream route', 'DELETE /live/cam1.flv HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n', 405, 'METHOD_NOT_ALLOWED'],
    ['a POST on a stream route', 'POST /live/cam1.flv HTTP/1.1\r\nHost: r\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', 405, 'METHOD_NOT_ALLOWED'],
  ];
  for (const [what, head, status, errorCode] of rows) {
    it(`answers ${status} ${errorCode} to ${what}`, async () => {
      const answer = await send(head);
      assert.equal(rawStatus(answer), status, answer.slice(0, 200));
      assert.equal(rawJson(answer).error.code, errorCode);
      await stillServing();
    });
  }

  it('answers 408 to headers dribbled slowly (slowloris), within the set time', async () => {
    const socket = net.connect(port, '127.0.0.1');
    const started = Date.now();
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => {});
    socket.write('GET /files/a HTTP/1.1\r\nHost: r\r\n');
    const dribble = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    clearInterval(dribble);
    const tookMs = Date.now() - started;
    assert.equal(rawStatus(answer), 408);
    assert.equal(rawJson(answer).error.code, 'REQUEST_TIMEOUT');
    assert.ok(tookMs >= 550 && tookMs < 3000, `closed after ${tookMs} ms (limit 600 ms)`);
    await stillServing();
  });

  it('never lets the Host header steer a redirect', async () => {
    for (const host of ['evil.example', 'evil.example:80', '127.0.0.1.evil.example']) {
      const answer = await send(`GET /jump/v.mp4 HTTP/1.1\r\nHost: ${host}\r\nX-Forwarded-Host: ${host}\r\nConnection: close\r\n\r\n`);
      assert.equal(rawStatus(answer), 302);
      assert.match(answer, new RegExp(`\r\nlocation: http://127\\.0\\.0\\.1:${origin.port}/jump/v\\.mp4\r\n`, 'i'));
    }
  });

  it('answers garbage that is not HTTP with 400 and keeps serving', async () => {
    const answer = await send('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 this is a TLS hello\r\n\r\n');
    assert.equal(rawStatus(answer), 400);
    await stillServing();
  });
});
