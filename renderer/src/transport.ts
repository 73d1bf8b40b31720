/**
 * How the page reaches the engine. In the desktop app the preload exposes `window.relaydeck`
 * (IPC, no token). In a browser the page talks to the admin HTTP API on its own origin with
 * the admin token, which is asked for once and kept in sessionStorage (never in the URL).
 */
import { API_CALL_NAMES, ApiError, type RelayDeckClient } from '../../shared/api.js';
import type { EventStreamStatus } from '../../shared/event-stream-client.js';
import { createHttpClient } from '../../shared/http-client.js';

/** sessionStorage key of the admin token (per tab, gone when the tab closes). */
export const TOKEN_STORAGE_KEY = 'relaydeck.adminToken';

/** Code given to a bridge error whose code did not survive the crossing. */
export const IPC_ERROR_CODE = 'IPC_ERROR';

/**
 * Electron's contextBridge re-creates an Error thrown in the preload as a plain Error with
 * the same message: `code` and `status` are dropped. Keep them when present, else mark the
 * error as coming from IPC, so callers always get an `ApiError`.
 */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const fields = error as { code?: unknown; status?: unknown; message?: unknown } | null;
  const message = typeof fields?.message === 'string' ? fields.message : String(error);
  const code = typeof fields?.code === 'string' ? fields.code : IPC_ERROR_CODE;
  const status = typeof fields?.status === 'number' ? fields.status : 0;
  return new ApiError(code, message, status);
}

/** `window.relaydeck` with every rejection turned into an `ApiError`; undefined outside Electron. */
export function bridgeApi(): RelayDeckClient | undefined {
  const bridge = window.relaydeck;
  if (!bridge) return undefined;
  const api: Record<string, unknown> = {};
  for (const name of API_CALL_NAMES) {
    const method = bridge[name] as (input: unknown) => Promise<unknown>;
    api[name] = (input: unknown) => method(input).catch((error: unknown) => Promise.reject(asApiError(error)));
  }
  // Events arrive over IPC from main (one fixed channel); a bridge without onEvent (an older
  // preload) simply has no live updates.
  api.onEvent = typeof bridge.onEvent === 'function' ? bridge.onEvent.bind(bridge) : () => () => undefined;
  return api as unknown as RelayDeckClient;
}

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? undefined;
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_STORAGE_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_STORAGE_KEY);
}

/** The admin HTTP API and its event stream on this page's own origin (connect-src 'self'). */
export function httpApi(token: string, onEventStatus?: (status: EventStreamStatus) => void): RelayDeckClient {
  return createHttpClient({ baseUrl: window.location.origin, token, onEventStatus });
}

/**
 * True when the page is not on the admin port (app://relaydeck/ or file://) and has no
 * preload: there is no admin API on its origin to fall back to.
 */
export function isOrphanPage(): boolean {
  const { protocol } = window.location;
  return protocol !== 'http:' && protocol !== 'https:' && !window.relaydeck;
}
