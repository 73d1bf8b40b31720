/**
 * ACME TLS-ALPN-01 challenges (RFC 8737, tls.acme.challenge "tls-alpn-01"): while an order is
 * in flight, the certificate authority opens a TLS connection to the HTTPS listener, sends the
 * domain as SNI and offers only the ALPN protocol "acme-tls/1", and checks that the
 * certificate it gets is the challenge certificate (a self-signed one for that domain whose
 * critical id-pe-acmeIdentifier extension holds the SHA-256 of the key authorization).
 *
 * The listener answers such a handshake with the challenge certificate held for that name,
 * negotiates "acme-tls/1", and closes the connection as soon as the handshake ends: it never
 * reaches an HTTP handler. Every other handshake is left as it was: the store's certificate
 * for its name, and h2 or http/1.1 chosen as Node would choose them. A handshake that offers
 * "acme-tls/1" for a name with no challenge certificate is not answered as a challenge: with
 * nothing else offered that the listener speaks, it fails (no_application_protocol).
 *
 * Why it holds: OpenSSL chooses the ALPN protocol before the certificate in a TLS 1.3
 * handshake, so the certificate callback (SNICallback) can follow that choice. In TLS 1.2 it
 * chooses the certificate first, so "acme-tls/1" is refused there and the authority's check
 * fails; the authorities in use (Let's Encrypt, pebble) validate over TLS 1.3. Node calls both
 * callbacks on the connection's TLSSocket (`this`), which is how the choice is passed on.
 */
import type { Server as TlsServer, SecureContext, TLSSocket, TlsOptions } from 'node:tls';
import { createSecureContext } from 'node:tls';
import { MAX_ACME_DOMAINS } from '../../../../shared/config.js';
import { ACME_CHALLENGE_TTL_MS } from './acme-challenges.js';

/** The ALPN protocol an authority offers for a TLS-ALPN-01 check (RFC 8737, section 6.2). */
export const ACME_TLS_ALPN_PROTOCOL = 'acme-tls/1';
/**
 * Most challenge certificates held at once: one per domain of the order in flight (one order
 * at a time, at most MAX_ACME_DOMAINS domains); a new one for a name replaces the old one.
 */
export const MAX_ACME_ALPN_CERTIFICATES = MAX_ACME_DOMAINS;

/** The challenge certificates of the order in flight, by domain (lowercase). */
export class AcmeAlpnCertificates {
  private readonly byName = new Map<string, { context: SecureContext; expiresAt: number }>();
  /** Told when a challenge certificate is added, removed or expires (the listener answers ALPN in JS only while one is held: alpnWhileChallenged). */
  onChange: (() => void) | undefined;
  /** Fires when the first held certificate expires: sweeps and tells onChange, so an order that never withdrew its challenge (a crash mid-order) stops costing a JS callback per handshake. */
  private expiryTimer: NodeJS.Timeout | undefined;

  /**
   * Hold the challenge certificate for `domain` (PEM) until `remove`, or ACME_CHALLENGE_TTL_MS
   * at most; the oldest one goes when the map is full.
   */
  add(domain: string, pem: { cert: string; key: string }, now = Date.now()): void {
    const name = domain.toLowerCase();
    const context = createSecureContext({ cert: pem.cert, key: pem.key });
    this.sweep(now);
    this.byName.delete(name);
    while (this.byName.size >= MAX_ACME_ALPN_CERTIFICATES) this.byName.delete(this.byName.keys().next().value as string);
    this.byName.set(name, { context, expiresAt: now + ACME_CHALLENGE_TTL_MS });
    this.armExpiry(now);
    this.onChange?.();
  }

  remove(domain: string): void {
    this.byName.delete(domain.toLowerCase());
    this.armExpiry(Date.now());
    this.onChange?.();
  }

  /** The challenge certificate held for exactly this name (no wildcard), or undefined. */
  contextFor(servername: string | undefined, now = Date.now()): SecureContext | undefined {
    if (!servername) return undefined;
    const held = this.byName.get(servername.toLowerCase());
    return held && held.expiresAt > now ? held.context : undefined;
  }

  get size(): number {
    return this.byName.size;
  }

  private sweep(now: number): void {
    for (const [name, held] of this.byName) if (held.expiresAt <= now) this.byName.delete(name);
  }

