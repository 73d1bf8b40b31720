/**
 * Request smuggling to the nodes (issue 11): raw requests with hostile framing go through a
 * real relay, with each proxy engine, to a raw node that parses every request out of its
 * byte stream (tests/helpers/framing-origin.ts) and to a Node http server. Refused framings
 * get 400 JSON and reach no node; allowed bodies arrive intact with exactly one framing the
 * relay wrote; no node ever logs a request the relay did not route (no SMUGGLED).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FramingOrigin, type ParsedRequest } from '../../helpers/framing-origin.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { portOf, request } from '../../helpers/http.js';

/** A whole request hidden in a body: a node that loses the framing reads it as a second request. */
const SMUGGLED = 'GET /echo/SMUGGLED HTTP/1.1\r\nHost: n\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n';
const chunked = (...parts: string[]) => parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n';

/** A raw request: head lines, then `Connection: close` unless `keepAlive`, then the body. */
function raw(line: string, headers: string[], body = '', keepAlive = false): string {
  return `${line}\r\nHost: relay\r\n${headers.map((h) => `${h}\r\n`).join('')}${keepAlive ? '' : 'Connection: close\r\n'}\r\n${body}`;
}

/** Send raw bytes; resolves with what came back and whether the relay closed the connection (else cut after 3 s). */
function send(port: number, bytes: string): Promise<{ answer: string; closedByRelay: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByRelay = true;
    const timer = setTimeout(() => {
      closedByRelay = false;
      socket.destroy();
    }, 3000);
    socket.on('connect', () => socket.write(bytes, 'latin1'));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ answer: Buffer.concat(chunks).toString('latin1'), closedByRelay });
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

interface RawResponse {
  status: number;
  body: string;
}

/** Split a raw answer into its final responses (1xx skipped; every other response here has a Content-Length). */
function responses(answer: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = answer;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    if (headEnd < 0) break;
    const head = rest.slice(0, headEnd);
    const status = Number(head.slice(9, 12));
    const length = status < 200 ? 0 : Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? rest.length);
    if (status >= 200) out.push({ status, body: rest.slice(headEnd + 4, headEnd + 4 + length) });
    rest = rest.slice(headEnd + 4 + length);
  }
  return out;
}

