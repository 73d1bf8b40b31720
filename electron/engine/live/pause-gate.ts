/**
 * Pausing the relay: while paused, every new request is answered 503 OVERLOADED and
 * requests in flight (streams included) continue. The gate sits in the route table's
 * `match`, the first thing the relay server asks for each new request and nothing else
 * asks for, so the relay code needs no change; FLV streams keep using the table for node
 * choice and settings while paused.
 */
import type { RelayDeckConfig } from '../../../shared/config.js';
import { RelayError } from '../core/errors.js';
import { RouteTable } from '../routing/route-table.js';

/** The switch, shared by every table the engine builds. */
export class PauseGate {
  paused = false;
  /** Epoch ms when the relay was paused (0 while running). */
  since = 0;

  set(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    this.since = paused ? Date.now() : 0;
  }
}

/** A route table that refuses to match while its gate is closed. */
export class GatedRouteTable extends RouteTable {
  constructor(
    config: RelayDeckConfig,
    private readonly gate: PauseGate,
  ) {
    super(config);
  }

  override match(path: string) {
    if (this.gate.paused) throw new RelayError('OVERLOADED', 'the relay is paused by the operator');
    return super.match(path);
  }

  /** The match as it would be without the gate (for the "where would this URL go?" check). */
  matchIgnoringPause(path: string) {
    return super.match(path);
  }
}
