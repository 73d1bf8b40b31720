/**
 * Admission webhooks (routes[].auth.webhook): before a viewer session starts, the operator's
 * service is asked whether it may. One call per distinct question: identical questions in
 * flight share one call, and answers (allow, or a 401/403 deny) are reused for the route's
 * cacheMs, at most webhooks.cacheEntries of them (least recently used dropped first). Each
 * webhook URL has at most maxConcurrent calls in flight and maxQueue waiting; a viewer that
 * finds the queue full gets 503 WEBHOOK_BUSY at once. A viewer waits at most the route's
 * timeoutMs, queue included; a call that fails, times out or answers another status follows
 * the route's onError.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { RouteWebhookConfig, WebhookSettings } from '../../../../shared/config.js';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { postJson, WebhookAgents, type WebhookAnswer } from './webhook-http.js';

/** What a webhook is told about a viewer who wants to start a session. */
export interface WebhookQuestion {
  routeId: string;
  /** The stream key (first two segments of the path on the node, extension removed). */
  streamKey: string;
  path: string;
  /** The query as the viewer sent it (credentials included; the relay's own parameters removed). */
  query: string;
  clientAddress: string;
  /** The request headers the route forwards (routes[].auth.webhook.headers), by lower-case name. */
  headers: Record<string, string>;
  /** "http/1.1" or "h2". */
  protocol: string;
  /** "http" or "ws" (WebSocket-FLV). */
  transport: string;
  /** "http" or "https": the listener the viewer came through. */
  scheme: string;
  /** "flv", "hls" or "file". */
  kind: string;
}

/** A webhook's allow: an optional label for stats and logs, and an optional cap on the session's duration. */
export interface WebhookAllow {
  label?: string;
  maxDurationMs?: number;
}

type Outcome = { allow: WebhookAllow } | { deny: 401 | 403; message: string };

/** Counters of the webhooks (stats API and /metrics). */
export interface WebhookCounters {
  /** Calls made (coalesced and cached answers are not calls). */
  calls: number;
  /** Questions answered from the cache. */
  cacheHits: number;
  /** Questions that joined a call in flight. */
  coalesced: number;
  /** Calls that failed, timed out or answered an unexpected status. */
  failures: number;
  /** Viewers refused because a webhook's queue was full. */
  queueFull: number;
}

/** Longest label kept from a webhook answer, characters. */
export const MAX_WEBHOOK_LABEL_CHARS = 64;
const LABEL = /^[\x20-\x7e]{1,64}$/;

/** The answer of a 2xx, validated: `{ "label"?: string, "maxDurationMs"?: integer >= 1 }`, or an empty body. */
export function parseAllow(body: string): WebhookAllow {
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new Error('the 2xx answer is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the 2xx answer is not a JSON object');
  const { label, maxDurationMs } = parsed as Record<string, unknown>;
  const allow: WebhookAllow = {};
  if (label !== undefined && label !== null) {
    if (typeof label !== 'string' || !LABEL.test(label)) throw new Error(`answer.label: expected 1 to ${MAX_WEBHOOK_LABEL_CHARS} printable ASCII characters`);
    allow.label = label;
  }
  if (maxDurationMs !== undefined && maxDurationMs !== null) {
    if (!Number.isSafeInteger(maxDurationMs) || (maxDurationMs as number) < 1) throw new Error('answer.maxDurationMs: expected an integer >= 1');
    allow.maxDurationMs = maxDurationMs as number;
  }
  return allow;
}

/** Calls to one webhook URL: how many are in flight, and who waits for a slot. */
class Endpoint {
  active = 0;
  readonly waiting: (() => void)[] = [];
}

/** A slot on `endpoint` within `deadline` (epoch ms); rejects when the deadline passes first. */
function acquire(endpoint: Endpoint, hook: RouteWebhookConfig, deadline: number): Promise<void> {
  if (endpoint.active < hook.maxConcurrent) {
    endpoint.active += 1;
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const start = () => {
      clearTimeout(timer);
      endpoint.active += 1;
      resolve();
    };
    const timer = setTimeout(
      () => {
        const at = endpoint.waiting.indexOf(start);
        if (at >= 0) endpoint.waiting.splice(at, 1);
        reject(new Error(`waited ${hook.timeoutMs} ms for a free call slot (maxConcurrent ${hook.maxConcurrent})`));
      },
      Math.max(0, deadline - Date.now()),
    );
    endpoint.waiting.push(start);
  });
}

function release(endpoint: Endpoint): void {
  endpoint.active -= 1;
  endpoint.waiting.shift()?.();
}

export class AdmissionWebhooks {
  readonly counters: WebhookCounters = { calls: 0, cacheHits: 0, coalesced: 0, failures: 0, queueFull: 0 };
  private readonly endpoints = new Map<string, Endpoint>();
  private readonly inFlight = new Map<string, Promise<Outcome>>();
  /** Cached outcomes by question key, least recently used first. */
  private readonly cache = new Map<string, { outcome: Outcome; until: number }>();
  readonly agents = new WebhookAgents();

  constructor(
    private readonly settings: () => WebhookSettings,
    private readonly log: Logger,
  ) {}