/** [what, raw request]: each must be answered 400 BAD_REQUEST and reach no node. */
function refusedCases(): [string, string][] {
  const cases: [string, string, (path: string) => string][] = [
    ['GET with a chunked body', '/echo/', (p) => raw(`GET ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'], chunked(SMUGGLED))],
    ['GET with a Content-Length body', '/echo/', (p) => raw(`GET ${p} HTTP/1.1`, [`Content-Length: ${SMUGGLED.length}`], SMUGGLED)],
    ['HEAD with a Content-Length body', '/echo/', (p) => raw(`HEAD ${p} HTTP/1.1`, [`Content-Length: ${SMUGGLED.length}`], SMUGGLED)],
    ['DELETE with a chunked body', '/echo/', (p) => raw(`DELETE ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'], chunked(SMUGGLED))],
    ['OPTIONS with a Content-Length body', '/echo/', (p) => raw(`OPTIONS ${p} HTTP/1.1`, [`Content-Length: ${SMUGGLED.length}`], SMUGGLED)],
    ['GET with a chunked body on a stream route', '/live/', (p) => raw(`GET ${p}.flv HTTP/1.1`, ['Transfer-Encoding: chunked'], chunked(SMUGGLED))],
    ['GET with a chunked body to a Node http node', '/node/', (p) => raw(`GET ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'], chunked(SMUGGLED))],
    ['GET with a Content-Length body to a Node http node', '/node/', (p) => raw(`GET ${p} HTTP/1.1`, [`Content-Length: ${SMUGGLED.length}`], SMUGGLED)],
    [
      'Content-Length then Transfer-Encoding',
      '/echo/',
      (p) => raw(`POST ${p} HTTP/1.1`, ['Content-Length: 5', 'Transfer-Encoding: chunked'], chunked(SMUGGLED)),
    ],
    [
      'Transfer-Encoding then Content-Length',
      '/echo/',
      (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: chunked', 'Content-Length: 5'], chunked(SMUGGLED)),
    ],
    ['two equal Content-Lengths', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Content-Length: 5', 'Content-Length: 5'], 'hello')],
    [
      'two different Content-Lengths',
      '/echo/',
      (p) => raw(`PUT ${p} HTTP/1.1`, ['Content-Length: 5', `Content-Length: ${5 + SMUGGLED.length}`], `hello${SMUGGLED}`),
    ],
    ['a Content-Length with a sign', '/echo/', (p) => raw(`PUT ${p} HTTP/1.1`, ['Content-Length: +5'], 'hello')],
    ['Transfer-Encoding "chunked, identity"', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: chunked, identity'], chunked(SMUGGLED))],
    ['Transfer-Encoding "identity, chunked"', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: identity, chunked'], chunked(SMUGGLED))],
    ['Transfer-Encoding "gzip, chunked"', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: gzip, chunked'], chunked(SMUGGLED))],
    ['Transfer-Encoding "Chunked"', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: Chunked'], chunked(SMUGGLED))],
    ['Transfer-Encoding "xchunked"', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: xchunked'], chunked(SMUGGLED))],
    ['Transfer-Encoding ", chunked"', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: , chunked'], chunked(SMUGGLED))],
    [
      'an empty Transfer-Encoding then "chunked"',
      '/echo/',
      (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: ', 'Transfer-Encoding: chunked'], chunked(SMUGGLED)),
    ],
    [
      'two Transfer-Encoding "chunked" fields',
      '/echo/',
      (p) => raw(`PATCH ${p} HTTP/1.1`, ['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], chunked(SMUGGLED)),
    ],
    ['Transfer-Encoding with a space before the colon', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding : chunked'], chunked(SMUGGLED))],
    ['Transfer-Encoding on HTTP/1.0', '/echo/', (p) => raw(`POST ${p} HTTP/1.0`, ['Transfer-Encoding: chunked'], chunked(SMUGGLED))],
    [
      'Connection naming Content-Length',
      '/echo/',
      (p) => raw(`POST ${p} HTTP/1.1`, ['Connection: Content-Length', `Content-Length: ${SMUGGLED.length}`], SMUGGLED),
    ],
    [
      'Connection naming Transfer-Encoding',
      '/echo/',
      (p) => raw(`POST ${p} HTTP/1.1`, ['Connection: keep-alive, transfer-encoding', 'Transfer-Encoding: chunked'], chunked(SMUGGLED)),
    ],
    ['Connection naming Host', '/echo/', (p) => raw(`GET ${p} HTTP/1.1`, ['Connection: Host'])],
    [
      'Proxy-Connection naming Content-Length',
      '/echo/',
      (p) => raw(`POST ${p} HTTP/1.1`, ['Proxy-Connection: content-length', `Content-Length: ${SMUGGLED.length}`], SMUGGLED),
    ],
    ['a bare LF after a chunk size', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'], `5\nhello\r\n0\r\n\r\n`)],
    ['a bare LF after a chunk extension', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'], `5;x=y\nhello\r\n0\r\n\r\n`)],
    [
      'a bare LF ending a header line',
      '/echo/',
      (p) => `GET ${p} HTTP/1.1\r\nHost: relay\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked(SMUGGLED)}`,
    ],
    ['a chunk size written as 0x5', '/echo/', (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'], `0x5\r\nhello\r\n0\r\n\r\n`)],
    [
      'a keep-alive GET with a body, then a pipelined request',
      '/echo/',
      (p) => raw(`GET ${p} HTTP/1.1`, [`Content-Length: ${SMUGGLED.length}`], SMUGGLED, true) + raw(`GET ${p}-after HTTP/1.1`, []),
    ],
  ];
  return cases.map(([what, prefix, make], i) => [what, make(`${prefix}refused${i}`)]);
}

interface AllowedCase {
  what: string;
  request: (path: string) => string;
  /** The requests the node must log (pipelined ones may arrive in any order): path suffix, method, framing, body. */
  expect: { suffix: string; method: string; framing: string[] | 'none'; body: string }[];
}

/** Requests the relay forwards, each body re-framed by the relay ('none': no body, at most a Content-Length: 0). */
const ALLOWED: AllowedCase[] = [
  {
    what: 'POST with a Content-Length body holding a request',
    request: (p) => raw(`POST ${p} HTTP/1.1`, [`Content-Length: ${SMUGGLED.length}`], SMUGGLED),
    expect: [{ suffix: '', method: 'POST', framing: [`content-length: ${SMUGGLED.length}`], body: SMUGGLED }],
  },
  {
    what: 'PUT chunked with chunk extensions',
    request: (p) => raw(`PUT ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'], '5;name=value\r\nhello\r\n6;x="a;b"\r\n world\r\n0\r\n\r\n'),
    expect: [{ suffix: '', method: 'PUT', framing: ['transfer-encoding: chunked'], body: 'hello world' }],
  },
  {
    what: 'PATCH chunked with a trailer',
    request: (p) => raw(`PATCH ${p} HTTP/1.1`, ['Transfer-Encoding: chunked'], '5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n'),
    expect: [{ suffix: '', method: 'PATCH', framing: ['transfer-encoding: chunked'], body: 'hello' }],
  },
  {
    what: 'POST chunked with optional whitespace around the value',
    request: (p) => raw(`POST ${p} HTTP/1.1`, ['Transfer-Encoding: \tchunked '], chunked(SMUGGLED)),
    expect: [{ suffix: '', method: 'POST', framing: ['transfer-encoding: chunked'], body: SMUGGLED }],
  },
  {
    what: 'POST with a Content-Length with leading zeros',
    request: (p) => raw(`POST ${p} HTTP/1.1`, ['Content-Length: 005'], 'hello'),
    expect: [{ suffix: '', method: 'POST', framing: ['content-length: 5'], body: 'hello' }],
  },
  {
    what: 'POST with Expect: 100-continue',
    request: (p) => raw(`POST ${p} HTTP/1.1`, ['Expect: 100-continue', 'Content-Length: 5'], 'hello'),
    expect: [{ suffix: '', method: 'POST', framing: ['content-length: 5'], body: 'hello' }],
  },
  { what: 'POST without a body', request: (p) => raw(`POST ${p} HTTP/1.1`, []), expect: [{ suffix: '', method: 'POST', framing: 'none', body: '' }] },
  {
    what: 'GET with Content-Length: 0',
    request: (p) => raw(`GET ${p} HTTP/1.1`, ['Content-Length: 0']),
    expect: [{ suffix: '', method: 'GET', framing: 'none', body: '' }],
  },
  { what: 'HEAD', request: (p) => raw(`HEAD ${p} HTTP/1.1`, []), expect: [{ suffix: '', method: 'HEAD', framing: 'none', body: '' }] },
  { what: 'DELETE without a body', request: (p) => raw(`DELETE ${p} HTTP/1.1`, []), expect: [{ suffix: '', method: 'DELETE', framing: 'none', body: '' }] },
  {
    what: 'OPTIONS without a body (not a preflight)',
    request: (p) => raw(`OPTIONS ${p} HTTP/1.1`, []),
    expect: [{ suffix: '', method: 'OPTIONS', framing: 'none', body: '' }],
  },
  {
    what: 'three pipelined requests after a body on one connection',
    request: (p) =>
      raw(`POST ${p} HTTP/1.1`, ['Content-Length: 5'], 'hello', true) +
      raw(`GET ${p}-b HTTP/1.1`, [], '', true) +
      raw(`PUT ${p}-c HTTP/1.1`, ['Transfer-Encoding: chunked'], chunked(SMUGGLED)),
    expect: [
      { suffix: '', method: 'POST', framing: ['content-length: 5'], body: 'hello' },
      { suffix: '-b', method: 'GET', framing: 'none', body: '' },
      { suffix: '-c', method: 'PUT', framing: ['transfer-encoding: chunked'], body: SMUGGLED },
    ],
  },
];

for (const engine of ['native', 'http-proxy-3'] as const) {
  describe(`request smuggling to the nodes (${engine} engine)`, () => {
    const node = new FramingOrigin();
    const httpNode = new TestOrigin();
    let relay: StartedRelay;
    let port: number;
    /** Every path the relay was meant to forward. */
    const routed = new Set<string>();

    before(async () => {
      const rawUrl = await node.start();
      const httpUrl = await httpNode.start();
      relay = await startRelay({
        relay: { proxyEngine: engine },
        nodes: [
          { id: 'raw', url: rawUrl },
          { id: 'http', url: httpUrl },
        ],
        routes: [
          { id: 'echo', path: '/echo/', kind: 'file', mode: 'proxy', nodes: ['raw'] },
          { id: 'node', path: '/node/', kind: 'file', mode: 'proxy', nodes: ['http'] },
          { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', fanout: false, nodes: ['raw'] },
        ],
      });
      port = portOf(relay.relayUrl);
    });
    after(async () => {
      await relay.stop();
      await node.stop();
      await httpNode.stop();
    });

    for (const [what, bytes] of refusedCases()) {
      it(`refuses ${what} with 400 JSON, the connection closed`, async () => {
        const { answer, closedByRelay } = await send(port, bytes);
        const answers = responses(answer);
        assert.ok(answers.length >= 1, `an answer to ${JSON.stringify(bytes.slice(0, 80))}`);
        assert.ok(closedByRelay, 'the relay closed the connection');
        for (const answer of answers) {
          assert.equal(answer.status, 400, answer.body);
          if (!bytes.startsWith('HEAD')) assert.equal(JSON.parse(answer.body).error.code, 'BAD_REQUEST');
        }
      });
    }

    ALLOWED.forEach((testCase, i) => {
      it(`forwards ${testCase.what} with one framing the relay wrote, the body intact`, async () => {
        const path = `/echo/allowed${i}`;
        const before = node.requests.length;
        testCase.expect.forEach((e) => routed.add(path + e.suffix));
        const answers = responses((await send(port, testCase.request(path))).answer);
        assert.deepEqual(
          answers.map((a) => a.status),
          testCase.expect.map(() => 200),
        );
        const logged = (await node.waitForRequests(before + testCase.expect.length)).slice(before);
        assert.deepEqual(logged.map((r) => r.path).sort(), testCase.expect.map((e) => path + e.suffix).sort(), 'the node logged exactly the routed requests');
        testCase.expect.forEach((e) => {
          const seen: ParsedRequest = logged.find((r) => r.path === path + e.suffix)!;
          assert.equal(seen.method, e.method);
          if (e.framing === 'none') assert.ok(seen.framing.length === 0 || seen.framing[0] === 'content-length: 0', `no body framing, got ${seen.framing}`);
          else assert.deepEqual(seen.framing, e.framing);
          assert.ok(seen.framing.length <= 1, `at most one framing header, got ${seen.framing}`);
          assert.equal(seen.body.toString('latin1'), e.body);
          assert.ok(!seen.headers.some(([name]) => name === 'expect' || name === 'x-trailer'), 'no Expect or trailer passed on as a header');
        });
        if (testCase.expect[0].method !== 'HEAD') assert.equal(JSON.parse(answers[0].body).body, testCase.expect[0].body, 'the echo came back');
      });
    });

    it('forwards a chunked POST to a Node http node re-framed, the body intact', async () => {
      let body = '';
      httpNode.handler = (req, res) => {
        req.setEncoding('latin1');
        req.on('data', (d: string) => (body += d));
        req.on('end', () => res.end('ok'));
      };
      const answers = responses((await send(port, raw('POST /node/allowed HTTP/1.1', ['Transfer-Encoding: chunked'], chunked('hello', SMUGGLED)))).answer);
      assert.equal(answers[0]?.status, 200);
      assert.equal(body, `hello${SMUGGLED}`);
      const seen = httpNode.requests.at(-1)!;
      assert.equal(seen.headers['transfer-encoding'], 'chunked');
      assert.equal(seen.headers['content-length'], undefined);
    });

    it('lets no node see a request the relay did not route', async () => {
      // A last request through the same pools: anything smuggled earlier has been parsed by now.
      routed.add('/echo/last');
      const last = await request(`${relay.relayUrl}/echo/last`);
      assert.equal(last.status, 200);
      const paths = node.requests.map((r) => r.path);
      assert.deepEqual(
        paths.filter((p) => !routed.has(p)),
        [],
        'the raw node logged only routed paths',
      );
      assert.ok(
        node.requests.every((r) => r.framing.length <= 1 && !r.framing.some((f) => f.startsWith('transfer-encoding:') && f !== 'transfer-encoding: chunked')),
      );
      assert.deepEqual(
        httpNode.requests.map((r) => r.url),
        ['/node/allowed'],
        'the Node http node saw only the allowed POST',
      );
    });
  });
}
