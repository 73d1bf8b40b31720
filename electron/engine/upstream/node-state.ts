/**
 * Live state of one node, kept apart from its configuration: health (from active and
 * passive checks), RTT, load and traffic. Replaced configuration keeps the live state.
 */
import type { NodeConfig } from '../../../shared/config.js';

export type NodeHealth = 'up' | 'down';
/** What the locators see: only "up" nodes get new sessions. */
export type NodeStatus = 'up' | 'down' | 'draining' | 'disabled';

/** Most passive failures remembered per node (older ones fall out of the window anyway). */
export const MAX_PASSIVE_FAILURES_KEPT = 1_000;

export class NodeState {
  health: NodeHealth = 'up';
  /** Round-trip time of the last passed check, ms (-1 before the first). */
  rttMs = -1;
  consecutivePasses = 0;
  consecutiveFails = 0;
  lastCheckAt = 0;
  lastError = '';
  /** Epoch ms of recent proxy failures (passive checks), oldest first. */
  passiveFailures: number[] = [];
  /** True while passive failures keep the node down. */
  passivelyDown = false;
  bytesIn = 0;
  bytesOut = 0;
  mbpsIn = 0;
  mbpsOut = 0;
  private lastRateAt = Date.now();
  private lastBytesIn = 0;
  private lastBytesOut = 0;

  constructor(public config: NodeConfig) {}

  get status(): NodeStatus {
    if (!this.config.enabled) return 'disabled';
    if (this.health === 'down' || this.passivelyDown) return 'down';
    if (this.config.draining) return 'draining';
    return 'up';
  }

  /** Usable for new sessions. */
  get usable(): boolean {
    return this.status === 'up';
  }

  /** Recompute Mbit/s from the byte counters (called about once a second). */
  sampleRates(now = Date.now()): void {
    const seconds = (now - this.lastRateAt) / 1000;
    if (seconds <= 0) return;
    this.mbpsIn = Math.round((((this.bytesIn - this.lastBytesIn) * 8) / seconds / 1e6) * 1000) / 1000;
    this.mbpsOut = Math.round((((this.bytesOut - this.lastBytesOut) * 8) / seconds / 1e6) * 1000) / 1000;
    this.lastBytesIn = this.bytesIn;
    this.lastBytesOut = this.bytesOut;
    this.lastRateAt = now;
  }
}
