/**
 * The event half of the browser/Node client: one SSE connection to `GET /api/events`,
 * opened with fetch so the admin token goes in the Authorization header (EventSource
 * cannot send headers, and the token must never be in a URL). Every listener shares the
 * one connection; it opens with the first listener and closes with the last. A dropped
 * connection is retried with backoff; a refused token (401) stops and says so.
 */
import { isRelayDeckEvent, type RelayDeckEventListener } from './events.js';
import { SseParser } from './sse.js';

/** First delay before reconnecting, ms (the server's `retry:` replaces it). */
export const DEFAULT_EVENT_RETRY_MS = 1_000;
/** Longest delay between reconnects, ms. */
export const MAX_EVENT_RETRY_MS = 15_000;
/** Most listeners on one client at once (a page needs a handful). */
export const MAX_EVENT_STREAM_LISTENERS = 64;

/** The state of the event connection, for a "live / reconnecting" badge. */
export type EventStreamState = 'connecting' | 'open' | 'retrying' | 'unauthorized' | 'closed';

export interface EventStreamStatus {
  state: EventStreamState;
  /** Why the last attempt failed, when it did. */
  error?: string;
}

export interface EventStreamOptions {
  /** Absolute URL of the event stream. */
  url: string;
  token: () => string;
  fetch: typeof fetch;
  onStatus?: (status: EventStreamStatus) => void;
}

export class EventStreamClient {
  private readonly listeners = new Set<RelayDeckEventListener>();
  private abort: AbortController | undefined;
  private retryMs = DEFAULT_EVENT_RETRY_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: EventStreamOptions) {}

  /** Add a listener (opening the connection for the first); returns its unsubscribe function. */
  subscribe(listener: RelayDeckEventListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onEvent: listener must be a function');
    if (this.listeners.size >= MAX_EVENT_STREAM_LISTENERS) throw new Error(`onEvent: at most ${MAX_EVENT_STREAM_LISTENERS} listeners`);
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.connect();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.disconnect();
    };
  }

  private status(status: EventStreamStatus): void {
    this.options.onStatus?.(status);
  }

  private connect(): void {
    clearTimeout(this.retryTimer);
    const abort = new AbortController();
    this.abort = abort;
    this.status({ state: 'connecting' });
    this.read(abort.signal).then(
      (ended) => this.afterEnd(abort, ended),
      (error: Error) => this.afterEnd(abort, error.message),
    );
  }

  /** Read until the stream ends; returns why it ended ("" for a clean end), or throws. */
  private async read(signal: AbortSignal): Promise<string> {
    const response = await this.options.fetch(this.options.url, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${this.options.token()}` },
      signal,
      credentials: 'omit',
      redirect: 'error',
    });
    if (response.status === 401) return 'unauthorized';
    if (!response.ok || !response.body) return `HTTP ${response.status}`;
    this.status({ state: 'open' });
    this.retryMs = DEFAULT_EVENT_RETRY_MS;
    const parser = new SseParser();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'the server ended the stream';
      for (const message of parser.push(decoder.decode(value, { stream: true }))) this.dispatch(message.data);
      if (parser.retryMs !== undefined) this.retryMs = Math.min(parser.retryMs, MAX_EVENT_RETRY_MS);
    }
  }

  private dispatch(data: string): void {
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (!isRelayDeckEvent(event)) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        // A failing listener must not end the stream for the others.
        console.error('RelayDeck event listener failed', error);
      }
    }
  }

  private afterEnd(abort: AbortController, why: string): void {
    if (this.abort !== abort || abort.signal.aborted) return;
    this.abort = undefined;
    if (why === 'unauthorized') {
      this.status({ state: 'unauthorized', error: 'the server refused the admin token' });
      return;
    }
    this.status({ state: 'retrying', error: why });
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_EVENT_RETRY_MS);
    this.retryTimer = setTimeout(() => {
      if (this.listeners.size > 0) this.connect();
    }, delay);
  }

  private disconnect(): void {
    clearTimeout(this.retryTimer);
    this.abort?.abort();
    this.abort = undefined;
    this.status({ state: 'closed' });
  }
}
