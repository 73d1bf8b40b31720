/**
 * The public keys of one JWKS URL (routes[].auth.jwt.jwksUrl), fetched by the relay itself
 * rather than with jose's createRemoteJWKSet, which would not do three things the relay needs:
 * a failed fetch there starts no cooldown (so while the JWKS server is down, every token
 * naming a random kid would make a fetch), a stale set whose refresh fails refuses the keys it
 * held, and its answer is read whole whatever its size. Here:
 *
 *  - fetches are at least `cooldownMs` apart, counted from each attempt, whatever its outcome
 *    and whatever tokens arrive; concurrent needs share the one fetch in flight;
 *  - a token naming a kid the set does not hold makes a fetch at once unless one was made within
 *    the cooldown (a rotated key is accepted as soon as the JWKS publishes it);
 *  - after `refreshMs` the set is fetched again in the background, the keys held serving
 *    meanwhile; a failed fetch is logged and the keys held keep working;
 *  - a fetch takes at most `timeoutMs`, reads at most MAX_JWKS_BYTES, follows no redirect,
 *    verifies https certificates, and keeps only public signature keys (RSA, EC, OKP).
 *
 * Key selection by alg, kid, kty, crv, use and key_ops is jose's (createLocalJWKSet). A store
 * lives as long as its URL is configured (JwtVerifier keeps one per URL, bounded), so a config
 * change that keeps the URL keeps the keys. All times come from the caller's clock (`now`).
 */
import http from 'node:http';
import https from 'node:https';
import { createLocalJWKSet, errors, type CryptoKey, type JWK, type LocalJWKSet } from 'jose';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';

/** Largest JWKS answer read, bytes; a larger one is a failed fetch. */
export const MAX_JWKS_BYTES = 262_144;
/** Most keys kept from one JWKS (the first ones; the rest are dropped with a warning). */
export const MAX_JWKS_KEYS = 64;
/** Key types that verify signatures with a public key; "oct" (a shared secret) is never taken from a JWKS. */
const PUBLIC_KEY_TYPES: ReadonlySet<string> = new Set(['RSA', 'EC', 'OKP']);
/** JWK members only a private or secret key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** How often a store may and must fetch (a route's jwks* settings). */
export interface JwksTiming {
  refreshMs: number;
  cooldownMs: number;
  timeoutMs: number;
}

/** What a token's header says about its key. */
export interface KeyQuery {
  alg: string;
  kid?: string;
}

