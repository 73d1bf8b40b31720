/**
 * The route form's admission part (renderer/src/forms/admission-draft.ts, through
 * route-draft.ts): the JWT settings, webhook and limits round-trip as flat fields, an empty
 * URL means no webhook and no secret nor JWKS URL no JWT (and an auth left empty goes), the
 * route's other auth fields are kept, every bad field gets its own message under it before
 * anything is sent (the JWT's rules between fields too, a bad secret by its line), the
 * engine's refusals of a nested field land under that field, and the hints are the schema's docs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { routeSchema } from '../../../shared/config.js';
import type { RouteDto } from '../../../shared/dto.js';
import { admissionErrorsByField, admissionHint, parseHeaders, parseSecrets, secretsText } from '../../../renderer/src/forms/admission-draft.js';
import { routeCandidate, routeDraftOf, routeErrors } from '../../../renderer/src/forms/route-draft.js';
import { fieldErrorFromApi } from '../../../renderer/src/forms/validate.js';

/** A route as the API answers it: parsed, every default filled. */
const routeOf = (input: Record<string, unknown>) => routeSchema.parse(input, '') as RouteDto;

const GUARDED = routeOf({
  id: 'live',
  path: '/live/',
  kind: 'flv',
  mode: 'proxy',
  auth: {
    tokens: [{ token: 'partner-a-token', label: 'partner-a' }],
    webhook: { url: 'https://auth.example.com/play', headers: ['cookie', 'user-agent'], token: 'relay-secret-0123456789', timeoutMs: 1500 },
  },
  limits: { maxViewers: 100, maxViewersPerStream: 10 },
});

/** A new route's draft with its id and path filled. */
const fresh = () => ({ ...routeDraftOf(undefined), id: 'x', path: '/x/' });

