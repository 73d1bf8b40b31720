/** The dashboard charts' y axis (renderer/src/components/LineChart.tsx niceScale): round steps, never NaN. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { niceScale } from '../../../renderer/src/components/LineChart.js';

test('all-zero or empty data gives a 0..1 axis, not NaN (a regression: "M72.0 NaN" paths)', () => {
  assert.deepEqual(niceScale(0), { step: 0.25, top: 1 });
  assert.deepEqual(niceScale(0, true), { step: 1, top: 1 });
  assert.deepEqual(niceScale(Number.NaN), { step: 0.25, top: 1 });
});

test('steps are 1, 2 or 5 times a power of ten, with at most four steps to the top', () => {
  for (const [max, step, top] of [
    [22, 10, 30],
    [3, 1, 3],
    [1_600_000, 500_000, 2_000_000],
    [7, 2, 8],
  ] as const) {
    const scale = niceScale(max);
    assert.equal(scale.step, step, `max ${max}`);
    assert.equal(scale.top, top, `max ${max}`);
    assert.ok(scale.top / scale.step <= 4 + 1e-9);
  }
  assert.deepEqual(niceScale(1, true), { step: 1, top: 1 }, 'counts: whole steps');
});
