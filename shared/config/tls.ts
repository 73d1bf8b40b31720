/** The `tls` section: the relay's HTTPS listener beside its plain one, and its certificates. */
import { array, boolean, documented, integer, object, oneOf, setting, string } from '../schema.js';
import { port } from './fields.js';

/** Most certificates the HTTPS listener holds (one per set of names, chosen by SNI). */
export const MAX_TLS_CERTIFICATES = 32;

/** A path to a PEM file: absolute, or relative to the folder of the config file. */
const pemPath = () => string({ min: 1, max: 1024, pattern: /^[^\0\r\n]+$/, patternName: 'a file path' });

/** One certificate: its chain and its private key, in PEM files. */
export const tlsCertificateSchema = object({
  certFile: documented(pemPath(), { doc: 'PEM file with the certificate and its chain (leaf first); absolute or relative to the config folder.' }),
  keyFile: documented(pemPath(), { doc: "PEM file with the certificate's private key (unencrypted)." }),
});

/** Most names one ACME certificate covers (Let's Encrypt's limit per certificate). */
export const MAX_ACME_DOMAINS = 100;

/** A DNS name an HTTP-01 or TLS-ALPN-01 challenge can prove: letters, digits and hyphens in dot-separated labels, no wildcard. */
const domainName = () =>
  string({
    min: 3,
    max: 253,
    pattern: /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/,
    patternName: 'a DNS name such as live.example.com (no wildcard: neither HTTP-01 nor TLS-ALPN-01 can prove one)',
  });

/** How the certificate authority checks that the relay answers for each domain (tls.acme.challenge). */
export const ACME_CHALLENGE_TYPES = ['http-01', 'tls-alpn-01'] as const;
export type AcmeChallengeType = (typeof ACME_CHALLENGE_TYPES)[number];

/** Automatic certificates from an ACME certificate authority (RFC 8555). */
export const tlsAcmeSchema = object({
  enabled: setting(boolean(), false, {
    doc:
      "Get the HTTPS listener's certificate from an ACME certificate authority and renew it before it ends. The authority checks each domain with the challenge chosen by tls.acme.challenge. " +
      'Until the first certificate arrives, the configured or self-signed one is served; a failed renewal is retried with backoff and never removes the certificate in use.',
  }),
  challenge: setting(oneOf(ACME_CHALLENGE_TYPES), 'http-01', {
    doc:
      'How the authority checks each domain. "http-01": it fetches a token from the plain port, which it must reach as port 80 of every domain. ' +
      '"tls-alpn-01" (RFC 8737), for relays whose plain port is not reachable from the internet: it opens a TLS connection offering ALPN "acme-tls/1" to the HTTPS listener, which it must reach as port 443 of every domain, and checks the certificate that connection gets; other connections are not affected.',
  }),
  directoryUrl: setting(
    string({ min: 9, max: 1024, pattern: /^https:\/\/[^\s]+$/, patternName: 'an https:// URL' }),
    'https://acme-v02.api.letsencrypt.org/directory',
    {
      doc: "The ACME directory of the certificate authority (Let's Encrypt's staging directory is https://acme-staging-v02.api.letsencrypt.org/directory).",
    },
  ),
  email: setting(string({ max: 254, pattern: /^(?:[^\s@]+@[^\s@]+\.[^\s@]+)?$/, patternName: 'an email address' }), '', {
    doc: 'Contact address of the ACME account (the authority may send expiry notices there); empty: none.',
  }),
  domains: setting(array(domainName(), MAX_ACME_DOMAINS), [], {
    doc: 'DNS names the certificate covers (at most 100), each pointing at this relay; the first is its subject.',
  }),
  termsOfServiceAgreed: setting(boolean(), false, {
    doc: "You agree to the certificate authority's terms of service (read them at the directory's meta.termsOfService); must be true to turn ACME on.",
  }),
  renewBeforeDays: setting(integer(1, 60), 30, {
    unit: 'days',
    doc: 'Renew this long before the certificate ends, or when a third of its lifetime is left if that comes first (short-lived certificates).',
  }),
  retryMinMs: setting(integer(100, 86_400_000), 60_000, {
    unit: 'ms',
    doc: 'Wait after a first failed attempt; each further failure doubles the wait up to tls.acme.retryMaxMs.',
  }),
  retryMaxMs: setting(integer(100, 604_800_000), 21_600_000, {
    unit: 'ms',
    doc: 'Longest wait between failed attempts.',
  }),
  caFile: setting(string({ max: 1024, pattern: /^[^\0\r\n]*$/, patternName: 'a file path' }), '', {
    doc: "PEM file of certificate authorities trusted for the ACME directory's own HTTPS, besides the system's (a private or test authority); absolute or relative to the config folder; empty: the system's only.",
  }),
});