  /** Ask the route's webhook about a viewer: resolves with the allow, rejects with the RelayError to answer. */
  async check(hook: RouteWebhookConfig, question: WebhookQuestion): Promise<WebhookAllow> {
    const key = questionKey(hook, question);
    const outcome = this.cached(key) ?? (await this.ask(hook, question, key));
    if ('allow' in outcome) return outcome.allow;
    throw new RelayError(outcome.deny === 401 ? 'WEBHOOK_UNAUTHORIZED' : 'WEBHOOK_FORBIDDEN', outcome.message);
  }

  /** Drop cached answers and close the keep-alive pools (engine stop). */
  close(): void {
    this.cache.clear();
    this.agents.destroy();
  }

  private cached(key: string): Outcome | undefined {
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    this.cache.delete(key);
    if (entry.until <= Date.now()) return undefined;
    this.cache.set(key, entry);
    this.counters.cacheHits += 1;
    return entry.outcome;
  }

  private remember(key: string, outcome: Outcome, cacheMs: number): void {
    const bound = this.settings().cacheEntries;
    if (cacheMs <= 0 || bound === 0) return;
    this.cache.delete(key);
    this.cache.set(key, { outcome, until: Date.now() + cacheMs });
    while (this.cache.size > bound) this.cache.delete(this.cache.keys().next().value as string);
  }

  private ask(hook: RouteWebhookConfig, question: WebhookQuestion, key: string): Promise<Outcome> {
    const shared = this.inFlight.get(key);
    if (shared) {
      this.counters.coalesced += 1;
      return shared;
    }
    const endpoint = this.endpointOf(hook.url);
    if (endpoint.active >= hook.maxConcurrent && endpoint.waiting.length >= hook.maxQueue) {
      this.counters.queueFull += 1;
      throw new RelayError('WEBHOOK_BUSY', `the webhook of route "${question.routeId}" has routes[].auth.webhook.maxQueue (${hook.maxQueue}) calls waiting`);
    }
    const call = this.call(hook, question, endpoint).then(
      (outcome) => {
        this.remember(key, outcome, hook.cacheMs);
        return outcome;
      },
      (error: Error) => this.failed(hook, question, error),
    );
    this.inFlight.set(key, call);
    const forget = () => void this.inFlight.delete(key);
    call.then(forget, forget);
    return call;
  }

  private async call(hook: RouteWebhookConfig, question: WebhookQuestion, endpoint: Endpoint): Promise<Outcome> {
    const deadline = Date.now() + hook.timeoutMs;
    await acquire(endpoint, hook, deadline);
    let answer: WebhookAnswer;
    try {
      this.counters.calls += 1;
      const body = { action: 'play', requestId: randomUUID(), ...question };
      answer = await postJson(this.agents, {
        url: new URL(hook.url),
        body,
        token: hook.token,
        timeoutMs: Math.max(1, deadline - Date.now()),
        verifyTls: this.settings().verifyTls,
        maxSockets: hook.maxConcurrent,
      });
    } finally {
      release(endpoint);
      if (endpoint.active === 0 && endpoint.waiting.length === 0) this.endpoints.delete(hook.url);
    }
    if (answer.status >= 200 && answer.status < 300) return { allow: parseAllow(answer.body) };
    if (answer.status === 401 || answer.status === 403) {
      return { deny: answer.status, message: `the webhook of route "${question.routeId}" refused the viewer (${answer.status})${denyReason(answer.body)}` };
    }
    throw new Error(`answered ${answer.status}`);
  }

  /** A call that did not give an allow or a deny: the route's onError decides. */
  private failed(hook: RouteWebhookConfig, question: WebhookQuestion, error: Error): Outcome {
    this.counters.failures += 1;
    this.log.warn(`webhook of route "${question.routeId}" (${hook.url}): ${error.message}; onError ${hook.onError}`);
    if (hook.onError === 'allow') return { allow: {} };
    throw new RelayError('WEBHOOK_FAILED', `the webhook of route "${question.routeId}" could not decide: ${error.message}`);
  }

  private endpointOf(url: string): Endpoint {
    let endpoint = this.endpoints.get(url);
    if (!endpoint) {
      endpoint = new Endpoint();
      this.endpoints.set(url, endpoint);
    }
    return endpoint;
  }
}

/** The reason a deny's JSON body gives (`{ "reason": "..." }` or `{ "error": { "message": "..." } }`), shortened, for the viewer's error message. */
function denyReason(body: string): string {
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; error?: { message?: unknown } };
    const reason = typeof parsed.reason === 'string' ? parsed.reason : typeof parsed.error?.message === 'string' ? parsed.error.message : undefined;
    return reason ? `: ${reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}` : '';
  } catch {
    return '';
  }
}

/** The cache and coalescing key of a question: everything the webhook is told, hashed (so the key's size is fixed). */
function questionKey(hook: RouteWebhookConfig, question: WebhookQuestion): string {
  const { routeId, streamKey, path, query, clientAddress, headers, transport, kind } = question;
  return createHash('sha256')
    .update(JSON.stringify([hook.url, hook.token ?? '', routeId, streamKey, kind, transport, clientAddress, path, query, headers]))
    .digest('base64url');
}
