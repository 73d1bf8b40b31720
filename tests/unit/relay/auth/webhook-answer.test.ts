/**
 * What a webhook's 2xx answer may say (relay/auth/webhook.ts parseAllow): nothing, a label,
 * a maximum duration; anything else is a failed call (the route's onError decides), never a
 * label that breaks a log line or a duration that is not a number.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllow } from '../../../../electron/engine/relay/auth/webhook.js';

describe('webhook allow answers', () => {
  it('takes an empty body, a label and a maximum duration', () => {
    assert.deepEqual(parseAllow(''), {});
    assert.deepEqual(parseAllow('  \n'), {});
    assert.deepEqual(parseAllow('{}'), {});
    assert.deepEqual(parseAllow('{"label":"gold plan","maxDurationMs":60000,"other":1}'), { label: 'gold plan', maxDurationMs: 60_000 });
    assert.deepEqual(parseAllow('{"label":null}'), {});
  });
  it('refuses what it cannot use, naming the field', () => {
    assert.throws(() => parseAllow('allowed'), /not JSON/);
    assert.throws(() => parseAllow('[1]'), /not a JSON object/);
    assert.throws(() => parseAllow('{"label":"a\\nb"}'), /answer\.label/);
    assert.throws(() => parseAllow(`{"label":"${'x'.repeat(65)}"}`), /answer\.label/);
    assert.throws(() => parseAllow('{"label":7}'), /answer\.label/);
    assert.throws(() => parseAllow('{"maxDurationMs":"60s"}'), /answer\.maxDurationMs/);
    assert.throws(() => parseAllow('{"maxDurationMs":0}'), /answer\.maxDurationMs/);
    assert.throws(() => parseAllow('{"maxDurationMs":1.5}'), /answer\.maxDurationMs/);
  });
});
