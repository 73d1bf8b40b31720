/**
 * ACME HTTP-01 challenges (RFC 8555, section 8.3): while an order is in flight, the
 * certificate authority fetches `/.well-known/acme-challenge/<token>` over plain HTTP and
 * expects the key authorization the relay was given for that token. The relay answers these
 * before any routing, before the plain-to-HTTPS redirect, on either listener, by an exact
 * lookup of the token in a bounded map: an unknown token gets 404, never a route.
 *
 * A token is held from the moment the order asks for it until its challenge is decided, and
 * for ACME_CHALLENGE_TTL_MS at most, so the map cannot grow with failed orders.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_ACME_DOMAINS } from '../../../../shared/config.js';
import { RelayError } from '../../core/errors.js';
import { sendError } from '../respond.js';
import { ACME_CHALLENGE_PREFIX } from './redirect.js';

/** Most tokens held at once: one per domain of the order in flight, twice over for one that overlaps. */
export const MAX_ACME_CHALLENGES = 2 * MAX_ACME_DOMAINS;
/** A token is forgotten this long after it was added, even if its challenge never ended, ms. */
export const ACME_CHALLENGE_TTL_MS = 10 * 60_000;
/** What a token is (base64url, RFC 8555 section 8.1); anything else is never looked up. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export class AcmeChallenges {
  private readonly tokens = new Map<string, { keyAuthorization: string; expiresAt: number }>();

  /** Hold a token's answer; the oldest token goes when the map is full. */
  add(token: string, keyAuthorization: string, now = Date.now()): void {
    if (!TOKEN.test(token)) throw new Error(`ACME challenge token "${token.slice(0, 40)}" is not base64url`);
    this.sweep(now);
    this.tokens.delete(token);
    while (this.tokens.size >= MAX_ACME_CHALLENGES) this.tokens.delete(this.tokens.keys().next().value as string);
    this.tokens.set(token, { keyAuthorization, expiresAt: now + ACME_CHALLENGE_TTL_MS });
  }

  remove(token: string): void {
    this.tokens.delete(token);
  }

  /** The key authorization for exactly this token, or undefined. */
  answer(token: string, now = Date.now()): string | undefined {
    if (!TOKEN.test(token)) return undefined;
    const held = this.tokens.get(token);
    if (!held || held.expiresAt <= now) return undefined;
    return held.keyAuthorization;
  }

  get size(): number {
    return this.tokens.size;
  }

  private sweep(now: number): void {
    for (const [token, held] of this.tokens) if (held.expiresAt <= now) this.tokens.delete(token);
  }
}

/**
 * Answer `req` if it asks for an ACME challenge path: 200 with the key authorization for a
 * token held, 404 for any other (the query is ignored; GET and HEAD only). Returns false,
 * writing nothing, for other paths.
 */
export function answerAcmeChallenge(req: IncomingMessage, res: ServerResponse, challenges: AcmeChallenges): boolean {
  const url = req.url ?? '';
  if (!url.startsWith(ACME_CHALLENGE_PREFIX)) return false;
  const query = url.indexOf('?');
  const token = url.slice(ACME_CHALLENGE_PREFIX.length, query < 0 ? undefined : query);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    sendError(res, new RelayError('METHOD_NOT_ALLOWED', `method ${req.method} is not allowed on ACME challenges`));
    return true;
  }
  const keyAuthorization = challenges.answer(token);
  if (keyAuthorization === undefined) {
    sendError(res, new RelayError('NOT_FOUND', 'no such ACME challenge'));
    return true;
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(keyAuthorization), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : keyAuthorization);
  return true;
}
