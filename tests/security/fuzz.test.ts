/**
 * Fuzzing, seeded and time-bounded (reproduce with FUZZ_SEED=n): at least 10,000 random
 * request lines and header sets against the relay, and random bytes as an upstream's FLV
 * body. Every request gets an answer or a clean close, the relay keeps serving, and RSS
 * before and after stays within a bound.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../helpers/flv-builder.js';
import { flvHeader } from '../helpers/flv-builder.js';
import { RawOrigin } from '../helpers/raw-origin.js';
import { TestOrigin } from '../helpers/origin.js';
import { startRelay, type StartedRelay } from '../helpers/relay.js';
import { portOf, request } from '../helpers/http.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const REQUESTS = 10_000;
const TIME_LIMIT_MS = 60_000;
const PARALLEL = 32;
console.log(`# fuzz seed ${SEED} (reproduce with FUZZ_SEED=${SEED})`);

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'BREW', 'get', 'G\x00T', ''];
const PIECES = ['/live/', '/files/', '/jump/', '..', '%2e', '%00', '%0d%0a', '?', '&', '=', '#', '//', '\\', '%', '%zz', 'cam1.flv', 'a'.repeat(300), '\u00e9', '*', ' ', '\t'];
const HEADER_NAMES = ['Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'X-Forwarded-For', 'Range', 'Expect', 'Upgrade', 'X-\x01', ':bad', 'A'.repeat(50)];
const HEADER_VALUES = ['1', '-1', 'chunked', 'close', 'keep-alive', '10.0.0.1, 999.1.1.1', 'bytes=0-', 'bytes=9-1', '100-continue', '\x7f', 'x'.repeat(2000), ''];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function randomRequest(random: () => number): string {
  const target = Array.from({ length: 1 + Math.floor(random() * 6) }, () => pick(random, PIECES)).join('');
  const version = pick(random, ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1', '']);
  const headers = Array.from({ length: Math.floor(random() * 8) }, () => `${pick(random, HEADER_NAMES)}: ${pick(random, HEADER_VALUES)}`);
  const noise = random() < 0.1 ? Buffer.from(Array.from({ length: 40 }, () => Math.floor(random() * 256))).toString('latin1') : '';
  return `${pick(random, METHODS)} ${target} ${version}\r\n${headers.join('\r\n')}${noise}\r\nConnection: close\r\n\r\n`;
}

/** Send one raw request; resolves when the server answers and closes, or after 3 s (counted as a hang). */
function exchange(port: number, bytes: string): Promise<'answered' | 'closed' | 'hung'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answered = false;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('hung');
    }, 3000);
    socket.on('connect', () => socket.end(bytes, 'latin1'));
    socket.on('data', () => (answered = true));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answered ? 'answered' : 'closed');
    });
  });
}

describe('fuzz', () => {
  const origin = new TestOrigin();
  const raw = new RawOrigin();
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    const rawUrl = await raw.start();
    relay = await startRelay({
      relay: { requestLogEntries: 1000 },
      flv: { idleCloseMs: 0, firstMediaTimeoutMs: 300 },
      nodes: [{ id: 'a', url }, { id: 'raw', url: rawUrl }],
      routes: [
        { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy', nodes: ['raw'] },
        { id: 'files', path: '/files/', kind: 'file', mode: 'proxy', nodes: ['a'] },
        { id: 'jump', path: '/jump/', kind: 'file', mode: 'redirect', nodes: ['a'] },
      ],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
    await raw.stop();
  });

  it(`survives ${REQUESTS} random request lines and headers`, async () => {
    const random = seededRandom(SEED);
    const port = portOf(relay.relayUrl);
    raw.onRequest = (socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    const rssBefore = process.memoryUsage().rss;
    const outcomes = { answered: 0, closed: 0, hung: 0 };
    const started = Date.now();
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS && Date.now() - started < TIME_LIMIT_MS) {
        sent += 1;
        outcomes[await exchange(port, randomRequest(random))] += 1;
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 1048576;
    console.log(`# fuzz: ${sent} requests in ${Date.now() - started} ms: ${JSON.stringify(outcomes)}, RSS ${rssGrowthMb.toFixed(1)} MB growth`);
    assert.ok(sent >= REQUESTS, `sent ${sent} of ${REQUESTS} within ${TIME_LIMIT_MS} ms`);
    assert.equal(outcomes.hung, 0, 'no request hung');
    assert.ok(outcomes.answered > REQUESTS * 0.9, 'nearly every request got an answer');
    assert.ok(rssGrowthMb < 150, `RSS grew ${rssGrowthMb.toFixed(1)} MB`);
    assert.equal((await request(`${relay.relayUrl}/files/still-ok`)).status, 200);
    assert.equal(relay.engine.sessions.size, 0, 'no session left behind');
  });

  it('survives random bytes as an upstream FLV body, ending each stream cleanly', async () => {
    const random = seededRandom(SEED + 1);
    raw.onRequest = (socket) => {
      const garbage = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 4000) }, () => Math.floor(random() * 256)));
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: video/x-flv\r\nConnection: close\r\n\r\n');
      socket.end(random() < 0.5 ? Buffer.concat([flvHeader(), garbage]) : garbage);
    };
    const statuses = new Map<number, number>();
    for (let i = 0; i < 300; i += 1) {
      const answer = await request(`${relay.relayUrl}/live/fuzz${i % 7}.flv`).catch(() => ({ status: -1 }));
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
    console.log(`# fuzz FLV bodies: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    for (const status of statuses.keys()) assert.ok([200, 404, 502].includes(status), `unexpected status ${status}`);
    assert.equal((await request(`${relay.relayUrl}/files/still-ok`)).status, 200);
    assert.equal(relay.engine.flvStreams.size, 0, 'no stream left behind');
    assert.ok((relay.engine.stats.snapshot().routes.live.errors.UPSTREAM_FORMAT ?? 0) > 0, 'garbage was reported');
  });
});
