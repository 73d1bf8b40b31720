/**
 * The operator API over the admin HTTP API, for the browser (headless mode) and for Node
 * (tests, scripts). Every method is derived from `API_CALLS`: `:id` is filled from
 * `input.id`, `input.body` is sent as JSON when the binding says so, and an error answer
 * `{ "error": { "code", "message" } }` becomes an `ApiError` with the HTTP status.
 * Uses only `fetch`, so it runs unchanged in a page and in Node 20.
 */
import { API_CALL_NAMES, API_CALLS, ApiError, type ApiCallName, type HttpBinding, type RelayDeckClient } from './api.js';
import type { ErrorBody } from './dto.js';
import { EventStreamClient, type EventStreamStatus } from './event-stream-client.js';
import { EVENTS_PATH } from './events.js';

/** A call that gets no response within this long is abandoned, in ms. */
export const DEFAULT_HTTP_CLIENT_TIMEOUT_MS = 15_000;

/** Codes the client itself produces (the server's codes come from its error body). */
export const CLIENT_ERROR_CODES = {
  /** No HTTP answer: connection refused, DNS failure, CORS/CSP refusal. Status 0. */
  NETWORK: 'NETWORK',
  /** No answer within `timeoutMs`. Status 0. */
  TIMEOUT: 'TIMEOUT',
  /** An error status without the JSON error body (e.g. a proxy in between). */
  HTTP_STATUS: 'HTTP_STATUS',
  /** A success status whose body is not JSON. */
  BAD_RESPONSE: 'BAD_RESPONSE',
} as const;

export interface HttpClientOptions {
  /** Origin of the admin server, e.g. `http://127.0.0.1:8091` (a trailing "/" is ignored). */
  baseUrl: string;
  /** The admin bearer token, or a function read on every call (the token may change). */
  token: string | (() => string);
  /** Per-call timeout in ms. Default 15000. */
  timeoutMs?: number;
  /** The fetch to use. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Told when the event stream (onEvent) connects, drops or is refused. */
  onEventStatus?: (status: EventStreamStatus) => void;
}

type AnyInput = { id?: unknown; body?: unknown } | undefined;

/** The request path for a binding, with `:id` filled (percent-encoded) from the input. */
export function pathFor(binding: HttpBinding, input: AnyInput): string {
  if (!binding.path.includes(':id')) return binding.path;
  const id = input?.id;
  if (typeof id !== 'string' || id === '') throw new ApiError('BAD_CONFIG', 'id: expected a non-empty string', 400);
  return binding.path.replace(':id', encodeURIComponent(id));
}

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as ErrorBody | null)?.error;
  return typeof error === 'object' && error !== null && typeof error.code === 'string' && typeof error.message === 'string';
}

async function readJson(response: Response): Promise<{ ok: true; value: unknown } | { ok: false; text: string }> {
  const text = await response.text();
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, text };
  }
}

/**
 * Build a client of the admin HTTP API at `options.baseUrl`: every call, plus `onEvent`
 * (the SSE stream at EVENTS_PATH, shared by all listeners; see event-stream-client.ts).
 */
export function createHttpClient(options: HttpClientOptions): RelayDeckClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_HTTP_CLIENT_TIMEOUT_MS;
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const tokenOf = typeof options.token === 'function' ? options.token : () => options.token as string;

  async function call(name: ApiCallName, input: AnyInput): Promise<unknown> {
    const binding = API_CALLS[name];
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${tokenOf()}` };
    let body: string | undefined;
    if (binding.body) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(input?.body ?? null);
    }
    let response: Response;
    try {
      const query = binding.query && input?.body && typeof input.body === 'object' ? `?${new URLSearchParams(input.body as Record<string, string>)}` : '';
      response = await doFetch(`${base}${pathFor(binding, input)}${query}`, {
        method: binding.method,
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
        credentials: 'omit',
        redirect: 'error',
      });
    } catch (error) {
      if (error instanceof ApiError) throw error;
      const name = (error as Error | undefined)?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new ApiError(CLIENT_ERROR_CODES.TIMEOUT, `${binding.method} ${binding.path}: no answer within ${timeoutMs} ms`, 0);
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause ? ` (${cause.code ?? cause.message})` : '';
      throw new ApiError(CLIENT_ERROR_CODES.NETWORK, `${binding.method} ${binding.path}: ${(error as Error).message}${detail}`, 0);
    }
    const parsed = await readJson(response);
    if (!response.ok) {
      if (parsed.ok && isErrorBody(parsed.value)) throw new ApiError(parsed.value.error.code, parsed.value.error.message, response.status);
      throw new ApiError(CLIENT_ERROR_CODES.HTTP_STATUS, `${binding.method} ${binding.path}: HTTP ${response.status}`, response.status);
    }
    if (!parsed.ok) throw new ApiError(CLIENT_ERROR_CODES.BAD_RESPONSE, `${binding.method} ${binding.path}: answer is not JSON`, response.status);
    return parsed.value;
  }

  const client: Record<string, unknown> = {};
  for (const name of API_CALL_NAMES) client[name] = (input: AnyInput) => call(name, input);
  const events = new EventStreamClient({ url: `${base}${EVENTS_PATH}`, token: tokenOf, fetch: doFetch, onStatus: options.onEventStatus });
  client.onEvent = events.subscribe.bind(events);
  return client as unknown as RelayDeckClient;
}
