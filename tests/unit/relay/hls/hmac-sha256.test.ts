// The plain-JS HMAC-SHA256 that signs hint MACs (hmac-sha256.ts) equals node:crypto's, for
// message lengths around every padding boundary, multi-byte UTF-8, and keys of 0..64 bytes.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { HmacSha256 } from '../../../../electron/engine/relay/hls/hmac-sha256.js';

test('HmacSha256 matches createHmac for every message length 0..300 and keys of 0, 1, 32 and 64 bytes', () => {
  for (const keyLength of [0, 1, 32, 64]) {
    const key = randomBytes(keyLength);
    const mac = new HmacSha256(key);
    for (let n = 0; n <= 300; n += 1) {
      const message = 'a\n/live/seg_000000001.ts\nt=0123456789abcdef&'.repeat(8).slice(0, n);
      assert.equal(mac.mac(message).toString('hex'), createHmac('sha256', key).update(message).digest('hex'), `key ${keyLength} B, message ${n} chars`);
    }
    const wide = 'node-é\n/live/ü/seg €.ts\nt=✓'.repeat(5);
    assert.equal(mac.mac(wide).toString('hex'), createHmac('sha256', key).update(wide).digest('hex'));
  }
});

test('HmacSha256 refuses a key longer than one block', () => {
  assert.throws(() => new HmacSha256(Buffer.alloc(65)), /longer than 64 bytes/);
});
