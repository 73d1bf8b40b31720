/**
 * Failed admin logins per client address in a sliding minute; past the limit the address
 * gets 429 until the minute is over. Every loopback address (127.0.0.0/8, ::1) is one client,
 * the machine itself: otherwise a local process got a fresh allowance from each of 127.0.0.2,
 * 127.0.0.3, ... Bounded: at most ADMIN_LIMITER_MAX_ADDRESSES tracked (the oldest entry is
 * dropped first).
 */

/** Most client addresses tracked at once. */
export const ADMIN_LIMITER_MAX_ADDRESSES = 10_000;
const WINDOW_MS = 60_000;
const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1)$/;

/** The client an address counts as: "loopback" for every loopback address, else the address itself. */
function clientOf(address: string): string {
  return LOOPBACK.test(address) ? 'loopback' : address;
}

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly maxPerMinute: () => number) {}

  private recent(peer: string, now: number): number[] {
    const address = clientOf(peer);
    const list = (this.failures.get(address) ?? []).filter((t) => now - t < WINDOW_MS);
    if (list.length === 0) this.failures.delete(address);
    else this.failures.set(address, list);
    return list;
  }

  /** True when the address has used up its failures for now. */
  blocked(address: string, now = Date.now()): boolean {
    return this.recent(address, now).length >= this.maxPerMinute();
  }

  /** Seconds until the address may try again. */
  retryAfterSeconds(address: string, now = Date.now()): number {
    const oldest = this.recent(address, now)[0] ?? now;
    return Math.max(1, Math.ceil((oldest + WINDOW_MS - now) / 1000));
  }

  recordFailure(peer: string, now = Date.now()): void {
    const list = this.recent(peer, now);
    const address = clientOf(peer);
    list.push(now);
    this.failures.delete(address);
    this.failures.set(address, list.slice(-this.maxPerMinute()));
    while (this.failures.size > ADMIN_LIMITER_MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value as string);
  }

  get trackedAddresses(): number {
    return this.failures.size;
  }
}
