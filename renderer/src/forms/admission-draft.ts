/**
 * The route form's admission part, apart from React: the route's JWT viewer tokens
 * (`routes[].auth.jwt`), admission webhook (`routes[].auth.webhook`) and limits
 * (`routes[].limits`) edited as flat draft fields named by their part ("jwt.jwksUrl",
 * "webhook.url", "limits.maxViewers"), and folded back into the route's nested objects. A
 * part the draft leaves empty is left out of the route: no webhook without a URL, no JWT
 * without a secret or a JWKS URL. Lists are edited as comma-separated text, the JWT secrets
 * one per line. Each field is checked on its own with the shared schema, so every bad field
 * gets its own message under it; a whole-route check or an engine refusal that names a
 * nested field ("body.auth.webhook.timeoutMs: ...") lands under that field too.
 */
import { jwtAuthSchema, routeLimitsSchema, routeWebhookSchema } from '../../../shared/config.js';
import type { RouteDto } from '../../../shared/dto.js';
import { SchemaError, type Schema } from '../../../shared/schema.js';
import type { Draft } from './ListForm.js';
import type { FieldErrors } from './validate.js';

/** How a field's value is edited: as is (an integer, a choice, a checkbox), or as text. */
type Codec =
  /** The value as is; undefined = the default. */
  | 'value'
  /** Text; empty = absent (an optional field, or the default). */
  | 'optionalText'
  /** Text that starts as the value or its default and is sent as typed (empty is a value: labelClaim "" = no label). */
  | 'text'
  /** A list as comma- or space-separated text; empty = []. */
  | 'list'
  /** Header names: a list, lower-cased (names are case-insensitive; the schema wants lower case). */
  | 'headers'
  /** JWT secrets, one per line: "SECRET" or "kid=KID SECRET". */
  | 'secrets';

/** One part of the admission: its draft prefix, where it sits in the route, its fields, and when the draft has it. */
interface Part {
  prefix: 'jwt' | 'webhook' | 'limits';
  /** Where the route holds it, as errors name it. */
  path: 'auth.jwt' | 'auth.webhook' | 'limits';
  shape: Record<string, Schema<unknown>>;
  codecs: Record<string, Codec>;
  /** The draft keys that, when any is not empty, make the part present; none = always present. */
  enabledBy: readonly string[];
}

const JWT: Part = {
  prefix: 'jwt',
  path: 'auth.jwt',
  shape: jwtAuthSchema.shape,
  codecs: {
    secrets: 'secrets',
    jwksUrl: 'optionalText',
    algorithms: 'list',
    audience: 'optionalText',
    issuer: 'optionalText',
    scopeClaim: 'text',
    labelClaim: 'text',
  },
  enabledBy: ['jwt.secrets', 'jwt.jwksUrl'],
};

const WEBHOOK: Part = {
  prefix: 'webhook',
  path: 'auth.webhook',
  shape: routeWebhookSchema.shape,
  codecs: { url: 'optionalText', headers: 'headers', token: 'optionalText', stopUrl: 'optionalText' },
  enabledBy: ['webhook.url'],
};

const LIMITS: Part = { prefix: 'limits', path: 'limits', shape: routeLimitsSchema.shape, codecs: {}, enabledBy: [] };

/** Every part, in the order the form shows them. */
const PARTS: readonly Part[] = [JWT, WEBHOOK, LIMITS];

export type JwtField = keyof typeof jwtAuthSchema.shape & string;
export type WebhookField = keyof typeof routeWebhookSchema.shape & string;
export type LimitField = keyof typeof routeLimitsSchema.shape & string;

/** Draft key of a JWT field: "jwt.jwksUrl". */
export const jwtKey = (field: JwtField) => `jwt.${field}`;
/** Draft key of a webhook field: "webhook.url". */
export const webhookKey = (field: WebhookField) => `webhook.${field}`;
/** Draft key of a limit: "limits.maxViewers". */
export const limitKey = (field: LimitField) => `limits.${field}`;

const keysOf = (part: Part) => Object.keys(part.shape).map((field) => `${part.prefix}.${field}`);
/** Every draft key of the admission part. */
export const ADMISSION_KEYS: ReadonlySet<string> = new Set(PARTS.flatMap(keysOf));

/** The part and field of an admission draft key; undefined for any other key. */
function fieldOf(key: string): { part: Part; field: string } | undefined {
  const dot = key.indexOf('.');
  const part = PARTS.find((p) => p.prefix === key.slice(0, dot));
  const field = key.slice(dot + 1);
  return part && Object.hasOwn(part.shape, field) ? { part, field } : undefined;
}

