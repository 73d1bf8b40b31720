/**
 * The fleet as the Fleet page shows it: getFleet once per tick while the page is mounted and
 * the document visible. The fleet is not in the pushed snapshot (it costs Redis reads), so
 * the page asks for it, but never piles calls up: a tick while a call is in flight, or
 * while the page is hidden, asks for nothing; a page becoming visible asks at once. Kept
 * outside React like the live stores (useSyncExternalStore).
 */
import type { ApiError } from '../../../shared/api.js';
import type { FleetDto } from '../../../shared/dto.js';
import { asApiError } from '../transport.js';
import { ExternalStore } from './external-store.js';

/** How often the Fleet page asks for the fleet while it is visible, ms (the engine's event tick). */
export const FLEET_REFRESH_MS = 1_000;

export interface FleetView {
  /** The last answer; kept when a later call fails. */
  fleet?: FleetDto;
  /** The last call's refusal; cleared by the next answer. */
  error?: ApiError;
  /** Epoch ms (this page's clock) of the last answer: "last seen" is counted from it. */
  loadedAt: number;
}

export interface FleetPollerOptions {
  /** One getFleet call. */
  load: () => Promise<FleetDto>;
  /** True while the document is visible (document.visibilityState). */
  visible: () => boolean;
  /** The page's clock, epoch ms. */
  now?: () => number;
}

export class FleetPoller extends ExternalStore {
  private view: FleetView = { loadedAt: 0 };
  private inFlight = false;
  private stopped = false;
  /** Calls made, for the tests and the call-storm check. */
  calls = 0;

  constructor(private readonly options: FleetPollerOptions) {
    super();
  }

  readonly getView = (): FleetView => this.view;

  /** Ask for the fleet unless hidden, stopped or a call is already on its way; resolves when this tick is done. */
  async tick(): Promise<void> {
    if (this.stopped || this.inFlight || !this.options.visible()) return;
    this.inFlight = true;
    this.calls += 1;
    try {
      const fleet = await this.options.load();
      if (this.stopped) return;
      this.view = { fleet, loadedAt: (this.options.now ?? Date.now)() };
    } catch (caught) {
      if (this.stopped) return;
      this.view = { ...this.view, error: asApiError(caught) };
    } finally {
      this.inFlight = false;
    }
    this.changed();
  }

  /** Calls again after `stop` (the page is shown again; React's StrictMode also mounts an effect twice). */
  start(): void {
    this.stopped = false;
  }

  /** No more calls, and answers still on their way are dropped (the page went away). */
  stop(): void {
    this.stopped = true;
  }
}
