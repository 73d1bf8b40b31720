/**
 * JWT viewer tokens of a route (`routes[].auth.jwt`): the keys a token may be signed with
 * (HMAC shared secrets, or the public keys an identity provider publishes as a JWKS), the
 * algorithms accepted, the claims checked (audience, issuer, the path or stream scope), and
 * the bounds of the JWKS fetches and of the verified-token cache. The relay side is
 * electron/engine/relay/auth/jwt.ts and jwks.ts. The rules between fields (a key source is
 * required, an algorithm needs its kind of key) run in the schema itself, so every error
 * names its field wherever the route is parsed (config file, admin API, route form).
 */
import { array, boolean, documented, integer, object, oneOf, optional, SchemaError, setting, string, type Infer, type Schema } from '../schema.js';
import { HOUR_MS } from './fields.js';

/** HMAC algorithms: checked with routes[].auth.jwt.secrets, never with a JWKS key. */
export const JWT_HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
/** Public-key algorithms: checked with a key of the JWKS, never with a shared secret. */
export const JWT_PUBLIC_KEY_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
/** Every algorithm a route may accept; "none" (an unsigned token) is never one of them. */
export const JWT_ALGORITHMS = [...JWT_HMAC_ALGORITHMS, ...JWT_PUBLIC_KEY_ALGORITHMS] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
/** What `algorithms: []` means: HS256 with secrets, these with a jwksUrl. */
export const JWT_DEFAULT_HMAC_ALGORITHMS: readonly JwtAlgorithm[] = ['HS256'];
export const JWT_DEFAULT_PUBLIC_KEY_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];
/** Most shared secrets one route holds (several are active at once during a rotation). */
export const MAX_JWT_SECRETS = 16;
/** Shortest HMAC secret, bytes (RFC 7518 3.2: a key at least as long as the HS256 hash). */
export const MIN_JWT_SECRET_BYTES = 32;

/** A claim name: what JSON object keys a token issuer would use. */
const claimName = (min: number) =>
  string({ min, max: 64, pattern: min === 0 ? /^([A-Za-z_][A-Za-z0-9_.:/-]*)?$/ : /^[A-Za-z_][A-Za-z0-9_.:/-]*$/, patternName: 'a claim name' });

/** One entry of `algorithms`: a name from JWT_ALGORITHMS, with a plain refusal for "none". */
function jwtAlgorithm(): Schema<JwtAlgorithm> {
  const choice = oneOf(JWT_ALGORITHMS);
  return {
    choices: choice.choices,
    parse(value, path) {
      if (typeof value === 'string' && value.toLowerCase() === 'none') throw new SchemaError(path, '"none" (an unsigned token) is never allowed');
      return choice.parse(value, path);
    },
  };
}