/** The schema of an admission draft key, and the path the engine names it by; undefined for any other key. */
export function admissionSchemaOf(key: string): { schema: Schema<unknown>; path: string } | undefined {
  const found = fieldOf(key);
  return found && { schema: found.part.shape[found.field], path: `${found.part.path}.${found.field}` };
}

/** A list as the form shows it: "cookie, user-agent". */
export function listText(list: readonly string[] | undefined): string {
  return (list ?? []).join(', ');
}

/** Text back as a list; commas or spaces separate. */
export function parseListText(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** Header names as a list, lower case. */
export function parseHeaders(text: string): string[] {
  return parseListText(text).map((name) => name.toLowerCase());
}

/** JWT secrets as lines: "kid=KID SECRET", or the secret alone. */
export function secretsText(secrets: readonly { kid?: string; secret: string }[] | undefined): string {
  return (secrets ?? []).map((s) => (s.kid === undefined ? s.secret : `kid=${s.kid} ${s.secret}`)).join('\n');
}

/** Lines back as secrets (blank lines skipped, each line trimmed): "kid=KID SECRET" names its kid, any other line is a secret. */
export function parseSecrets(text: string): { kid?: string; secret: string }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const named = /^kid=(\S+)\s+(.+)$/.exec(line);
      return named ? { kid: named[1], secret: named[2] } : { secret: line };
    });
}

/** A route value as its draft field shows it. */
function toDraft(codec: Codec, value: unknown, schema: Schema<unknown>): unknown {
  switch (codec) {
    case 'value':
      return value;
    case 'optionalText':
      return value ?? '';
    case 'text':
      return value ?? schema.whenMissing?.() ?? '';
    case 'list':
    case 'headers':
      return listText(value as string[] | undefined);
    case 'secrets':
      return secretsText(value as { kid?: string; secret: string }[] | undefined);
  }
}

/** A draft field back as the route's value; undefined leaves it out (the default applies). */
function fromDraft(codec: Codec, value: unknown): unknown {
  const text = String(value ?? '').trim();
  switch (codec) {
    case 'value':
      return value;
    case 'optionalText':
      return text === '' ? undefined : text;
    case 'text':
      return value === undefined ? undefined : text;
    case 'list':
      return parseListText(text);
    case 'headers':
      return parseHeaders(text);
    case 'secrets': {
      const secrets = parseSecrets(String(value ?? ''));
      return secrets.length === 0 ? undefined : secrets;
    }
  }
}

const codecOf = (part: Part, field: string): Codec => part.codecs[field] ?? 'value';

/** True when the draft has the part: one of the fields that enable it is not empty. */
function hasPart(part: Part, draft: Draft): boolean {
  return part.enabledBy.length === 0 || part.enabledBy.some((key) => String(draft[key] ?? '').trim() !== '');
}

/** True when the draft has a webhook: its URL is not empty. */
export const hasWebhook = (draft: Draft) => hasPart(WEBHOOK, draft);
/** True when the draft has JWT auth: a secret or a JWKS URL. */
export const hasJwt = (draft: Draft) => hasPart(JWT, draft);

/** The route's object for `part`, or undefined when it has none. */
function routePartOf(route: RouteDto | undefined, part: Part): Record<string, unknown> | undefined {
  if (part.prefix === 'limits') return route?.limits;
  return route?.auth?.[part.prefix] as Record<string, unknown> | undefined;
}

/** The admission fields of `route` as flat draft fields (a new route's empty but for text defaults: the defaults apply). */
export function admissionDraftOf(route: RouteDto | undefined): Draft {
  const draft: Draft = {};
  for (const part of PARTS) {
    const values = routePartOf(route, part);
    for (const [field, schema] of Object.entries(part.shape)) draft[`${part.prefix}.${field}`] = toDraft(codecOf(part, field), values?.[field], schema);
  }
  return draft;
}

/** The object the draft stands for in `part` (fields left empty left out), or undefined when the draft does not have the part. */
function partOf(part: Part, draft: Draft): Record<string, unknown> | undefined {
  if (!hasPart(part, draft)) return undefined;
  const object: Record<string, unknown> = {};
  for (const field of Object.keys(part.shape)) {
    const value = fromDraft(codecOf(part, field), draft[`${part.prefix}.${field}`]);
    if (value !== undefined) object[field] = value;
  }
  return object;
}

