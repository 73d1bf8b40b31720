/**
 * The event stream on the admin port: `GET /api/events` answers `text/event-stream` (SSE)
 * and writes every engine event as `event: TYPE` + `data: JSON`. The bearer token is
 * checked by the admin server before this runs (Authorization header only: browsers use
 * fetch streaming, not EventSource, so the token never goes into a URL).
 *
 * Bounded: at most MAX_EVENT_CLIENTS streams; a client whose socket buffer passes
 * EVENT_CLIENT_MAX_BUFFERED_BYTES is cut (it reconnects and reloads), so a stalled browser
 * cannot make the engine hold events without limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RelayDeckEvent, RelayDeckEventListener } from '../../../shared/events.js';
import type { Logger } from '../core/log.js';
import { RelayError } from '../core/errors.js';

/** Most SSE clients at once. */
export const MAX_EVENT_CLIENTS = 16;
/** A client with more than this many bytes unsent is disconnected, bytes. */
export const EVENT_CLIENT_MAX_BUFFERED_BYTES = 8 * 1_048_576;
/** A comment line is sent this often so proxies and the browser keep the stream open, ms. */
export const EVENT_HEARTBEAT_MS = 15_000;
/** Reconnect delay the browser is told to use, ms. */
export const EVENT_RETRY_MS = 2_000;

export interface EventFeed {
  subscribe(listener: RelayDeckEventListener): () => void;
}

/** One event in SSE wire format (JSON has no raw newlines, so one data line). */
export function formatSseEvent(event: RelayDeckEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export class EventStreamServer {
  private readonly clients = new Set<ServerResponse>();

  constructor(
    private readonly feed: EventFeed,
    private readonly log: Logger,
  ) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Serve one SSE client until it leaves (or is cut). */
  serve(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      throw new RelayError('METHOD_NOT_ALLOWED', `method ${req.method} is not allowed on the event stream`);
    }
    if (this.clients.size >= MAX_EVENT_CLIENTS) throw new RelayError('OVERLOADED', `too many event streams (MAX_EVENT_CLIENTS = ${MAX_EVENT_CLIENTS})`);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    res.write(`retry: ${EVENT_RETRY_MS}\n: relaydeck events\n\n`);
    this.clients.add(res);
    const unsubscribe = this.feed.subscribe((event) => this.send(res, formatSseEvent(event)));
    const heartbeat = setInterval(() => this.send(res, ': keep-alive\n\n'), EVENT_HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      this.clients.delete(res);
    });
  }

  private send(res: ServerResponse, text: string): void {
    if (res.destroyed) return;
    if (res.writableLength > EVENT_CLIENT_MAX_BUFFERED_BYTES) {
      this.log.warn(`event stream client too slow (${res.writableLength} bytes unsent): disconnected`);
      res.destroy();
      return;
    }
    res.write(text);
  }

  /** End every stream (engine stopping). */
  closeAll(): void {
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}
