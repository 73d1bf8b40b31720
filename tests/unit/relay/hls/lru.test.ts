/** The byte-bounded LRU: the bound holds after every operation, recency decides eviction, entries expire. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteLru } from '../../../../electron/engine/relay/hls/lru.js';

const item = (sizeBytes: number) => ({ sizeBytes });
const FAR = Number.MAX_SAFE_INTEGER;

describe('ByteLru', () => {
  it('never holds more bytes or entries than its bounds, whatever is stored', () => {
    const lru = new ByteLru<{ sizeBytes: number }>();
    const bounds = { maxBytes: 10_000, maxEntries: 50 };
    let seed = 7;
    for (let i = 0; i < 5_000; i += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      lru.set(`k${seed % 300}`, item(1 + (seed % 3_000)), FAR, bounds);
      assert.ok(lru.bytes <= bounds.maxBytes && lru.size <= bounds.maxEntries, `bound broken at step ${i}: ${lru.bytes} bytes, ${lru.size} entries`);
    }
    assert.ok(lru.evictions > 0);
  });

  it('evicts the least recently used first (a read counts as a use)', () => {
    const lru = new ByteLru<{ sizeBytes: number }>();
    const bounds = { maxBytes: 300, maxEntries: 10 };
    lru.set('a', item(100), FAR, bounds);
    lru.set('b', item(100), FAR, bounds);
    lru.set('c', item(100), FAR, bounds);
    assert.ok(lru.get('a'));
    lru.set('d', item(100), FAR, bounds);
    assert.equal(lru.get('b'), undefined, 'b was least recently used');
    assert.ok(lru.get('a') && lru.get('c') && lru.get('d'));
  });

  it('refuses an entry larger than the whole bound instead of emptying itself', () => {
    const lru = new ByteLru<{ sizeBytes: number }>();
    const bounds = { maxBytes: 300, maxEntries: 10 };
    lru.set('a', item(100), FAR, bounds);
    assert.equal(lru.set('huge', item(301), FAR, bounds), false);
    assert.ok(lru.get('a'));
    assert.equal(lru.bytes, 100);
  });

  it('an expired entry is gone on read and on sweep, and its bytes are released', () => {
    const lru = new ByteLru<{ sizeBytes: number }>();
    const bounds = { maxBytes: 1_000, maxEntries: 10 };
    lru.set('old', item(100), 1_000, bounds);
    lru.set('older', item(200), 500, bounds);
    lru.set('new', item(300), 5_000, bounds);
    assert.equal(lru.get('old', 1_000), undefined);
    lru.sweep(2_000);
    assert.equal(lru.size, 1);
    assert.equal(lru.bytes, 300);
  });

  it('trim applies lowered bounds', () => {
    const lru = new ByteLru<{ sizeBytes: number }>();
    for (let i = 0; i < 10; i += 1) lru.set(`k${i}`, item(100), FAR, { maxBytes: 10_000, maxEntries: 100 });
    lru.trim({ maxBytes: 250, maxEntries: 100 });
    assert.equal(lru.size, 2);
    assert.ok(lru.get('k9') && lru.get('k8'));
  });
});
