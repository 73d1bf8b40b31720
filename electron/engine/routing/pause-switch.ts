/**
 * The operator's pause: while paused, every new request on the relay port is refused 503
 * OVERLOADED (admission.ts, its "paused" rule) and requests in flight, streams included,
 * continue. One switch lives as long as the engine; route tables come and go beside it.
 */

/** What admission reads of the pause. */
export interface PauseState {
  readonly paused: boolean;
}

/** The pause switch the engine owns and the admin API flips. */
export class PauseSwitch implements PauseState {
  private on = false;

  /** True while new requests are refused. */
  get paused(): boolean {
    return this.on;
  }

  /** Refuse new requests from now on; returns false when it was already paused. */
  pause(): boolean {
    if (this.on) return false;
    this.on = true;
    return true;
  }

  /** pause() or resume() by a flag (the operator API's setPaused); returns false when nothing changed. */
  set(paused: boolean): boolean {
    return paused ? this.pause() : this.resume();
  }

  /** Admit new requests again; returns false when it was not paused. */
  resume(): boolean {
    if (!this.on) return false;
    this.on = false;
    return true;
  }
}
