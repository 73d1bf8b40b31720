/**
 * Probe answers shared between the relays of a fleet (fleet.shareProbes; the interface is
 * upstream/probe.ts ProbeSharing). In Redis, per node: `probe:<nodeId>` holds the node's last
 * stream list as JSON {keys, ttlMs, by}, written with PX locator.probeTtlMs (its age is
 * ttlMs - PTTL: no clock is compared between relays), and `probe-lock:<nodeId>` is the claim
 * on the next probe (SET NX PX, deleted with the answer's write), so one relay asks a node per
 * refresh instead of every relay.
 * Every call settles: Redis away reads as "nothing shared" / "claimed", and the relay asks the
 * node itself, as alone.
 */
import type { Logger } from '../core/log.js';
import type { ProbeSharing, SharedProbeList } from '../upstream/probe.js';
import type { FleetLink } from './link.js';

/** Largest list shared, bytes of JSON; a larger one is kept by its relay only. */
export const SHARED_PROBE_MAX_BYTES = 1024 * 1024;

export class SharedProbes implements ProbeSharing {
  /** Redis calls and what came of them (tests and the bench count them). */
  readonly counters = { reads: 0, hits: 0, claims: 0, writes: 0 };

  constructor(
    private readonly link: FleetLink,
    private readonly relayId: string,
    private readonly log: Logger,
  ) {}

  async read(nodeId: string): Promise<SharedProbeList | undefined> {
    if (!this.link.up) return undefined;
    const key = this.link.keys.key('probe', nodeId);
    try {
      this.counters.reads += 1;
      const result = await this.link.command(() => this.link.redis.multi().get(key).pttl(key).exec());
      const [value, pttl] = [result?.[0]?.[1], result?.[1]?.[1]];
      if (typeof value !== 'string' || typeof pttl !== 'number' || pttl <= 0) return undefined;
      const stored = JSON.parse(value) as { keys?: unknown; ttlMs?: unknown };
      if (!Array.isArray(stored.keys) || typeof stored.ttlMs !== 'number') return undefined;
      this.counters.hits += 1;
      return { keys: stored.keys.filter((k): k is string => typeof k === 'string'), ageMs: Math.max(0, stored.ttlMs - pttl) };
    } catch (error) {
      this.log.debug(`shared probe answer of node ${nodeId}: ${(error as Error).message}`);
      return undefined;
    }
  }

  async claim(nodeId: string, forMs: number): Promise<boolean> {
    if (!this.link.up) return true;
    try {
      this.counters.claims += 1;
      const answer = await this.link.command(() => this.link.redis.set(this.link.keys.key('probe-lock', nodeId), this.relayId, 'PX', forMs, 'NX'));
      return answer === 'OK';
    } catch {
      return true;
    }
  }

  async write(nodeId: string, keys: readonly string[], ttlMs: number): Promise<void> {
    if (!this.link.up) return;
    const value = JSON.stringify({ keys, ttlMs, by: this.relayId });
    if (Buffer.byteLength(value) > SHARED_PROBE_MAX_BYTES) return;
    try {
      this.counters.writes += 1;
      // The answer is stored: the claim ends with it (the next refresh may be anyone's).
      const keys = this.link.keys;
      await this.link.command(() => this.link.redis.multi().set(keys.key('probe', nodeId), value, 'PX', ttlMs).del(keys.key('probe-lock', nodeId)).exec());
    } catch (error) {
      this.log.debug(`sharing the probe answer of node ${nodeId}: ${(error as Error).message}`);
    }
  }
}
