/**
 * The HTTPS listener's TLS options: the oldest version from tls.minVersion, and for TLS 1.2
 * only forward-secret AEAD ciphers (Mozilla's "intermediate" list); TLS 1.3 suites are all
 * AEAD and stay Node's defaults. The certificate is chosen per connection by SNI
 * (certificates.ts); a handshake must finish within tls.handshakeTimeoutMs.
 */
import type { TlsOptions } from 'node:tls';
import type { TlsSettings } from '../../../../shared/config.js';
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

/** Options for https.createServer / setSecureContext from the settings and the loaded certificates. */
export function tlsServerOptions(settings: TlsSettings, store: CertificateStore): TlsOptions {
  return {
    ...store.defaultPem(),
    minVersion: settings.minVersion,
    ciphers: [...TLS13_SUITES, ...TLS12_CIPHERS].join(':'),
    honorCipherOrder: true,
    handshakeTimeout: settings.handshakeTimeoutMs,
    SNICallback: (servername, done) => done(null, store.contextFor(servername)),
  };
}