/** A cross-field problem of tls.acme, as [field path, words], or undefined. */
export function tlsAcmeProblem(tls: {
  enabled: boolean;
  acme: { enabled: boolean; termsOfServiceAgreed: boolean; domains: string[]; retryMinMs: number; retryMaxMs: number };
}): [string, string] | undefined {
  const { acme } = tls;
  const seen = new Set<string>();
  for (const [i, domain] of acme.domains.entries()) {
    if (seen.has(domain.toLowerCase())) return [`tls.acme.domains[${i}]`, `duplicate domain "${domain}"`];
    seen.add(domain.toLowerCase());
  }
  if (acme.retryMinMs > acme.retryMaxMs) return ['tls.acme.retryMinMs', `must not exceed tls.acme.retryMaxMs (${acme.retryMaxMs})`];
  if (!acme.enabled) return undefined;
  if (!tls.enabled) return ['tls.acme.enabled', 'is useless when tls.enabled is false: ACME certificates are served by the HTTPS listener'];
  if (!acme.termsOfServiceAgreed) return ['tls.acme.termsOfServiceAgreed', "must be true when ACME is enabled (read the certificate authority's terms first)"];
  if (acme.domains.length === 0) return ['tls.acme.domains', 'is required when ACME is enabled'];
  return undefined;
}

/** HTTPS on the relay. */
export const tlsSettingsSchema = object({
  enabled: setting(boolean(), false, {
    doc: 'Serve viewers over HTTPS on tls.port too (relay.host, same routes, auth, limits and stats as the plain port); applies after a restart.',
  }),
  port: setting(port(), 8443, { unit: 'port', doc: 'Port of the HTTPS listener; 0 picks a free port; applies after a restart.' }),
  certificates: setting(array(tlsCertificateSchema, MAX_TLS_CERTIFICATES), [], {
    doc:
      'Certificates of the HTTPS listener (at most 32): each viewer gets the one whose names match the name it asked for (SNI), else the first. ' +
      'Replaced files are picked up for new connections without dropping any connection in flight.',
  }),
  selfSigned: setting(boolean(), true, {
    doc:
      'With no certificates configured, use a self-signed one, generated on the first start (names: localhost, the machine name, 127.0.0.1, ::1) and kept in tls/ beside the config file (key mode 0600). ' +
      'Browsers warn about it: compare its SHA-256 fingerprint (Settings page, GET /api/tls) before trusting it.',
  }),
  redirectPlain: setting(boolean(), false, {
    doc: 'The plain port answers every request with a 308 to the same path over HTTPS, except ACME HTTP-01 challenges (/.well-known/acme-challenge/) and the health probes.',
  }),
  minVersion: setting(oneOf(['TLSv1.2', 'TLSv1.3'] as const), 'TLSv1.2', {
    doc: 'Oldest TLS version accepted. TLS 1.2 is offered only with forward-secret AEAD ciphers (ECDHE with AES-GCM or ChaCha20-Poly1305).',
  }),
  handshakeTimeoutMs: setting(integer(100, 120_000), 10_000, {
    unit: 'ms',
    doc: 'A connection must finish its TLS handshake within this long, else it is closed (a handshake that never finishes holds nothing longer).',
  }),
  reloadCheckMs: setting(integer(100, 3_600_000), 2_000, {
    unit: 'ms',
    doc: 'How often the certificate files are checked for changes (hot reload); a broken new file is reported and the certificate in use is kept.',
  }),
  http2: setting(boolean(), true, {
    doc:
      'Offer HTTP/2 on the HTTPS listener (chosen by ALPN), many requests on one connection; clients that do not ask for it get HTTP/1.1 on the same port. ' +
      'Request heads are bounded by relay.maxHeaderBytes and relay.maxHeaderCount, as over HTTP/1.1. Applies after a restart.',
  }),
  http2MaxConcurrentStreams: setting(integer(1, 10_000), 100, {
    unit: 'streams',
    doc: 'Most requests open at once on one HTTP/2 connection; more are refused (REFUSED_STREAM), and a client that exceeds the limit after acknowledging it is disconnected (a protocol error). Applies after a restart.',
  }),
  http2MaxSessionMemoryBytes: setting(integer(1_048_576, 1_073_741_824), 10_485_760, {
    unit: 'bytes',
    doc: 'Memory one HTTP/2 connection may hold in header tables and queued frames; past it new requests on that connection are refused (whole MiB). Applies after a restart.',
  }),
  http2IdleTimeoutMs: setting(integer(100, 3_600_000), 30_000, {
    unit: 'ms',
    doc: 'An HTTP/2 connection with no request open for this long is closed (GOAWAY). A new connection must send its first request within relay.headerReadTimeoutMs (slowloris).',
  }),
  http2MaxResetsPerSecond: setting(integer(1, 100_000), 100, {
    unit: 'streams per second',
    doc: 'Most requests one HTTP/2 connection may abandon (reset) before their answer ends, per second; more closes the connection (rapid reset, CVE-2023-44487).',
  }),
  http2MaxControlFramesPerSecond: setting(integer(1, 100_000), 50, {
    unit: 'frames per second',
    doc: 'Most SETTINGS and PING frames one HTTP/2 connection may send per second; more closes the connection (SETTINGS and PING floods).',
  }),
  acme: setting(tlsAcmeSchema, tlsAcmeSchema.parse({}, 'tls.acme'), {
    doc: "Automatic certificates from an ACME certificate authority such as Let's Encrypt (see `tls.acme`).",
  }),
});