describe('route form: admission (webhook and limits)', () => {
  it('shows the webhook and limits as flat fields, headers as comma-separated text', () => {
    const draft = routeDraftOf(GUARDED);
    assert.equal(draft['webhook.url'], 'https://auth.example.com/play');
    assert.equal(draft['webhook.headers'], 'cookie, user-agent');
    assert.equal(draft['webhook.token'], 'relay-secret-0123456789');
    assert.equal(draft['webhook.timeoutMs'], 1500);
    assert.equal(draft['webhook.onError'], 'deny');
    assert.equal(draft['webhook.stopUrl'], '');
    assert.equal(draft['limits.maxViewers'], 100);
    assert.equal(draft['limits.viewerBytesPerSecond'], 0);
    assert.equal('limits' in draft, false, 'the limits object is edited through its fields');
  });

  it('an unchanged route reads back as it was, its static tokens kept', () => {
    const { candidate } = routeCandidate(routeDraftOf(GUARDED));
    assert.deepEqual(routeSchema.parse(candidate, ''), GUARDED);
    assert.deepEqual(routeErrors(routeDraftOf(GUARDED), [GUARDED], GUARDED), {});
  });

  it('a new route with a webhook URL and a cap: the rest take their defaults', () => {
    const draft = { ...fresh(), 'webhook.url': ' http://127.0.0.1:9000/hook ', 'webhook.headers': 'Cookie,  Referer', 'limits.maxViewers': 2 };
    assert.deepEqual(routeErrors(draft, [], undefined), {});
    const saved = routeSchema.parse(routeCandidate(draft).candidate, '');
    assert.deepEqual(saved.auth?.webhook, {
      url: 'http://127.0.0.1:9000/hook',
      onError: 'deny',
      timeoutMs: 2_000,
      cacheMs: 30_000,
      headers: ['cookie', 'referer'],
      maxConcurrent: 16,
      maxQueue: 1_000,
    });
    assert.deepEqual(saved.limits, { maxViewers: 2, maxViewersPerStream: 0, viewerBytesPerSecond: 0 });
  });

  it('an empty URL means no webhook: an auth with nothing else goes, one with tokens keeps them', () => {
    const onlyHook = routeOf({ id: 'h', path: '/h/', kind: 'hls', mode: 'proxy', auth: { webhook: { url: 'http://127.0.0.1:9/x' } } });
    const cleared = routeCandidate({ ...routeDraftOf(onlyHook), 'webhook.url': '  ', 'webhook.timeoutMs': 'not checked' }).candidate;
    assert.equal(cleared.auth, undefined, 'the route is open again');
    assert.deepEqual(routeErrors({ ...routeDraftOf(onlyHook), 'webhook.url': '', 'webhook.timeoutMs': 'not checked' }, [], onlyHook), {});
    const keepTokens = routeCandidate({ ...routeDraftOf(GUARDED), 'webhook.url': '' }).candidate;
    const { webhook, ...others } = GUARDED.auth!;
    assert.ok(webhook);
    assert.deepEqual(keepTokens.auth, others);
    assert.equal(routeSchema.parse(keepTokens, '').auth?.tokens?.[0].label, 'partner-a');
  });

  it('names every bad admission field under itself, worded as the engine words it', () => {
    const errors = routeErrors(
      {
        ...fresh(),
        'webhook.url': 'ftp://auth.example.com',
        'webhook.timeoutMs': 50,
        'webhook.headers': 'cookie, x(y)',
        'webhook.token': 'short',
        'webhook.maxQueue': 'many',
        'limits.maxViewersPerStream': -1,
      },
      [],
      undefined,
    );
    assert.deepEqual(Object.keys(errors).sort(), [
      'limits.maxViewersPerStream',
      'webhook.headers',
      'webhook.maxQueue',
      'webhook.timeoutMs',
      'webhook.token',
      'webhook.url',
    ]);
    assert.match(errors['webhook.url'], /^expected an http:\/\/ or https:\/\/ URL/);
    assert.equal(errors['webhook.timeoutMs'], 'expected an integer from 100 to 60000, got 50');
    assert.match(errors['webhook.headers'], /^auth\.webhook\.headers\[1\]: expected a header name in lower case/);
    assert.equal(errors['webhook.token'], 'must be at least 16 characters');
    assert.equal(errors['webhook.maxQueue'], 'expected an integer, got "many"');
    assert.equal(errors['limits.maxViewersPerStream'], 'expected an integer from 0 to 10000000, got -1');
    assert.equal(errors.auth, undefined, 'not again under "auth"');
    assert.equal(errors.limits, undefined, 'not again under "limits"');
  });

  it("the engine's refusal of a nested field lands under that field", () => {
    const fromApi = (message: string) => admissionErrorsByField(fieldErrorFromApi({ message } as never) ?? {});
    assert.deepEqual(fromApi('body.auth.webhook.cacheMs: expected an integer from 0 to 3600000, got -1'), {
      'webhook.cacheMs': 'expected an integer from 0 to 3600000, got -1',
    });
    assert.deepEqual(fromApi('body.limits.maxViewers: expected an integer from 0 to 10000000, got 1.5'), {
      'limits.maxViewers': 'expected an integer from 0 to 10000000, got 1.5',
    });
    assert.deepEqual(fromApi('body.auth.webhook.headers[0]: expected a header name in lower case, got "A"'), {
      'webhook.headers': 'auth.webhook.headers[0]: expected a header name in lower case, got "A"',
    });
    assert.deepEqual(fromApi('body.auth.keys[0].secret: must be at least 16 characters'), {
      auth: 'auth.keys[0].secret: must be at least 16 characters',
    });
  });

  it('header names are split on commas or spaces and lower-cased', () => {
    assert.deepEqual(parseHeaders(' Cookie, user-agent  Referer,,'), ['cookie', 'user-agent', 'referer']);
    assert.deepEqual(parseHeaders(''), []);
  });

  it("hints are the schema's docs with the default", () => {
    assert.match(admissionHint('webhook.timeoutMs') ?? '', /^Time allowed for the whole webhook call, connection included\. default: 2000 ms$/);
    assert.match(admissionHint('webhook.headers') ?? '', / default: none$/);
    assert.match(admissionHint('limits.maxViewers') ?? '', /^Most viewers of the route at once .* default: 0 viewers$/);
    assert.doesNotMatch(admissionHint('webhook.url') ?? '', /default/, 'a required field has no default');
    assert.equal(admissionHint('webhook.nope'), undefined);
  });
});

const SECRET_A = 'a'.repeat(32);
const SECRET_B = 'b b b b b b b b b b b b b b b b b b';

