/**
 * How many new FLV streams (upstream pulls) one client address may open: at most
 * flv.maxStreamsPerClient of those it opened still open, and new ones at the rate
 * flv.newStreamsPerClientPerMinute (a token bucket kept as one number, GCRA: that many at
 * once, then one more each 60/N s). Joining a stream that is already open is never counted.
 *
 * A client is its address; an IPv6 address is taken by its /64 (one subscriber's prefix).
 * Bounded: at most FLV_MAX_TRACKED_CLIENTS entries, least recently used dropped first; an
 * entry with no open stream and a full allowance says nothing and is dropped as soon as it
 * is seen so (the two oldest are checked on every admission).
 */
import { peerAddressBytes } from '../../../../shared/cidr.js';
import type { FlvSettings } from '../../../../shared/config.js';
import { RelayError } from '../../core/errors.js';

/** Most client addresses tracked at once (least recently used dropped first). */
export const FLV_MAX_TRACKED_CLIENTS = 10_000;
const MINUTE_MS = 60_000;

interface ClientEntry {
  /** Streams this client opened that are still open. */
  open: number;
  /** GCRA theoretical arrival time, epoch ms: the allowance is full when it is <= now. */
  tat: number;
}

/** A refusal: the error to answer with and the Retry-After seconds. */
export interface ClientRefusal {
  error: RelayError;
  retryAfterSeconds: number;
}

/** The key of a client address: IPv4 as is, IPv6 by its /64, anything unparsable as written. */
export function clientKey(address: string): string {
  const bytes = peerAddressBytes(address);
  if (!bytes) return address;
  if (bytes.length === 4) return bytes.join('.');
  return `${Buffer.from(bytes.subarray(0, 8)).toString('hex')}::/64`;
}

export class ClientStreamLimits {
  private readonly clients = new Map<string, ClientEntry>();

  /**
   * Admit a new stream from `address`, or say why not. On success the stream is counted
   * against the client and the returned release must be called once when it closes.
   */
  admit(address: string, flv: FlvSettings, now = Date.now()): { release: () => void } | ClientRefusal {
    if (flv.maxStreamsPerClient === 0 && flv.newStreamsPerClientPerMinute === 0) return { release: () => {} };
    this.expireOldest(now);
    const key = clientKey(address);
    const entry = this.clients.get(key) ?? { open: 0, tat: now };
    const max = flv.maxStreamsPerClient;
    if (max > 0 && entry.open >= max) {
      // A slot frees when one of its streams closes: flv.idleCloseMs after its last viewer leaves.
      return refusal(
        `this client address has opened ${entry.open} streams that are still open, the most flv.maxStreamsPerClient (${max}) allows; joining an open stream is not limited`,
        Math.ceil(flv.idleCloseMs / 1000),
      );
    }
    const rate = flv.newStreamsPerClientPerMinute;
    let tat = entry.tat;
    if (rate > 0) {
      const intervalMs = MINUTE_MS / rate;
      const start = Math.max(tat, now);
      const waitMs = start + intervalMs - now - MINUTE_MS;
      if (waitMs > 0)
        return refusal(
          `this client address opens new streams faster than flv.newStreamsPerClientPerMinute (${rate}) allows; joining an open stream is not limited`,
          Math.ceil(waitMs / 1000),
        );
      tat = start + intervalMs;
    }
    entry.open += 1;
    entry.tat = tat;
    this.clients.delete(key);
    this.clients.set(key, entry);
    while (this.clients.size > FLV_MAX_TRACKED_CLIENTS) this.clients.delete(this.clients.keys().next().value as string);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        // The entry may have been dropped (bound) meanwhile: then there is nothing to give back.
        if (this.clients.get(key) === entry) {
          entry.open -= 1;
          if (entry.open <= 0 && entry.tat <= Date.now()) this.clients.delete(key);
        }
      },
    };
  }

  get trackedClients(): number {
    return this.clients.size;
  }

  /** Drop the two least recently used entries when they hold nothing (amortised expiry, O(1)). */
  private expireOldest(now: number): void {
    for (let i = 0; i < 2; i += 1) {
      const oldest = this.clients.entries().next().value as [string, ClientEntry] | undefined;
      if (!oldest || oldest[1].open > 0 || oldest[1].tat > now) return;
      this.clients.delete(oldest[0]);
    }
  }
}

function refusal(message: string, retryAfterSeconds: number): ClientRefusal {
  return { error: new RelayError('CLIENT_STREAM_LIMIT', message), retryAfterSeconds: Math.max(1, retryAfterSeconds) };
}
