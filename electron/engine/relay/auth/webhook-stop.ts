/**
 * End-of-session calls (routes[].auth.webhook.stopUrl, "on_stop"): when a viewer session the
 * webhook allowed ends, its record is POSTed to the stop URL, off the hot path. At most
 * webhooks.stopQueue records wait or are being retried; past it a record is dropped and
 * counted. A failed call (network error, timeout, 5xx, 429) is retried up to
 * webhooks.stopRetries times, 1 s after the first failure and doubling up to 60 s; a 4xx
 * answer other than 429 is final. A viewer never waits for any of it.
 */
import type { RouteWebhookConfig, WebhookSettings } from '../../../../shared/config.js';
import type { Logger } from '../../core/log.js';
import { postJson, type WebhookAgents } from './webhook-http.js';

/** What a stop call reports about a session. */
export interface StopRecord {
  action: 'stop';
  requestId: string;
  routeId: string;
  streamKey: string;
  path: string;
  clientAddress: string;
  transport: string;
  kind: string;
  /** The webhook's label, when it gave one. */
  label?: string;
  /** Epoch ms. */
  startedAt: number;
  durationMs: number;
  /** Bytes sent to the viewer. */
  bytesOut: number;
  /** Bytes received from the viewer. */
  bytesIn: number;
  /** The final HTTP status of the session. */
  status: number;
  /** Why it ended: an error code of the taxonomy (CLIENT_CLOSED, KICKED, SESSION_TIME_LIMIT, ...) or "OK". */
  closeReason: string;
}

/** Counters of the stop calls (stats API and /metrics). */
export interface StopCounters {
  delivered: number;
  retried: number;
  /** Dropped: the queue was full, the retries ran out, or the answer was a final 4xx. */
  dropped: number;
}

/** Wait before the first retry, ms; doubled per retry. */
const FIRST_RETRY_MS = 1_000;
/** Longest wait between retries, ms. */
const MAX_RETRY_MS = 60_000;

export class StopNotifier {
  readonly counters: StopCounters = { delivered: 0, retried: 0, dropped: 0 };
  /** Records waiting or in flight. */
  private pending = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly settings: () => WebhookSettings,
    private readonly agents: WebhookAgents,
    private readonly log: Logger,
  ) {}

  /** Queue a record for `hook.stopUrl` (does nothing without one). */
  notify(hook: RouteWebhookConfig, record: StopRecord): void {
    if (!hook.stopUrl || this.closed) return;
    if (this.pending >= this.settings().stopQueue) {
      this.counters.dropped += 1;
      return;
    }
    this.pending += 1;
    this.attempt(hook, record, 0);
  }

  /** Stop retrying (engine stop); records not yet delivered are counted as dropped. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.counters.dropped += this.timers.size;
    this.timers.clear();
  }

  private attempt(hook: RouteWebhookConfig, record: StopRecord, retries: number): void {
    postJson(this.agents, {
      url: new URL(hook.stopUrl as string),
      body: record,
      token: hook.token,
      timeoutMs: hook.timeoutMs,
      verifyTls: this.settings().verifyTls,
      maxSockets: hook.maxConcurrent,
    }).then(
      (answer) => {
        if (answer.status >= 200 && answer.status < 300) return this.done('delivered');
        if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) {
          this.log.warn(`stop webhook of route "${record.routeId}" answered ${answer.status}: record dropped`);
          return this.done('dropped');
        }
        this.retry(hook, record, retries, `answered ${answer.status}`);
      },
      (error: Error) => this.retry(hook, record, retries, error.message),
    );
  }

  private retry(hook: RouteWebhookConfig, record: StopRecord, retries: number, why: string): void {
    if (this.closed || retries >= this.settings().stopRetries) {
      this.log.warn(`stop webhook of route "${record.routeId}" (${hook.stopUrl}): ${why}; record dropped after ${retries} retries`);
      return this.done('dropped');
    }
    this.counters.retried += 1;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        this.attempt(hook, record, retries + 1);
      },
      Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** retries),
    );
    timer.unref();
    this.timers.add(timer);
  }

  private done(outcome: 'delivered' | 'dropped'): void {
    this.pending -= 1;
    this.counters[outcome] += 1;
  }
}