  /** (Re)arm expiryTimer for the earliest expiry held; none when nothing is held. */
  private armExpiry(now: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    let first = Infinity;
    for (const held of this.byName.values()) first = Math.min(first, held.expiresAt);
    if (first === Infinity) return;
    this.expiryTimer = setTimeout(() => this.expire(), Math.max(0, first - now)).unref();
  }

  private expire(): void {
    const now = Date.now();
    this.sweep(now);
    this.armExpiry(now);
    this.onChange?.();
  }
}

/**
 * The ALPN protocol to answer: "acme-tls/1" when the client offers it and `challenge` says a
 * challenge certificate can be served, else the first of the listener's own protocols (its
 * preference order) that the client offers, else undefined (the handshake fails).
 */
export function chooseAlpn(offered: readonly string[], own: readonly string[], challenge: () => boolean): string | undefined {
  if (offered.includes(ACME_TLS_ALPN_PROTOCOL) && challenge()) return ACME_TLS_ALPN_PROTOCOL;
  return own.find((protocol) => offered.includes(protocol));
}

/**
 * The listener's ALPNCallback and SNICallback: `own` are the protocols it speaks (in order of
 * preference), `certificateFor` its certificate per name (certificates.ts). A connection whose
 * ALPN chose "acme-tls/1" gets the challenge certificate; every other the usual one.
 */
export function acmeAlpnCallbacks(
  own: readonly string[],
  challenges: AcmeAlpnCertificates,
  certificateFor: (servername: string) => SecureContext | undefined,
): Required<Pick<TlsOptions, 'ALPNCallback' | 'SNICallback'>> {
  /** Connections whose ALPN chose "acme-tls/1", with the challenge certificate they get. */
  const answering = new WeakMap<TLSSocket, SecureContext>();
  /** Connections whose certificate was already chosen (TLS 1.2: before ALPN). */
  const chosen = new WeakSet<TLSSocket>();
  return {
    ALPNCallback(this: TLSSocket, { servername, protocols }: { servername: string; protocols: string[] }) {
      return chooseAlpn(protocols, own, () => {
        const context = chosen.has(this) ? undefined : challenges.contextFor(servername);
        if (context) answering.set(this, context);
        return context !== undefined;
      });
    },
    SNICallback(this: TLSSocket, servername: string, done: (error: Error | null, context?: SecureContext) => void) {
      chosen.add(this);
      done(null, answering.get(this) ?? certificateFor(servername));
    },
  };
}

/** The ALPN fields of a TLS server that Node reads for each new connection. */
interface AlpnFields {
  ALPNCallback: TlsOptions['ALPNCallback'] | undefined;
  ALPNProtocols: Buffer | undefined;
}

/**
 * Let OpenSSL choose the ALPN protocol natively from `own`, and switch to the server's
 * ALPNCallback (acmeAlpnCallbacks) only while `challenges` holds a challenge certificate: a
 * call into JS for every handshake is then paid during an order only. Node reads both fields
 * of the server for each new connection, so the switch applies to the next handshake. A client
 * that offers only protocols the listener does not speak fails the same way either way
 * (no_application_protocol).
 */
export function alpnWhileChallenged(server: TlsServer, own: readonly string[], challenges: AcmeAlpnCertificates): void {
  const fields = server as unknown as AlpnFields;
  const callback = fields.ALPNCallback;
  const wire = Buffer.concat(own.map((protocol) => Buffer.concat([Buffer.from([Buffer.byteLength(protocol)]), Buffer.from(protocol)])));
  const apply = () => {
    // One past its time counts until swept or removed: meanwhile the check only costs a JS callback per handshake.
    const challenged = challenges.size > 0;
    fields.ALPNCallback = challenged ? callback : undefined;
    fields.ALPNProtocols = challenged ? undefined : wire;
  };
  challenges.onChange = apply;
  apply();
}

/**
 * Close every connection that negotiated "acme-tls/1" once its handshake ends, before the
 * server's own connection handling (HTTP/1.1 or HTTP/2) sees it; call it after every
 * 'secureConnection' listener of the server was added.
 */
export function closeAcmeAlpnConnections(server: TlsServer): void {
  const listeners = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
  server.removeAllListeners('secureConnection');
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === ACME_TLS_ALPN_PROTOCOL) {
      socket.destroy();
      return;
    }
    for (const listener of listeners) listener.call(server, socket);
  });
}
