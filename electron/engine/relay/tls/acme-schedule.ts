/**
 * When the ACME manager (acme.ts) orders next, as pure functions of the clock, the
 * certificate in use and the failures so far, so the plan is tested without a timer or a CA.
 *
 * A certificate is renewed tls.acme.renewBeforeDays before it ends, or when a third of its
 * lifetime is left if that comes first (a 90-day certificate at 30 days left, a 6-day one
 * at 2 days, a test certificate of 30 seconds at 10 seconds). A failed attempt is retried
 * after tls.acme.retryMinMs, doubling with each failure up to tls.acme.retryMaxMs.
 */
import type { TlsAcmeSettings } from '../../../../shared/config.js';

export const DAY_MS = 86_400_000;

/** The certificate in use as the plan sees it. */
export interface HeldCertificate {
  validFrom: number;
  validTo: number;
  /** It was obtained for the domains and directory configured now. */
  matches: boolean;
}

/** When a certificate valid from `validFrom` to `validTo` is due for renewal, epoch ms. */
export function renewalAt(validFrom: number, validTo: number, renewBeforeDays: number): number {
  const lifetime = Math.max(0, validTo - validFrom);
  return validTo - Math.min(renewBeforeDays * DAY_MS, lifetime / 3);
}

/** The wait after the `failures`-th failure in a row (1 = the first), ms. */
export function retryDelayMs(failures: number, minMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 40));
}

/**
 * When the next order starts, epoch ms: after a failure, by the backoff from `lastFailureAt`;
 * with no certificate, or one for other domains or another authority, at once; otherwise at
 * its renewal time (at once when that has passed).
 */
export function nextAttemptAt(
  now: number,
  held: HeldCertificate | undefined,
  failures: number,
  lastFailureAt: number,
  settings: Pick<TlsAcmeSettings, 'renewBeforeDays' | 'retryMinMs' | 'retryMaxMs'>,
): number {
  if (failures > 0) return Math.max(now, lastFailureAt + retryDelayMs(failures, settings.retryMinMs, settings.retryMaxMs));
  if (!held || !held.matches) return now;
  return Math.max(now, renewalAt(held.validFrom, held.validTo, settings.renewBeforeDays));
}
