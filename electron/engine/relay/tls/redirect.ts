/**
 * tls.redirectPlain: the plain listener sends viewers to HTTPS with a 308 (method and body
 * kept), except ACME HTTP-01 challenges, which a certificate authority fetches over plain
 * HTTP. The target is relay.publicUrl when it is an https URL, else the host the viewer asked
 * for (checked: a name or an address, nothing else) on the HTTPS listener's port.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** Paths ACME HTTP-01 challenges are fetched on (RFC 8555, section 8.3): never redirected. */
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

/** A Host header value: a DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
const HOST_HEADER = /^(?<name>[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/** Whether the request came over TLS. */
export function isEncrypted(req: IncomingMessage): boolean {
  return (req.socket as TLSSocket).encrypted === true;
}

/** Whether a plain request is one the redirect leaves alone (an ACME challenge). */
export function isAcmeChallenge(url: string | undefined): boolean {
  return (url ?? '').startsWith(ACME_CHALLENGE_PREFIX);
}

/**
 * The https URL for a plain request, or undefined when its Host header is not a plain host
 * name or address (the caller answers 400).
 */
export function httpsLocation(req: IncomingMessage, tlsPort: number, publicUrl: string): string | undefined {
  const path = req.url ?? '/';
  if (publicUrl.startsWith('https://')) return new URL(publicUrl).origin + path;
  const host = HOST_HEADER.exec(String(req.headers.host ?? ''))?.groups?.name;
  if (!host) return undefined;
  return `https://${host}${tlsPort === 443 ? '' : `:${tlsPort}`}${path}`;
}