describe('route form: JWT viewer tokens', () => {
  const JWT_ROUTE = routeOf({
    id: 'jwt',
    path: '/jwt/',
    kind: 'hls',
    mode: 'proxy',
    auth: { jwt: { secrets: [{ kid: 'k1', secret: SECRET_A }, { secret: SECRET_B }], audience: 'viewers', labelClaim: '' } },
  });

  it('shows the secrets one a line ("kid=KID SECRET" or the secret alone) and reads the route back as it was', () => {
    const draft = routeDraftOf(JWT_ROUTE);
    assert.equal(draft['jwt.secrets'], `kid=k1 ${SECRET_A}\n${SECRET_B}`);
    assert.equal(draft['jwt.audience'], 'viewers');
    assert.equal(draft['jwt.labelClaim'], '', 'an empty label claim (no label) stays empty');
    assert.equal(draft['jwt.algorithms'], '');
    assert.deepEqual(routeErrors(draft, [JWT_ROUTE], JWT_ROUTE), {});
    assert.deepEqual(routeSchema.parse(routeCandidate(draft).candidate, ''), JWT_ROUTE);
    assert.deepEqual(parseSecrets(secretsText(JWT_ROUTE.auth?.jwt?.secrets)), JWT_ROUTE.auth?.jwt?.secrets);
  });

  it('a new route: a secret turns JWT on with the defaults (label claim "sub"); no secret and no JWKS URL turn it off', () => {
    const fresh = routeDraftOf(undefined);
    assert.equal(fresh['jwt.labelClaim'], 'sub', 'text defaults are shown');
    assert.equal(routeCandidate({ ...fresh, id: 'x', path: '/x/' }).candidate.auth, undefined);
    const on = { ...fresh, id: 'x', path: '/x/', 'jwt.secrets': `  ${SECRET_A}  \n\n`, 'jwt.clockSkewSeconds': 5 };
    assert.deepEqual(routeErrors(on, [], undefined), {});
    const jwt = routeSchema.parse(routeCandidate(on).candidate, '').auth?.jwt;
    assert.deepEqual(jwt?.secrets, [{ secret: SECRET_A }]);
    assert.equal(jwt?.labelClaim, 'sub');
    assert.equal(jwt?.scopeClaim, 'relaydeck');
    assert.equal(jwt?.clockSkewSeconds, 5);
    assert.deepEqual(jwt?.algorithms, []);
  });

  it('names a bad secret by its line, and the rules between fields under the field they name', () => {
    const base = { ...routeDraftOf(undefined), id: 'x', path: '/x/' };
    assert.deepEqual(routeErrors({ ...base, 'jwt.secrets': `${SECRET_A}\nkid=k2 short` }, [], undefined), {
      'jwt.secrets': 'line 2 (secret): must be at least 32 characters',
    });
    assert.deepEqual(routeErrors({ ...base, 'jwt.secrets': SECRET_A, 'jwt.algorithms': 'HS256, RS256' }, [], undefined), {
      'jwt.algorithms': 'auth.jwt.algorithms[1]: "RS256" needs a jwksUrl (a public-key token is never checked with a shared secret)',
    });
    assert.match(
      routeErrors({ ...base, 'jwt.jwksUrl': 'http://idp.example.com/jwks.json' }, [], undefined)['jwt.jwksUrl'] ?? '',
      /^http:\/\/ is allowed only for a loopback host/,
    );
    assert.deepEqual(routeErrors({ ...base, 'jwt.secrets': SECRET_A, 'jwt.algorithms': 'none', 'jwt.scopeClaim': '' }, [], undefined), {
      'jwt.algorithms': 'auth.jwt.algorithms[0]: "none" (an unsigned token) is never allowed',
      'jwt.scopeClaim': 'must not be empty',
    });
    const fromApi = (message: string) => admissionErrorsByField(fieldErrorFromApi({ message } as never) ?? {});
    assert.deepEqual(fromApi('body.auth.jwt.secrets[0].kid: duplicate kid "k1"'), { 'jwt.secrets': 'line 1 (kid): duplicate kid "k1"' });
    assert.deepEqual(fromApi('body.auth.jwt.jwksCooldownMs: must not exceed jwksRefreshMs (5000)'), {
      'jwt.jwksCooldownMs': 'must not exceed jwksRefreshMs (5000)',
    });
  });

  it('keeps the webhook and the JWT apart: removing one keeps the other', () => {
    const both = routeOf({
      id: 'b',
      path: '/b/',
      kind: 'flv',
      mode: 'proxy',
      auth: { jwt: { secrets: [{ secret: SECRET_A }] }, webhook: { url: 'http://127.0.0.1:9/x' } },
    });
    const noHook = routeCandidate({ ...routeDraftOf(both), 'webhook.url': '' }).candidate.auth as Record<string, unknown>;
    assert.equal(noHook.webhook, undefined);
    assert.deepEqual((noHook.jwt as { secrets: unknown }).secrets, [{ secret: SECRET_A }]);
    const noJwt = routeCandidate({ ...routeDraftOf(both), 'jwt.secrets': '' }).candidate.auth as Record<string, unknown>;
    assert.equal(noJwt.jwt, undefined);
    assert.equal((noJwt.webhook as { url: string }).url, 'http://127.0.0.1:9/x');
  });
});
