/**
 * The route form's admission sections (ListForm field specs): JWT viewer tokens
 * (routes[].auth.jwt), the admission webhook (routes[].auth.webhook) and the viewer limits
 * (routes[].limits), each field named by its draft key (admission-draft.ts) with the shared
 * schema's doc and default as its hint. A part's fields show once it is turned on by typing
 * its key fields (a secret or a JWKS URL; a webhook URL).
 */
import { WEBHOOK_ON_ERROR } from '../../../shared/config.js';
import { admissionHint, hasJwt, hasWebhook, jwtKey, limitKey, webhookKey, type JwtField, type LimitField, type WebhookField } from './admission-draft.js';
import type { FieldSpec, FormSection } from './ListForm.js';

/** A webhook field, its hint from the schema; every field but the URL shows only once a URL is typed. */
function webhookField(field: WebhookField, spec: { label: string; kind?: 'text' | 'integer' }): FieldSpec {
  const key = webhookKey(field);
  return { kind: spec.kind ?? 'integer', key, label: spec.label, hint: admissionHint(key), when: field === 'url' ? undefined : hasWebhook };
}

/** A limit (an integer, 0 = no limit), its hint from the schema. */
function limitField(field: LimitField, label: string): FieldSpec {
  return { kind: 'integer', key: limitKey(field), label, hint: admissionHint(limitKey(field)) };
}

/** routes[].auth.webhook: the operator's service decides who may watch. */
const WEBHOOK_SECTION: FormSection = {
  title: 'Admission webhook',
  hint: 'Asked once per viewer session, after the IP lists and credentials. Empty URL = no webhook; empty fields take their defaults.',
  fields: [
    webhookField('url', { label: 'Webhook URL', kind: 'text' }),
    {
      kind: 'select',
      key: webhookKey('onError'),
      label: 'When the webhook fails',
      options: WEBHOOK_ON_ERROR.map((value) => ({ value, label: value === 'deny' ? 'deny (503 WEBHOOK_FAILED)' : 'allow the viewer' })),
      fallback: 'deny',
      hint: admissionHint(webhookKey('onError')),
      when: hasWebhook,
    },
    webhookField('timeoutMs', { label: 'Webhook timeout, ms' }),
    webhookField('cacheMs', { label: 'Answers cached for, ms' }),
    webhookField('headers', { label: 'Forwarded request headers', kind: 'text' }),
    webhookField('token', { label: 'Bearer token sent to the webhook', kind: 'text' }),
    webhookField('maxConcurrent', { label: 'Webhook calls in flight at most' }),
    webhookField('maxQueue', { label: 'Webhook calls waiting at most' }),
    webhookField('stopUrl', { label: 'End-of-session URL (stopUrl)', kind: 'text' }),
  ],
};

/** routes[].limits: viewer caps and pacing. */
const LIMITS_SECTION: FormSection = {
  title: 'Viewer limits',
  hint: '0 or empty = no limit. The per-address connection limit is a relay setting (Settings page).',
  fields: [
    limitField('maxViewers', 'Most viewers of the route'),
    limitField('maxViewersPerStream', 'Most viewers of one stream'),
    limitField('viewerBytesPerSecond', 'Bytes per second per response'),
  ],
};

/** A JWT field, its hint from the schema; every field but the key sources shows only once a secret or a JWKS URL is typed. */
function jwtField(field: JwtField, spec: { label: string; kind?: 'text' | 'integer' | 'textarea' }): FieldSpec {
  const key = jwtKey(field);
  const when = field === 'secrets' || field === 'jwksUrl' ? undefined : hasJwt;
  const hint = admissionHint(key);
  if (spec.kind === 'textarea') return { kind: 'textarea', key, label: spec.label, hint, when, rows: 2 };
  return { kind: spec.kind ?? 'integer', key, label: spec.label, hint, when };
}

/** routes[].auth.jwt: JWT viewer tokens, checked with shared secrets or the keys of a JWKS. */
const JWT_SECTION: FormSection = {
  title: 'JWT viewer tokens',
  hint:
    'Tokens in ?jwt= or Authorization: Bearer. A secret line is the secret alone, or "kid=KID SECRET" to name its key id. No secret and no JWKS URL = no JWT; ' +
    'empty fields take their defaults.',
  fields: [
    jwtField('secrets', { label: 'HMAC secrets, one a line', kind: 'textarea' }),
    jwtField('jwksUrl', { label: 'JWKS URL', kind: 'text' }),
    jwtField('algorithms', { label: 'Algorithms accepted', kind: 'text' }),
    jwtField('audience', { label: 'Audience (aud)', kind: 'text' }),
    jwtField('issuer', { label: 'Issuer (iss)', kind: 'text' }),
    jwtField('scopeClaim', { label: 'Scope claim', kind: 'text' }),
    {
      kind: 'check',
      key: jwtKey('scopeRequired'),
      label: 'Refuse a token without the scope claim',
      hint: admissionHint(jwtKey('scopeRequired')),
      checked: (v) => v !== false,
      when: hasJwt,
    },
    jwtField('labelClaim', { label: 'Label claim', kind: 'text' }),
    jwtField('clockSkewSeconds', { label: 'Clock skew allowed, s' }),
    jwtField('cacheMs', { label: 'Verified tokens cached for, ms' }),
    jwtField('cacheEntries', { label: 'Verified tokens cached at most' }),
    jwtField('jwksRefreshMs', { label: 'JWKS fetched again after, ms' }),
    jwtField('jwksCooldownMs', { label: 'JWKS fetches at least apart, ms' }),
    jwtField('jwksTimeoutMs', { label: 'JWKS fetch timeout, ms' }),
  ],
};

/** Who may watch: credentials (JWT), the operator's webhook, and the caps. */
export const ADMISSION_SECTIONS: readonly FormSection[] = [JWT_SECTION, WEBHOOK_SECTION, LIMITS_SECTION];
