/**
 * When the ACME manager orders (electron/engine/relay/tls/acme-schedule.ts), as pure
 * functions: renewal ahead of the end (renewBeforeDays, or a third of a short lifetime),
 * at once without a fitting certificate, exponential backoff after failures, capped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY_MS, nextAttemptAt, renewalAt, retryDelayMs } from '../../../../electron/engine/relay/tls/acme-schedule.js';

const settings = { renewBeforeDays: 30, retryMinMs: 60_000, retryMaxMs: 6 * 3_600_000 };
const NOW = Date.UTC(2026, 11, 5);

describe('ACME schedule', () => {
  it('renews a 90-day certificate 30 days before its end, and a short-lived one at a third of its lifetime left', () => {
    assert.equal(renewalAt(NOW, NOW + 90 * DAY_MS, 30), NOW + 60 * DAY_MS);
    assert.equal(renewalAt(NOW, NOW + 6 * DAY_MS, 30), NOW + 4 * DAY_MS);
    assert.equal(renewalAt(NOW, NOW + 30_000, 30), NOW + 20_000);
    assert.equal(renewalAt(NOW, NOW + 365 * DAY_MS, 10), NOW + 355 * DAY_MS, 'renewBeforeDays when it comes first');
  });

  it('backs off exponentially from retryMinMs after each failure, up to retryMaxMs', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 60_000, 6 * 3_600_000)),
      [60_000, 120_000, 240_000, 480_000, 960_000],
    );
    assert.equal(retryDelayMs(10, 60_000, 6 * 3_600_000), 6 * 3_600_000, 'capped');
    assert.equal(retryDelayMs(10_000, 60_000, 6 * 3_600_000), 6 * 3_600_000, 'no overflow after many failures');
    assert.equal(retryDelayMs(0, 60_000, 6 * 3_600_000), 0);
  });

  it('orders at once with no certificate, or one for other domains or another authority', () => {
    assert.equal(nextAttemptAt(NOW, undefined, 0, 0, settings), NOW);
    assert.equal(nextAttemptAt(NOW, { validFrom: NOW, validTo: NOW + 90 * DAY_MS, matches: false }, 0, 0, settings), NOW);
  });

  it('plans the renewal of a fitting certificate, at once when that time has passed', () => {
    const held = { validFrom: NOW - 10 * DAY_MS, validTo: NOW + 80 * DAY_MS, matches: true };
    assert.equal(nextAttemptAt(NOW, held, 0, 0, settings), NOW + 50 * DAY_MS);
    assert.equal(nextAttemptAt(NOW + 70 * DAY_MS, held, 0, 0, settings), NOW + 70 * DAY_MS);
  });

  it('after failures, retries by the backoff from the last failure, whatever the certificate', () => {
    const held = { validFrom: NOW - 70 * DAY_MS, validTo: NOW + 20 * DAY_MS, matches: true };
    assert.equal(nextAttemptAt(NOW, held, 1, NOW, settings), NOW + 60_000);
    assert.equal(nextAttemptAt(NOW, held, 3, NOW - 60_000, settings), NOW + 180_000);
    assert.equal(nextAttemptAt(NOW, undefined, 2, NOW - 500_000, settings), NOW, 'a wait already over: at once');
  });
});
