/**
 * Pushed events over the admin port: `GET /api/events` is SSE behind the bearer token
 * (header only, never the URL), carries one snapshot and one traffic event per second,
 * bounds its clients; the browser/Node client's `onEvent` reads it with fetch streaming,
 * shares one connection among its listeners, and stops on a refused token.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { EVENTS_PATH, type RelayDeckEvent } from '../../../shared/events.js';
import { createHttpClient } from '../../../shared/http-client.js';
import type { EventStreamStatus } from '../../../shared/event-stream-client.js';
import { SseParser } from '../../../shared/sse.js';
import { MAX_EVENT_CLIENTS } from '../../../electron/engine/admin/events.js';
import type { Engine } from '../../../electron/engine/engine.js';
import { waitFor } from '../../helpers/http.js';
import { ADMIN_TOKEN, startEngine } from '../../helpers/engine-fixtures.js';

let engine: Engine;
before(async () => {
  engine = await startEngine();
});
after(() => engine.stop());

/** Open the raw event stream; collect messages until `close()`. */
function openStream(
  headers: Record<string, string>,
  query = '',
): Promise<{ status: number; contentType: string; messages: { event: string; data: string }[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${engine.adminUrl}${EVENTS_PATH}${query}`, { headers, agent: false }, (res) => {
      const parser = new SseParser();
      const messages: { event: string; data: string }[] = [];
      res.setEncoding('utf8');
      res.on('data', (text: string) => messages.push(...parser.push(text)));
      res.on('error', () => undefined);
      resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), messages, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

test('SSE parser: fields, multi-line data, comments, CRLF, and chunks split anywhere', () => {
  const text = ': hello\r\nretry: 1500\r\nevent: snapshot\r\ndata: {"a":\r\ndata: 1}\r\n\r\ndata: plain\n\n';
  for (const size of [1, 2, 3, 7, text.length]) {
    const parser = new SseParser();
    const messages = [];
    for (let i = 0; i < text.length; i += size) messages.push(...parser.push(text.slice(i, i + size)));
    assert.deepEqual(
      messages,
      [
        { event: 'snapshot', data: '{"a":\n1}' },
        { event: 'message', data: 'plain' },
      ],
      `chunks of ${size}`,
    );
    assert.equal(parser.retryMs, 1500);
  }
});

test('no token, a wrong token, or the token in the URL: 401, no stream', async () => {
  for (const [headers, query] of [
    [{}, ''],
    [{ authorization: 'Bearer wrong-token-wrong-token' }, ''],
    [{}, `?token=${ADMIN_TOKEN}`],
  ] as const) {
    const stream = await openStream(headers, query);
    stream.close();
    assert.equal(stream.status, 401, JSON.stringify({ headers, query }));
  }
});

test('with the token: text/event-stream, one snapshot and one traffic event per second', async () => {
  const stream = await openStream({ authorization: `Bearer ${ADMIN_TOKEN}` });
  try {
    assert.equal(stream.status, 200);
    assert.match(stream.contentType, /^text\/event-stream/);
    await waitFor(() => stream.messages.filter((m) => m.event === 'snapshot').length >= 2, 5_000, 'two snapshots');
    const snapshots = stream.messages.filter((m) => m.event === 'snapshot').map((m) => JSON.parse(m.data));
    assert.ok(snapshots[1].at - snapshots[0].at >= 900, 'throttled to about one per second');
    assert.equal(snapshots[0].type, 'snapshot');
    assert.deepEqual(Object.keys(snapshots[0]).sort(), [
      'at',
      'hlsCache',
      'hlsStreams',
      'nodes',
      'point',
      'relay',
      'savings',
      'sessions',
      'stats',
      'streams',
      'type',
    ]);
    assert.ok(stream.messages.some((m) => m.event === 'traffic'));
  } finally {
    stream.close();
  }
});

test('a route change is pushed as a config event', async () => {
  const stream = await openStream({ authorization: `Bearer ${ADMIN_TOKEN}` });
  try {
    await engine.api.updateRoute({ id: 'hls', body: { mode: 'redirect' } });
    const message = await waitFor(() => stream.messages.find((m) => m.event === 'config'), 5_000, 'a config event');
    const event = JSON.parse(message.data);
    assert.equal(event.routes.find((r: { id: string }) => r.id === 'hls').mode, 'redirect');
  } finally {
    stream.close();
    await engine.api.updateRoute({ id: 'hls', body: { mode: 'proxy' } });
  }
});

test(`at most ${MAX_EVENT_CLIENTS} streams at once; the next gets 503`, async () => {
  const streams = [];
  try {
    for (let i = 0; i < MAX_EVENT_CLIENTS; i += 1) streams.push(await openStream({ authorization: `Bearer ${ADMIN_TOKEN}` }));
    assert.ok(streams.every((s) => s.status === 200));
    const extra = await openStream({ authorization: `Bearer ${ADMIN_TOKEN}` });
    extra.close();
    assert.equal(extra.status, 503);
  } finally {
    streams.forEach((s) => s.close());
  }
  await waitFor(() => engine.events.clientCount === 0, 2_000, 'closed streams to be forgotten');
});

test('the client: onEvent listeners share one connection, get typed events, and unsubscribe', async () => {
  const statuses: EventStreamStatus['state'][] = [];
  const client = createHttpClient({ baseUrl: engine.adminUrl, token: ADMIN_TOKEN, onEventStatus: (s) => statuses.push(s.state) });
  const a: RelayDeckEvent[] = [];
  const b: RelayDeckEvent[] = [];
  const offA = client.onEvent((event) => a.push(event));
  const offB = client.onEvent((event) => b.push(event));
  try {
    await waitFor(() => a.some((e) => e.type === 'snapshot') && b.some((e) => e.type === 'traffic'), 5_000, 'events on both listeners');
    assert.equal(engine.events.clientCount, 1, 'one connection for two listeners');
  } finally {
    offA();
    offB();
  }
  await waitFor(() => engine.events.clientCount === 0, 2_000, 'the connection to close with the last listener');
  assert.deepEqual(statuses, ['connecting', 'open', 'closed']);
});

test('the client: a refused token stops the stream and says so', async () => {
  const statuses: EventStreamStatus[] = [];
  const client = createHttpClient({ baseUrl: engine.adminUrl, token: 'refused-token-refused', onEventStatus: (s) => statuses.push(s) });
  const off = client.onEvent(() => assert.fail('no event with a refused token'));
  try {
    await waitFor(() => statuses.some((s) => s.state === 'unauthorized'), 5_000, 'unauthorized');
  } finally {
    off();
  }
});
