/**
 * The self-signed certificate a first run on a LAN serves when no certificate is configured
 * (tls.selfSigned): generated once with the `selfsigned` library (EC P-256, SHA-256, valid
 * SELF_SIGNED_VALID_DAYS) for localhost, the machine name, 127.0.0.1 and ::1, and kept in
 * the tls/ folder beside the config file. The key is written with mode 0600, through a
 * temporary file and a rename, so a crash never leaves half a key. A certificate within
 * SELF_SIGNED_RENEW_DAYS of its end is generated again.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TlsCertificateConfig } from '../../../../shared/config.js';
import type { Logger } from '../../core/log.js';

/** How long a generated self-signed certificate is valid, days. */
export const SELF_SIGNED_VALID_DAYS = 825;
/** A self-signed certificate this close to its end is generated again at start, days. */
export const SELF_SIGNED_RENEW_DAYS = 30;
/** File names in the tls/ folder. */
export const SELF_SIGNED_CERT_FILE = 'self-signed-cert.pem';
export const SELF_SIGNED_KEY_FILE = 'self-signed-key.pem';

const DAY_MS = 86_400_000;

/** The self-signed certificate's files in `dir`, generated when missing, unreadable or near their end. */
export async function ensureSelfSigned(dir: string, log: Logger): Promise<TlsCertificateConfig> {
  const certFile = path.join(dir, SELF_SIGNED_CERT_FILE);
  const keyFile = path.join(dir, SELF_SIGNED_KEY_FILE);
  if (await stillGood(certFile, keyFile)) return { certFile, keyFile };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { cert, key, fingerprint } = await generateSelfSigned();
  await writeAtomically(keyFile, key, 0o600);
  await writeAtomically(certFile, cert, 0o644);
  log.info(`generated a self-signed certificate (${certFile}), SHA-256 fingerprint ${fingerprint}`);
  return { certFile, keyFile };
}

/** Both files exist, parse, and the certificate has more than SELF_SIGNED_RENEW_DAYS left. */
async function stillGood(certFile: string, keyFile: string): Promise<boolean> {
  try {
    const [cert] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return Date.parse(new X509Certificate(cert).validTo) - Date.now() > SELF_SIGNED_RENEW_DAYS * DAY_MS;
  } catch {
    return false;
  }
}

/** A fresh EC P-256 certificate for this machine's local names. */
async function generateSelfSigned(): Promise<{ cert: string; key: string; fingerprint: string }> {
  const { generate } = await import('selfsigned');
  const host = os.hostname().toLowerCase();
  const names = [...new Set(['localhost', ...(/^[a-z0-9.-]{1,253}$/.test(host) ? [host] : [])])];
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: 'commonName', value: 'RelayDeck self-signed' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + SELF_SIGNED_VALID_DAYS * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...names.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }, { type: 7 as const, ip: '::1' }],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

/** Write through a temporary file and a rename: readers see the old file or the new one, never half of one. */
async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, text, { mode });
  await rename(temporary, file);
}
