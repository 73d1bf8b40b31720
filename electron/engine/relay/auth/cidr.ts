/**
 * Matching viewer and proxy addresses against configured ranges. Parsing is the shared one
 * (shared/cidr.ts) that the config check uses too, so every range that validates matches.
 */
import { cidrContains, parseCidr, peerAddressBytes, type Cidr } from '../../../../shared/cidr.js';

export { parseCidr, type Cidr };

/** True when `address` (a socket or X-Forwarded-For address) lies in one of `cidrs`; never for a non-address. */
export function matchesAny(cidrs: readonly Cidr[], address: string): boolean {
  const bytes = peerAddressBytes(address);
  return bytes !== undefined && cidrs.some((c) => cidrContains(c, bytes));
}