/** One HMAC secret; `kid` picks it for tokens whose header names that kid. */
export const jwtSecretSchema = object({
  kid: optional(string({ min: 1, max: 128, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII' })),
  secret: string({ min: MIN_JWT_SECRET_BYTES, max: 1_024, pattern: /^[\x20-\x7e]+$/, patternName: `printable ASCII (its bytes are the HMAC key)` }),
});

const jwtAuthFields = object({
  secrets: documented(optional(array(jwtSecretSchema, MAX_JWT_SECRETS)), {
    doc:
      'HMAC shared secrets for HS256 (HS384, HS512) tokens, at most 16; several may be active at once (rotation). Each item: `{ "kid": "k1", "secret": "<32 to 1,024 printable ASCII>" }`, ' +
      "the secret's bytes being the key. A token whose header names a kid is checked with that secret only; one without (or with a kid no secret has) with every secret that has no kid. " +
      'Never used for a token signed with a public-key algorithm.',
  }),
  jwksUrl: documented(optional(string({ min: 8, max: 2_048, pattern: /^https?:\/\/[^\s#]+$/, patternName: 'an http:// or https:// URL without a fragment' })), {
    doc:
      "The identity provider's JSON Web Key Set (https://; http:// only for a loopback host), for RS256, PS256, ES256 and EdDSA tokens (its public keys only; a secret or private key in it is ignored). " +
      'Fetched on first use, again after jwksRefreshMs, and at once when a token names a kid it does not hold, at most once per jwksCooldownMs; ' +
      'the answer is bounded in time (jwksTimeoutMs) and size (256 KiB, 64 keys). When a fetch fails the keys already fetched keep working.',
  }),
  algorithms: setting(array(jwtAlgorithm(), JWT_ALGORITHMS.length), [], {
    doc:
      'Algorithms accepted; empty = by what is configured: HS256 with secrets, RS256, ES256 and EdDSA with jwksUrl. An HMAC algorithm needs secrets and a public-key one a jwksUrl. ' +
      'A token is checked only with keys of its algorithm\'s kind (an HMAC token is never checked against a public key); "none" is never accepted.',
  }),
  audience: documented(optional(string({ min: 1, max: 256 })), { doc: 'When set, the token\'s "aud" claim must hold this value.' }),
  issuer: documented(optional(string({ min: 1, max: 256 })), { doc: 'When set, the token\'s "iss" claim must be this value.' }),
  scopeClaim: setting(claimName(1), 'relaydeck', {
    doc:
      'The claim that says what the token may watch: an object `{ "paths": ["/live/cam1/"], "streams": ["live/cam1"] }` (either list, or a single string for either), ' +
      'or in short a path or a list of paths (`"relaydeck": "/live/cam1/"`). ' +
      'A path ending in "/" is a prefix of the request paths it allows (an HLS playlist and its segments), any other path one exact request path; a stream is a stream key. ' +
      'The token is valid when the request matches one of them.',
  }),
  scopeRequired: setting(boolean(), true, {
    doc: 'Refuse a token without the scope claim (403). When false, such a token is valid for the whole route; a token that has the claim is always held to it.',
  }),
  labelClaim: setting(claimName(0), 'sub', {
    doc: "The string claim shown as the viewer's label in the stats, sessions and logs (at most 64 characters kept); empty = no label.",
  }),
  clockSkewSeconds: setting(integer(0, 600), 30, {
    unit: 'seconds',
    doc: 'Tolerance on the "exp" claim (which every token must have) and the "nbf" claim, for clocks that disagree: a token is expired (410) once "exp" is this far in the past.',
  }),
  jwksRefreshMs: setting(integer(1_000, 24 * HOUR_MS), 600_000, {
    unit: 'ms',
    doc: 'The JWKS is fetched again this long after the last fetch (in the background: tokens are checked with the keys held meanwhile).',
  }),
  jwksCooldownMs: setting(integer(1_000, HOUR_MS), 10_000, {
    unit: 'ms',
    doc:
      'Fetches of the JWKS are at least this far apart, whatever tokens arrive: a token naming an unknown kid (a rotated key) makes the relay fetch at once unless it fetched within this long, ' +
      'and is refused (403) when the fetched set does not have the kid either. At most jwksRefreshMs.',
  }),
  jwksTimeoutMs: setting(integer(100, 60_000), 5_000, { unit: 'ms', doc: 'Time allowed for one JWKS fetch, connection included.' }),
  cacheMs: setting(integer(0, HOUR_MS), 60_000, {
    unit: 'ms',
    doc:
      'A verified token is reused this long (never past its "exp") for this route without checking its signature again (a player reloading an HLS playlist every few seconds); ' +
      'its scope is still checked on every request. Cleared for the route when its jwt settings change, and for tokens of a JWKS when the JWKS changes. 0 = no cache.',
  }),
  cacheEntries: setting(integer(0, 1_000_000), 10_000, {
    unit: 'entries',
    doc: 'Most verified tokens cached for this route (least recently used dropped first).',
  }),
});

export type JwtSecretConfig = Infer<typeof jwtSecretSchema>;

/** True for host names that never leave the machine (an http:// JWKS is allowed only there). */
function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Why a jwksUrl cannot be used, or undefined. */
function jwksUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `expected an absolute https:// URL, got "${text.slice(0, 80)}"`;
  }
  if (url.username || url.password) return 'must not hold credentials';
  if (url.protocol === 'http:' && !isLoopbackName(url.hostname))
    return `http:// is allowed only for a loopback host (127.0.0.1, [::1], localhost), got "${url.hostname}": use https://`;
  return undefined;
}

/** The rules between fields, as [field, words] (the field relative to the jwt object), or undefined. */
export function jwtAuthProblem(jwt: Infer<typeof jwtAuthFields>): [string, string] | undefined {
  const hasSecrets = (jwt.secrets?.length ?? 0) > 0;
  if (!hasSecrets && jwt.jwksUrl === undefined) return ['secrets', 'is required when jwksUrl is not set (at least one source of keys)'];
  const kids = new Set<string>();
  for (const [i, entry] of (jwt.secrets ?? []).entries()) {
    if (entry.kid === undefined) continue;
    if (kids.has(entry.kid)) return [`secrets[${i}].kid`, `duplicate kid "${entry.kid}"`];
    kids.add(entry.kid);
  }
  if (jwt.jwksUrl !== undefined) {
    const problem = jwksUrlProblem(jwt.jwksUrl);
    if (problem) return ['jwksUrl', problem];
  }
  const seen = new Set<string>();
  for (const [i, algorithm] of jwt.algorithms.entries()) {
    if (seen.has(algorithm)) return [`algorithms[${i}]`, `duplicate algorithm "${algorithm}"`];
    seen.add(algorithm);
    if (isJwtHmacAlgorithm(algorithm) && !hasSecrets)
      return [`algorithms[${i}]`, `"${algorithm}" needs secrets (an HMAC token is never checked with a JWKS key)`];
    if (!isJwtHmacAlgorithm(algorithm) && jwt.jwksUrl === undefined)
      return [`algorithms[${i}]`, `"${algorithm}" needs a jwksUrl (a public-key token is never checked with a shared secret)`];
  }
  if (jwt.jwksCooldownMs > jwt.jwksRefreshMs) return ['jwksCooldownMs', `must not exceed jwksRefreshMs (${jwt.jwksRefreshMs})`];
  return undefined;
}

/** `routes[].auth.jwt`: the fields above, then the rules between them, each error naming its field. */
export const jwtAuthSchema: typeof jwtAuthFields = {
  ...jwtAuthFields,
  parse(value, path) {
    const parsed = jwtAuthFields.parse(value, path);
    const problem = jwtAuthProblem(parsed);
    if (problem) throw new SchemaError(path ? `${path}.${problem[0]}` : problem[0], problem[1]);
    return parsed;
  },
};

/** A route's JWT settings as parsed (defaults filled). */
export type JwtAuthConfig = Infer<typeof jwtAuthSchema>;

/** The algorithms a route accepts: its list, or by what it configures when the list is empty. */
export function jwtAlgorithmsOf(jwt: JwtAuthConfig): readonly JwtAlgorithm[] {
  if (jwt.algorithms.length > 0) return jwt.algorithms;
  return [...((jwt.secrets?.length ?? 0) > 0 ? JWT_DEFAULT_HMAC_ALGORITHMS : []), ...(jwt.jwksUrl !== undefined ? JWT_DEFAULT_PUBLIC_KEY_ALGORITHMS : [])];
}

/** Whether an algorithm is checked with shared secrets (HMAC) rather than a JWKS key. */
export function isJwtHmacAlgorithm(algorithm: string): boolean {
  return (JWT_HMAC_ALGORITHMS as readonly string[]).includes(algorithm);
}
