/**
 * What the ACME manager keeps on disk, in tls/acme/ beside the config file (folder mode 0700):
 * the account key (account-key.pem, 0600, made once and kept, so every order is on the same
 * account), and each certificate obtained as its own pair of files (cert-<time>.pem with its
 * chain, key-<time>.pem at 0600), named in meta.json with the directory and domains it was
 * ordered for. A new pair is written whole before meta.json is swapped to it (each file
 * through a temporary file and a rename), so the listener never reads a certificate beside
 * another one's key, and a crash leaves the previous certificate in place. Older pairs are
 * removed once the new one is served.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TlsCertificateConfig } from '../../../../shared/config.js';

export const ACME_ACCOUNT_KEY_FILE = 'account-key.pem';
export const ACME_META_FILE = 'meta.json';
/** A certificate pair's files: cert-<obtainedAt>.pem and key-<obtainedAt>.pem. */
const PAIR_FILE = /^(cert|key)-\d{1,16}\.pem$/;

/** What meta.json records of the certificate in use. */
export interface AcmeMeta {
  directoryUrl: string;
  domains: string[];
  /** When it was obtained, epoch ms. */
  obtainedAt: number;
  /** File names in the acme folder. */
  certFile: string;
  keyFile: string;
}

/** The certificate in use as read back: its files (absolute), what meta.json says, and the parsed certificate. */
export interface HeldAcmeCertificate {
  files: TlsCertificateConfig;
  meta: AcmeMeta;
  x509: X509Certificate;
}

export class AcmeFiles {
  constructor(readonly dir: string) {}

  /** The account key, made by `create` on the first call. */
  async accountKey(create: () => Promise<Buffer>): Promise<Buffer> {
    const file = path.join(this.dir, ACME_ACCOUNT_KEY_FILE);
    try {
      return await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await this.ensureDir();
    const key = await create();
    await writeAtomically(file, key, 0o600);
    return key;
  }

  /** The certificate meta.json names, or undefined when there is none or it does not read. */
  async held(): Promise<HeldAcmeCertificate | undefined> {
    try {
      const meta = JSON.parse(await readFile(path.join(this.dir, ACME_META_FILE), 'utf8')) as AcmeMeta;
      if (!PAIR_FILE.test(meta.certFile) || !PAIR_FILE.test(meta.keyFile) || !Array.isArray(meta.domains)) return undefined;
      const files = { certFile: path.join(this.dir, meta.certFile), keyFile: path.join(this.dir, meta.keyFile) };
      const x509 = new X509Certificate(await readFile(files.certFile, 'utf8'));
      await readFile(files.keyFile);
      return { files, meta, x509 };
    } catch {
      return undefined;
    }
  }

  /** Write a new pair, then point meta.json at it. */
  async store(cert: string, key: string, meta: Omit<AcmeMeta, 'certFile' | 'keyFile'>): Promise<HeldAcmeCertificate> {
    await this.ensureDir();
    const full: AcmeMeta = { ...meta, certFile: `cert-${meta.obtainedAt}.pem`, keyFile: `key-${meta.obtainedAt}.pem` };
    const files = { certFile: path.join(this.dir, full.certFile), keyFile: path.join(this.dir, full.keyFile) };
    await writeAtomically(files.keyFile, key, 0o600);
    await writeAtomically(files.certFile, cert, 0o644);
    await writeAtomically(path.join(this.dir, ACME_META_FILE), `${JSON.stringify(full, null, 2)}\n`, 0o644);
    return { files, meta: full, x509: new X509Certificate(cert) };
  }

  /** Remove every certificate pair but the one in use. */
  async removeOthers(inUse: AcmeMeta): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const stale = names.filter((name) => PAIR_FILE.test(name) && name !== inUse.certFile && name !== inUse.keyFile);
    await Promise.all(stale.map((name) => rm(path.join(this.dir, name), { force: true })));
  }

  private async ensureDir(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }
}

/** Write through a temporary file and a rename: readers see the old file or the new one, never half of one. */
async function writeAtomically(file: string, data: string | Buffer, mode: number): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, data, { mode });
  await rename(temporary, file);
}
