/**
 * A least-recently-used map bounded in bytes and in entries, with a time to live per
 * entry. A Map keeps insertion order, so a read moves the entry to the end and eviction
 * takes from the front. An entry larger than the byte bound is never stored, so the bound
 * holds at every moment.
 */

export interface Sized {
  /** Bytes the entry accounts for (body plus a fixed overhead). */
  readonly sizeBytes: number;
}

export interface LruBounds {
  maxBytes: number;
  maxEntries: number;
}

interface Slot<V> {
  value: V;
  expiresAt: number;
}

export class ByteLru<V extends Sized> {
  private readonly slots = new Map<string, Slot<V>>();
  private usedBytes = 0;
  /** Entries dropped to make room (not counting expiry). */
  evictions = 0;

  get bytes(): number {
    return this.usedBytes;
  }

  get size(): number {
    return this.slots.size;
  }

  /** The live entry for `key` (now most recently used), or undefined; an expired one is dropped. */
  get(key: string, now = Date.now()): V | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    this.slots.delete(key);
    if (slot.expiresAt <= now) {
      this.usedBytes -= slot.value.sizeBytes;
      return undefined;
    }
    this.slots.set(key, slot);
    return slot.value;
  }

  /** Store `value` until `expiresAt`, evicting least recently used entries to stay within `bounds`. False when it cannot fit at all. */
  set(key: string, value: V, expiresAt: number, bounds: LruBounds): boolean {
    this.delete(key);
    if (value.sizeBytes > bounds.maxBytes || bounds.maxEntries < 1) {
      this.trim(bounds);
      return false;
    }
    this.slots.set(key, { value, expiresAt });
    this.usedBytes += value.sizeBytes;
    this.trim(bounds);
    return true;
  }

  delete(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    this.usedBytes -= slot.value.sizeBytes;
  }

  /** Evict from the least recently used end until within `bounds` (bounds may have shrunk). */
  trim(bounds: LruBounds): void {
    for (const [key, slot] of this.slots) {
      if (this.usedBytes <= bounds.maxBytes && this.slots.size <= bounds.maxEntries) break;
      this.slots.delete(key);
      this.usedBytes -= slot.value.sizeBytes;
      this.evictions += 1;
    }
  }

  /** Drop every expired entry. */
  sweep(now = Date.now()): void {
    for (const [key, slot] of this.slots) {
      if (slot.expiresAt > now) continue;
      this.slots.delete(key);
      this.usedBytes -= slot.value.sizeBytes;
    }
  }

  clear(): void {
    this.slots.clear();
    this.usedBytes = 0;
  }
}
