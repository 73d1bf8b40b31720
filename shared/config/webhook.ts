/**
 * Admission webhooks: `routes[].auth.webhook` (the operator's service decides who may watch,
 * before a viewer session starts, and hears when it ends) and the `webhooks` section (the
 * bounds every webhook shares). The relay side is electron/engine/admission/webhook*.ts.
 */
import { array, boolean, integer, object, oneOf, optional, documented, setting, string } from '../schema.js';
import { HOUR_MS, ms } from './fields.js';

/** What a route does when its webhook cannot answer (timeout, connection failure, a status other than 2xx, 401, 403). */
export const WEBHOOK_ON_ERROR = ['deny', 'allow'] as const;
/** Most request header names one webhook may have forwarded. */
export const MAX_WEBHOOK_HEADERS = 16;

/** An http(s) URL of the operator's service. */
export const webhookUrl = () =>
  string({ min: 8, max: 2048, pattern: /^https?:\/\/[^\s/?#]+(\/[^\s#]*)?$/, patternName: 'an http:// or https:// URL without a fragment' });

/** A request header name, lower case (RFC 9110 token). */
const headerName = () => string({ min: 1, max: 64, pattern: /^[!#$%&'*+.^_`|~0-9a-z-]+$/, patternName: 'a header name in lower case' });

/** A route's admission webhook. */
export const routeWebhookSchema = object({
  url: documented(webhookUrl(), {
    doc:
      'Before a viewer session starts (an FLV or WebSocket-FLV connection, the first request of an HLS viewer, a proxied file) the relay POSTs JSON here: route, stream key, path, ' +
      'query, client address, the headers named in `headers`, protocol and transport, a request id. 2xx allows, and the JSON answer may carry `label` (shown in stats and logs) ' +
      'and `maxDurationMs` (the session is ended after it); 401 and 403 refuse the viewer with that status; anything else follows `onError`. HTTPS URLs have their certificate verified.',
  }),
  onError: setting(oneOf(WEBHOOK_ON_ERROR), 'deny', {
    doc: 'When the webhook times out, cannot be reached or answers another status: "deny" (the viewer gets 503 WEBHOOK_FAILED) or "allow".',
  }),
  timeoutMs: setting(integer(100, 60_000), 2_000, { unit: 'ms', doc: 'Time allowed for the whole webhook call, connection included.' }),
  cacheMs: setting(ms(HOUR_MS), 30_000, {
    unit: 'ms',
    doc: 'An allow or deny is reused this long for the same route, stream, client address, credentials and forwarded headers; identical calls in flight are always shared. 0 = no cache.',
  }),
  headers: setting(array(headerName(), MAX_WEBHOOK_HEADERS), [], {
    doc: 'Viewer request headers (lower-case names, at most 16) copied into the call, e.g. "cookie", "authorization", "user-agent", "referer"; they are part of the cache key.',
  }),
  token: documented(optional(string({ min: 16, max: 512, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII' })), {
    doc: 'Sent as `Authorization: Bearer <token>` on every call (start and stop), so the service can tell the relay from anyone else.',
  }),
  maxConcurrent: setting(integer(1, 1_024), 16, { unit: 'calls', doc: 'Most calls to this URL in flight at once; further calls wait in its queue.' }),
  maxQueue: setting(integer(0, 100_000), 1_000, {
    unit: 'calls',
    doc: 'Most calls waiting for a free slot per URL; a viewer arriving at a full queue gets 503 WEBHOOK_BUSY with Retry-After (and no call is made).',
  }),
  stopUrl: documented(optional(webhookUrl()), {
    doc:
      'When a viewer session allowed by the webhook ends, the relay POSTs its record here (on_stop): bytes, duration, close reason, label. Delivered off the hot path ' +
      'with bounded retries (webhooks.stopRetries), dropped and counted when webhooks.stopQueue is full; never delays a viewer.',
  }),
});

/** The `webhooks` section: bounds every admission webhook shares. */
export const webhookSettingsSchema = object({
  cacheEntries: setting(integer(0, 1_000_000), 10_000, {
    unit: 'answers',
    doc: 'Most webhook answers cached over all routes (least recently used dropped first).',
  }),
  stopQueue: setting(integer(0, 1_000_000), 10_000, {
    unit: 'records',
    doc: 'Most end-of-session (stopUrl) calls waiting or being retried; past it new ones are dropped and counted.',
  }),
  stopRetries: setting(integer(0, 20), 5, {
    unit: 'retries',
    doc: 'Retries of a failed end-of-session call (network error, timeout, 5xx), 1 s apart doubling up to 60 s.',
  }),
  verifyTls: setting(boolean(), true, {
    doc: 'Verify the certificate of https:// webhook URLs. Turn off only for a test service with a self-signed certificate.',
  }),
});

/** The limits of a route (`routes[].limits`); 0 means no limit. */
export const routeLimitsSchema = object({
  maxViewers: setting(integer(0, 10_000_000), 0, {
    unit: 'viewers',
    doc: 'Most viewers of the route at once (FLV and WebSocket-FLV connections, HLS viewers, proxied requests); past it: 503 VIEWER_LIMIT with Retry-After. 0 = no limit.',
  }),
  maxViewersPerStream: setting(integer(0, 10_000_000), 0, {
    unit: 'viewers',
    doc: 'Most viewers of one stream of the route at once (same count as maxViewers, per stream key); past it: 503 VIEWER_LIMIT with Retry-After. 0 = no limit.',
  }),
  viewerBytesPerSecond: setting(integer(0, 10_000_000_000), 0, {
    unit: 'bytes per second',
    doc: 'Proxied files and HLS segments: each response is sent at most this fast (a token bucket holding one second of bytes). Live FLV is not paced. 0 = no limit.',
  }),
});