/** The webhook the draft stands for, or undefined when its URL is empty. */
export const webhookOf = (draft: Draft) => partOf(WEBHOOK, draft);
/** The JWT auth the draft stands for, or undefined when it has neither a secret nor a JWKS URL. */
export const jwtOf = (draft: Draft) => partOf(JWT, draft);

/** True when a route's auth holds nothing but defaults (no key, token, IP list, JWT or webhook; passParams false): the route is open. */
function isOpenAuth(auth: Record<string, unknown>): boolean {
  return Object.entries(auth).every(([key, value]) => value === undefined || (key === 'passParams' && value === false));
}

/**
 * The draft with its admission fields folded back into the route: `auth.jwt` and
 * `auth.webhook` set or removed (an auth left with nothing in it is removed: the route is
 * open), `limits` built; the route's other auth fields (keys, tokens, IP lists) are kept.
 */
export function withAdmission(draft: Draft): Draft {
  const route: Draft = {};
  for (const [key, value] of Object.entries(draft)) if (!ADMISSION_KEYS.has(key)) route[key] = value;
  const auth: Record<string, unknown> = { ...((draft.auth as Record<string, unknown> | undefined) ?? {}) };
  for (const part of [JWT, WEBHOOK]) {
    const value = partOf(part, draft);
    if (value) auth[part.prefix] = value;
    else delete auth[part.prefix];
  }
  route.auth = isOpenAuth(auth) ? undefined : auth;
  route.limits = partOf(LIMITS, draft);
  return route;
}

/** A schema error as the form shows it under its field: the detail alone, or with the path of the item it is about; a secret by its line. */
function messageOf(error: SchemaError, path: string): string {
  if (error.path === path) return error.detail;
  const secret = /^auth\.jwt\.secrets\[(\d+)\](?:\.(\w+))?$/.exec(error.path);
  if (secret) return `line ${Number(secret[1]) + 1}${secret[2] ? ` (${secret[2]})` : ''}: ${error.detail}`;
  return `${error.path}: ${error.detail}`;
}

/** Each admission field checked on its own with the shared schema, its message under its draft key; a part's only when the draft has it. */
export function admissionErrors(draft: Draft): FieldErrors {
  const errors: FieldErrors = {};
  for (const part of PARTS) {
    const object = partOf(part, draft);
    if (!object) continue;
    for (const [field, schema] of Object.entries(part.shape)) {
      if (object[field] === undefined) continue; // the default applies
      const path = `${part.path}.${field}`;
      try {
        schema.parse(object[field], path);
      } catch (error) {
        if (!(error instanceof SchemaError)) throw error;
        errors[`${part.prefix}.${field}`] = messageOf(error, path);
      }
    }
  }
  return errors;
}

/**
 * Messages about the admission part moved to its fields: "auth.webhook.url: ..." or
 * "auth.jwt.secrets: ..." from under `auth`, "limits.maxViewers: ..." from under `limits`
 * (a whole-route check, or the engine's "body.auth.webhook.url: ..." refusal, names them
 * so). Other messages stay where they are.
 */
export function admissionErrorsByField(errors: FieldErrors): FieldErrors {
  const moved: FieldErrors = {};
  for (const [key, message] of Object.entries(errors)) {
    const match = /^(auth\.webhook|auth\.jwt|limits)\.(\w+)(\S*): (.*)$/s.exec(message);
    const part = match && PARTS.find((p) => p.path === match[1]);
    const draftKey = part && `${part.prefix}.${match[2]}`;
    if ((key === 'auth' || key === 'limits') && match && draftKey && fieldOf(draftKey)) {
      moved[draftKey] = messageOf(new SchemaError(`${match[1]}.${match[2]}${match[3]}`, match[4]), `${match[1]}.${match[2]}`);
    } else moved[key] = message;
  }
  return moved;
}

/** A value as a hint shows it: a list comma-separated ("none" when empty), a number with its unit, "" as "empty". */
function defaultText(value: unknown, unit: string | undefined): string {
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(', ');
  if (value === '') return 'empty';
  return unit && typeof value === 'number' ? `${value} ${unit}` : String(value);
}

/** An admission field's hint, from the shared schema: its doc and its default (as the Settings page words them). */
export function admissionHint(key: string): string | undefined {
  const found = admissionSchemaOf(key);
  if (!found) return undefined;
  const { meta, whenMissing } = found.schema;
  const fallback = whenMissing?.();
  return [meta?.doc, fallback === undefined ? undefined : `default: ${defaultText(fallback, meta?.unit)}`].filter(Boolean).join(' ');
}
