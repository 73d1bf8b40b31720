/**
 * Framing answers (issue 11, point 8): CONNECT, two Host fields and a missing Host get the
 * relay's JSON error like every other refusal, and a malformed request pipelined behind a
 * response in progress never writes an answer into the middle of that response.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { portOf, rawExchange, rawJson, rawStatus } from '../../helpers/http.js';

describe('framing answers', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  let port: number;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'files', path: '/files/', kind: 'file', mode: 'proxy' }],
    });
    port = portOf(relay.relayUrl);
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  const rows: [string, string, number, string][] = [
    ['CONNECT', 'CONNECT node.example:443 HTTP/1.1\r\nHost: node.example:443\r\n\r\n', 405, 'METHOD_NOT_ALLOWED'],
    ['two Host fields', 'GET /files/two-hosts HTTP/1.1\r\nHost: relay\r\nHost: other\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
    ['no Host on HTTP/1.1', 'GET /files/no-host HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'BAD_REQUEST'],
  ];
  for (const [what, bytes, status, code] of rows) {
    it(`answers ${what} with ${status} ${code} as JSON, reaching no node`, async () => {
      const seenBefore = origin.requests.length;
      const answer = await rawExchange(port, bytes, 3000);
      assert.equal(rawStatus(answer), status, answer.slice(0, 200));
      assert.match(answer, /\r\ncontent-type: application\/json/i);
      assert.equal(rawJson(answer).error.code, code);
      assert.equal(origin.requests.length, seenBefore);
    });
  }

  it('still proxies an HTTP/1.0 request without Host', async () => {
    const answer = await rawExchange(port, 'GET /files/old HTTP/1.0\r\n\r\n', 3000);
    assert.equal(rawStatus(answer), 200, answer.slice(0, 200));
    assert.equal(origin.requests.at(-1)?.url, '/files/old');
  });

  it('cuts the connection, writing nothing into a response in progress, when a malformed request follows it', async () => {
    let held: ServerResponse | undefined;
    origin.handler = (_req, res) => {
      held = res;
      res.writeHead(200, { 'content-length': 10 });
      res.write('hello');
    };
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /files/slow HTTP/1.1\r\nHost: relay\r\n\r\n');
    await new Promise<void>((resolve) => {
      socket.on('data', (data: Buffer) => {
        received += data.toString('latin1');
        if (received.endsWith('hello')) resolve();
      });
    });
    socket.write('\x01\x02 not a request\r\n\r\n');
    await closed;
    held?.end();
    assert.equal(received.match(/HTTP\/1\.1 /g)?.length, 1, `one response only, got ${JSON.stringify(received)}`);
    assert.ok(received.endsWith('hello'), 'the response bytes are untouched');
  });
});
