/**
 * The two refusals fleet mode adds to every change (routes, nodes, shared settings), in one
 * place: what the operator is told (ErrorNotice shows it wherever an API error is shown,
 * forms included), and the reload after a conflict (LiveProvider wraps its client with
 * `reloadOnConflict`, so every page's change gets it without code of its own).
 *   409 CONFIG_CONFLICT: another relay changed the shared config first; the lists are
 *     reloaded and the operator tries again on the new version.
 *   503 FLEET_UNAVAILABLE: this relay cannot reach the fleet's Redis; changes are refused
 *     until it returns (viewers are still served).
 */
import { API_CALL_NAMES, type ApiError, type RelayDeckClient } from '../../shared/api.js';

export const CONFIG_CONFLICT = 'CONFIG_CONFLICT';
export const FLEET_UNAVAILABLE = 'FLEET_UNAVAILABLE';

/** What the operator is told for a fleet refusal; undefined for any other error (its own message stands). */
export function fleetRefusalText(error: Pick<ApiError, 'code'>): string | undefined {
  if (error.code === CONFIG_CONFLICT) return 'Changed on another relay meanwhile: the list is reloaded, try again.';
  if (error.code === FLEET_UNAVAILABLE) return "The fleet's Redis is away: changes are refused until it returns (viewers are still served).";
  return undefined;
}

/** True for the error a change gets when another relay changed the shared config first. */
export function isConfigConflict(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === CONFIG_CONFLICT;
}

/**
 * `api` whose calls run `reload` when they are refused with CONFIG_CONFLICT (the refusal
 * still reaches the caller). Reloads do not pile up: one runs at a time, and a conflict
 * while one runs asks for one more after it.
 */
export function reloadOnConflict(api: RelayDeckClient, reload: () => Promise<void>): RelayDeckClient {
  let running: Promise<void> | undefined;
  let again = false;
  const start = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = reload()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          start();
        }
      });
  };
  const wrapped: Record<string, unknown> = { onEvent: api.onEvent.bind(api) };
  for (const name of API_CALL_NAMES) {
    const call = api[name] as (input: unknown) => Promise<unknown>;
    wrapped[name] = (input: unknown) =>
      call.call(api, input).catch((error: unknown) => {
        if (isConfigConflict(error)) start();
        throw error;
      });
  }
  return wrapped as unknown as RelayDeckClient;
}
