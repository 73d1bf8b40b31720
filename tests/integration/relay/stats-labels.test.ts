/**
 * Stats keyed by operator strings (token labels, route ids) are counted as plain keys: a label
 * named like an Object.prototype member (`constructor`, `toString`) starts at 0, not at the
 * inherited function (which turned into "function Object() { [native code] }1").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';
import { StatsBook } from '../../../electron/engine/relay/stats.js';
import { TestOrigin } from '../../helpers/origin.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';
import { request } from '../../helpers/http.js';

const LABELS = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'plain'];
const tokenOf = (label: string) => `token-of-${label}`;

describe('stats keyed by token labels and route ids', () => {
  const origin = new TestOrigin();
  let relay: StartedRelay;
  before(async () => {
    const url = await origin.start();
    relay = await startRelay({
      nodes: [{ id: 'a', url }],
      routes: [{ id: 'constructor', path: '/c/', kind: 'file', mode: 'proxy', auth: { tokens: LABELS.map((label) => ({ token: tokenOf(label), label })) } }],
    });
  });
  after(async () => {
    await relay.stop();
    await origin.stop();
  });

  it('counts viewers per token label through real requests, whatever the label is called', async () => {
    const expected: Record<string, number> = {};
    for (const [i, label] of LABELS.entries()) {
      for (let n = 0; n <= i; n += 1) {
        const answer = await request(`${relay.relayUrl}/c/file.txt?token=${tokenOf(label)}`);
        assert.equal(answer.status, 200, `${label}: ${answer.body}`);
      }
      expected[label] = i + 1;
    }
    const stats = (await relay.api.call('GET', '/api/stats')).body;
    assert.deepEqual(stats.routes.constructor.tokens, expected);
    assert.deepEqual(stats.totals.tokens, expected);
    assert.equal(stats.routes.constructor.requests, 15);
  });

  it('a `__proto__` label is refused by the config; counted as a plain key if one ever reaches the book', () => {
    assert.throws(
      () =>
        parseConfig({ routes: [{ id: 'r', path: '/r/', kind: 'file', mode: 'proxy', auth: { tokens: [{ token: 'proto-token-1', label: '__proto__' }] } }] }),
      /routes\[0\]\.auth\.tokens\[0\]\.label/,
    );
    const book = new StatsBook();
    book.countError('r', '__proto__');
    book.countError('r', '__proto__');
    book.countError('r', 'toString');
    book.route('r').tokens['__proto__'] = (book.route('r').tokens['__proto__'] ?? 0) + 1;
    const snapshot = JSON.parse(JSON.stringify(book.snapshot()));
    assert.deepEqual(snapshot.routes.r.errors, JSON.parse('{"__proto__":2,"toString":1}'));
    assert.deepEqual(snapshot.totals.errors, JSON.parse('{"__proto__":2,"toString":1}'));
    assert.deepEqual(snapshot.totals.tokens, JSON.parse('{"__proto__":1}'));
  });
});