/** GET the JWKS at `url`: 200 and JSON within `timeoutMs` and MAX_JWKS_BYTES, or a rejection saying what failed (also when `signal` aborts it). */
export function fetchJwks(url: URL, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value);
    };
    const get = url.protocol === 'https:' ? https.get : http.get;
    const headers = { accept: 'application/jwk-set+json, application/json', 'user-agent': 'RelayDeck' };
    const req = get(url, { headers, agent: false, signal }, (res) => {
      const status = res.statusCode ?? 0;
      const declared = Number(res.headers['content-length'] ?? 0);
      if (status !== 200 || declared > MAX_JWKS_BYTES) {
        req.destroy();
        finish(
          new Error(
            status !== 200
              ? `answered ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`
              : `answer larger than ${MAX_JWKS_BYTES} bytes`,
          ),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_JWKS_BYTES) {
          req.destroy();
          finish(new Error(`answer larger than ${MAX_JWKS_BYTES} bytes`));
        } else chunks.push(chunk);
      });
      res.on('error', (error) => finish(error));
      res.on('end', () => {
        try {
          finish(undefined, JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          finish(new Error('answer is not JSON'));
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (error) => finish(error));
  });
}

/** The public signature keys of a JWKS answer, and how many keys were left out. */
export function publicKeysOf(answer: unknown): { keys: JWK[]; dropped: number } {
  const list = typeof answer === 'object' && answer !== null ? (answer as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) throw new Error('answer has no "keys" list');
  const usable = list.filter(
    (key): key is JWK =>
      typeof key === 'object' &&
      key !== null &&
      PUBLIC_KEY_TYPES.has((key as JWK).kty as string) &&
      PRIVATE_MEMBERS.every((member) => !(member in key)) &&
      ((key as JWK).use === undefined || (key as JWK).use === 'sig'),
  );
  const keys = usable.slice(0, MAX_JWKS_KEYS);
  return { keys, dropped: list.length - keys.length };
}

/** The keys of one JWKS URL; see the file comment. */
export class JwksStore {
  /** Bumped each time a fetch brings a key set that differs from the one held (cached verifications of older keys are then redone). */
  generation = 0;
  /** Fetches started, and those that failed (for the stats and the tests). */
  fetches = 0;
  failures = 0;
  private keySet?: LocalJWKSet;
  private fingerprint = '';
  private fetchedAt?: number;
  private attemptedAt?: number;
  private inFlight?: Promise<void>;
  private readonly url: URL;
  private readonly stopping = new AbortController();

  constructor(
    readonly href: string,
    private readonly log: Logger,
  ) {
    this.url = new URL(href);
  }

  /**
   * The keys that may have signed a token with this header (usually one; several when the
   * header names no kid and several keys fit). Rejects AUTH_INVALID when none fits after the
   * fetch the rules allow.
   */
  async keysFor(query: KeyQuery, timing: JwksTiming, now: number): Promise<CryptoKey[]> {
    const stale = this.fetchedAt === undefined || now - this.fetchedAt >= timing.refreshMs;
    if (stale && this.mayFetch(timing, now)) this.refresh(timing, now);
    if (!this.keySet && this.inFlight) await this.inFlight;
    let keys = await this.match(query);
    if (keys.length > 0) return keys;
    if (!this.inFlight && this.mayFetch(timing, now)) this.refresh(timing, now);
    if (this.inFlight) {
      await this.inFlight;
      keys = await this.match(query);
    }
    if (keys.length > 0) return keys;
    const which = query.kid === undefined ? `for ${query.alg}` : `with kid ${JSON.stringify(query.kid.slice(0, 64))} for ${query.alg}`;
    throw new RelayError('AUTH_INVALID', `the JWKS has no key ${which}${this.keySet ? '' : ' (it could not be fetched)'}`);
  }

  /** Abort a fetch in flight and start no other (the engine is stopping); keys held still serve. */
  close(): void {
    this.stopping.abort();
  }

  private mayFetch(timing: JwksTiming, now: number): boolean {
    return !this.stopping.signal.aborted && !this.inFlight && (this.attemptedAt === undefined || now - this.attemptedAt >= timing.cooldownMs);
  }

  /** Start one fetch (never rejects: a failure is logged and the keys held stay). */
  private refresh(timing: JwksTiming, now: number): void {
    this.attemptedAt = now;
    this.fetches += 1;
    const fetching = fetchJwks(this.url, timing.timeoutMs, this.stopping.signal)
      .then((answer) => this.apply(answer, now))
      .catch((error: unknown) => {
        this.failures += 1;
        this.log.warn(`JWKS ${this.href}: fetch failed (${(error as Error).message}); ${this.keySet ? 'keeping the keys held' : 'no keys yet'}`);
      })
      .finally(() => {
        if (this.inFlight === fetching) this.inFlight = undefined;
      });
    this.inFlight = fetching;
  }

  private apply(answer: unknown, now: number): void {
    const { keys, dropped } = publicKeysOf(answer);
    const keySet = createLocalJWKSet({ keys });
    if (dropped > 0) this.log.warn(`JWKS ${this.href}: ${dropped} key(s) left out (not public signature keys, or past ${MAX_JWKS_KEYS})`);
    const fingerprint = JSON.stringify(keys);
    if (fingerprint !== this.fingerprint) {
      this.fingerprint = fingerprint;
      this.keySet = keySet;
      this.generation += 1;
      this.log.info(`JWKS ${this.href}: ${keys.length} key(s) loaded`);
    }
    this.fetchedAt = now;
  }

  private async match(query: KeyQuery): Promise<CryptoKey[]> {
    if (!this.keySet) return [];
    try {
      return [await this.keySet({ alg: query.alg, kid: query.kid })];
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JOSENotSupported) return [];
      if (error instanceof errors.JWKSMultipleMatchingKeys) {
        const keys: CryptoKey[] = [];
        for await (const key of error as unknown as AsyncIterable<CryptoKey>) keys.push(key);
        return keys;
      }
      throw new RelayError('AUTH_INVALID', `the JWKS key for this token cannot be used: ${(error as Error).message}`, { cause: error });
    }
  }
}
