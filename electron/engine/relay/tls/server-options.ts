/**
 * The HTTPS listener's TLS options: the oldest version from tls.minVersion, and for TLS 1.2
 * only forward-secret AEAD ciphers (Mozilla's "intermediate" list); TLS 1.3 suites are all
 * AEAD and stay Node's defaults. The certificate is chosen per connection by SNI
 * (certificates.ts); a handshake must finish within tls.handshakeTimeoutMs. ALPN offers
 * h2 and http/1.1 (tls.http2) or http/1.1, and answers ACME TLS-ALPN-01 challenges
 * ("acme-tls/1", acme-alpn.ts) with their own certificate.
 */
import type { TlsOptions } from 'node:tls';
import type { TlsSettings } from '../../../../shared/config.js';
import { acmeAlpnCallbacks, type AcmeAlpnCertificates } from './acme-alpn.js';
import type { CertificateStore } from './certificates.js';

/** TLS 1.2 ciphers offered: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

/** TLS 1.3 suites (all AEAD), in Node's order. */
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

/** ALPN protocols of the listener, in order of preference: with HTTP/2 (tls.http2) or without. */
export const HTTP2_ALPN_PROTOCOLS = ['h2', 'http/1.1'] as const;
export const HTTP1_ALPN_PROTOCOLS = ['http/1.1'] as const;

/** The protocols the listener speaks by ALPN, in order of preference (tls.http2). */
export function alpnProtocols(settings: TlsSettings): readonly string[] {
  return settings.http2 ? HTTP2_ALPN_PROTOCOLS : HTTP1_ALPN_PROTOCOLS;
}

/**
 * Options for https.createServer / http2.createSecureServer / setSecureContext from the
 * settings and the loaded certificates; with `acmeAlpn`, the ALPN and SNI callbacks also
 * answer TLS-ALPN-01 challenges (Node reads both callbacks when the server is created only).
 */
export function tlsServerOptions(settings: TlsSettings, store: CertificateStore, acmeAlpn?: AcmeAlpnCertificates): TlsOptions {
  const protocols = alpnProtocols(settings);
  return {
    ...store.defaultPem(),
    minVersion: settings.minVersion,
    ciphers: [...TLS13_SUITES, ...TLS12_CIPHERS].join(':'),
    honorCipherOrder: true,
    handshakeTimeout: settings.handshakeTimeoutMs,
    ...(acmeAlpn
      ? acmeAlpnCallbacks(protocols, acmeAlpn, (servername) => store.contextFor(servername))
      : { SNICallback: (servername, done) => done(null, store.contextFor(servername)) }),
  };
}
