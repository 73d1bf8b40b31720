/** Comparing secrets in constant time: both sides are hashed first, so their lengths match. */
import { createHash, timingSafeEqual } from 'node:crypto';

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** True when `given` equals `expected`; the time taken does not depend on where they differ. */
export function secretsMatch(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}
