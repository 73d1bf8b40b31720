/**
 * A throwaway certificate authority for TLS tests: a CA certificate the test client trusts
 * (never "ignore certificate errors"), and leaf certificates it signs for given names,
 * written as PEM files the relay reads.
 */
import { X509Certificate } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface Pem {
  cert: string;
  key: string;
  fingerprint256: string;
}

export class TestCa {
  private constructor(readonly ca: Pem) {}

  static async create(name = 'RelayDeck Test CA'): Promise<TestCa> {
    const pems = await generate([{ name: 'commonName', value: name }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    });
    return new TestCa({ cert: pems.cert, key: pems.private, fingerprint256: new X509Certificate(pems.cert).fingerprint256 });
  }

  /** A leaf certificate for `names` (DNS) and 127.0.0.1, signed by this CA. */
  async issue(names: string[], validDays = 30): Promise<Pem> {
    const notBeforeDate = new Date(Date.now() - 60_000);
    const pems = await generate([{ name: 'commonName', value: names[0] }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate: new Date(notBeforeDate.getTime() + validDays * 86_400_000),
      ca: { key: this.ca.key, cert: this.ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }] },
      ],
    });
    return { cert: pems.cert, key: pems.private, fingerprint256: new X509Certificate(pems.cert).fingerprint256 };
  }
}

/** Write a certificate's two files the way a renewal tool does: each through a temporary file and a rename. */
export async function writePem(dir: string, base: string, pem: Pem): Promise<{ certFile: string; keyFile: string }> {
  const certFile = path.join(dir, `${base}-cert.pem`);
  const keyFile = path.join(dir, `${base}-key.pem`);
  await writeFile(`${keyFile}.tmp`, pem.key, { mode: 0o600 });
  await rename(`${keyFile}.tmp`, keyFile);
  await writeFile(`${certFile}.tmp`, pem.cert);
  await rename(`${certFile}.tmp`, certFile);
  return { certFile, keyFile };
}
