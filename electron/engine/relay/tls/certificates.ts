/**
 * The HTTPS listener's certificates: read from PEM files, checked (the key must match the
 * certificate), chosen per connection by the name the viewer asked for (SNI), and watched:
 * when a file changes, the certificate is read again and new connections get it, while
 * connections in flight keep the one they were opened with. A new file that does not load
 * is reported (status, log) and the certificate in use is kept, so a half-copied renewal
 * never takes the listener down.
 *
 * Files are checked every tls.reloadCheckMs by their size, change time and inode (a
 * rename over the file, as certbot and cert-manager do, counts as a change).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { TlsCertificateConfig, TlsSettings } from '../../../../shared/config.js';
import type { TlsCertificateDto } from '../../../../shared/dto.js';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { ensureSelfSigned } from './self-signed.js';

/** One certificate as loaded: its PEM text, what it says, and its TLS context. */
interface LoadedCertificate {
  readonly config: TlsCertificateConfig;
  readonly cert: string;
  readonly key: string;
  readonly x509: X509Certificate;
  /** DNS names it covers (lowercase; "*.example.com" for a wildcard), from subjectAltName, else its CN. */
  readonly names: readonly string[];
  readonly context: SecureContext;
  /** Size, change time and inode of both files when they were read. */
  readonly stamp: string;
  readonly loadedAt: number;
}

export interface CertificateStoreDeps {
  settings: () => TlsSettings;
  /** Folder of the config file: relative paths start there, and the self-signed certificate lives in its tls/ folder. */
  configDir: string;
  log: Logger;
  /** The certificate obtained by ACME (tls.acme, acme.ts), served first, once there is one. */
  acmeCertificate?: () => TlsCertificateConfig | undefined;
}

export class CertificateStore {
  private loaded: LoadedCertificate[] = [];
  /** Per certificate (same order as the settings), the last error reading it, if the last attempt failed. */
  private errors: (string | undefined)[] = [];
  /** The generated certificate's file, once tls.selfSigned has made one. */
  private selfSignedCertFile: string | undefined;
  /** The ACME certificate's file, while it is the first one served. */
  private acmeCertFile: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  /** Settles when the check in flight ends. */
  private checkDone: Promise<void> = Promise.resolve();
  lastCheckAt = 0;
  /** Called when the certificates changed (the listener's default context must follow). */
  onChange: (() => void) | undefined;

  constructor(private readonly deps: CertificateStoreDeps) {}

  /**
   * The certificates to serve: the ACME one first when there is one, then the configured ones,
   * or the self-signed one when none is configured (also while ACME has none yet).
   */
  private async wanted(): Promise<TlsCertificateConfig[]> {
    const { certificates, selfSigned, acme: acmeSettings } = this.deps.settings();
    const acme = this.deps.acmeCertificate?.();
    this.acmeCertFile = acme?.certFile;
    if (certificates.length > 0) return acme ? [acme, ...certificates] : certificates;
    if (acme) return [acme];
    if (!selfSigned && !acmeSettings.enabled)
      throw new RelayError('BAD_CONFIG', 'tls.certificates: HTTPS is enabled with no certificate and tls.selfSigned is false');
    const generated = await ensureSelfSigned(path.join(this.deps.configDir, 'tls'), this.deps.log);
    this.selfSignedCertFile = generated.certFile;
    return [generated];
  }

  /** Check that each certificate of a list would load (a settings change, before it is saved); the error names the failing one. */
  async verify(certificates: readonly TlsCertificateConfig[]): Promise<void> {
    for (const [i, config] of certificates.entries()) {
      try {
        await this.read(config);
      } catch (error) {
        throw new RelayError('BAD_CONFIG', `tls.certificates[${i}]: ${(error as Error).message}`);
      }
    }
  }

  /** Read every certificate; a configured certificate that does not load fails the start (the error names the field). */
  async load(): Promise<void> {
    const wanted = await this.wanted();
    const loaded: LoadedCertificate[] = [];
    for (const [i, config] of wanted.entries()) {
      try {
        loaded.push(await this.read(config));
      } catch (error) {
        throw new RelayError('BAD_CONFIG', `${this.fieldOf(i)}: ${(error as Error).message}`);
      }
    }
    this.loaded = loaded;
    this.errors = wanted.map(() => undefined);
    this.lastCheckAt = Date.now();
  }

  /** Check the files every tls.reloadCheckMs; changed ones are read again. */
  startWatching(): void {
    this.stopWatching();
    this.timer = setInterval(() => void this.check(), this.deps.settings().reloadCheckMs);
    this.timer.unref();
  }

  stopWatching(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Read again what changed on disk (or, with `force`, everything) and what the settings now
   * list. A certificate that fails keeps its loaded version; returns whether anything changed.
   */
  async check(force = false): Promise<boolean> {
    // A forced check (reload now, a new ACME certificate) waits for the one in flight, which may have read the files before they changed.
    while (this.checking) {
      if (!force) return false;
      await this.checkDone;
    }
    this.checking = true;
    let done = () => {};
    this.checkDone = new Promise((resolve) => (done = resolve));
    try {
      const wanted = await this.wanted();
      const next: LoadedCertificate[] = [];
      const errors: (string | undefined)[] = [];
      let changed = wanted.length !== this.loaded.length;
      for (const [i, config] of wanted.entries()) {
        const current = this.loaded.find((c) => c.config.certFile === config.certFile && c.config.keyFile === config.keyFile);
        try {
          const stamp = await this.stampOf(config);
          if (current && !force && current.stamp === stamp) {
            next.push(current);
            errors.push(undefined);
            continue;
          }
          next.push(await this.read(config));
          errors.push(undefined);
          changed = true;
        } catch (error) {
          const message = `${this.fieldOf(i)}: ${(error as Error).message}`;
          if (message !== this.errors[i]) this.deps.log.warn(`${message}; ${current ? 'keeping the certificate in use' : 'not served'}`);
          errors.push(message);
          if (current) next.push(current);
          else changed = true;
        }
      }
      this.lastCheckAt = Date.now();
      this.errors = errors;
      if (changed && next.length > 0) {
        this.loaded = next;
        this.deps.log.info(`certificates loaded: ${next.map((c) => c.names.join(' ') || c.config.certFile).join('; ')}`);
        this.onChange?.();
      }
      return changed;
    } finally {
      this.checking = false;
      done();
    }
  }

  /** The setting a served certificate comes from, for errors: tls.acme, or its place in tls.certificates. */
  private fieldOf(i: number): string {
    if (this.acmeCertFile === undefined) return `tls.certificates[${i}]`;
    return i === 0 ? 'tls.acme' : `tls.certificates[${i - 1}]`;
  }

  /** The certificate for a name asked for by SNI: an exact name, then a wildcard one level up, else the first. */
  contextFor(servername: string | undefined): SecureContext | undefined {
    const name = (servername ?? '').toLowerCase();
    if (name) {
      const exact = this.loaded.find((c) => c.names.includes(name));
      if (exact) return exact.context;
      const dot = name.indexOf('.');
      const wildcard = dot > 0 ? `*${name.slice(dot)}` : '';
      const covering = wildcard ? this.loaded.find((c) => c.names.includes(wildcard)) : undefined;
      if (covering) return covering.context;
    }
    return this.loaded[0]?.context;
  }

  /** The default certificate's PEM (for connections without SNI, and to create the listener). */
  defaultPem(): { cert: string; key: string } {
    const first = this.loaded[0];
    if (!first) throw new RelayError('BAD_CONFIG', 'tls.certificates: no certificate is loaded');
    return { cert: first.cert, key: first.key };
  }

  /** What the status API shows of each certificate (with the last error reading it, if any). */
  describe(): TlsCertificateDto[] {
    const described = this.loaded.map((c, i) =>
      certificateDto(c, i === 0, c.config.certFile === this.selfSignedCertFile, c.config.certFile === this.acmeCertFile),
    );
    const failed = this.errors.filter((e): e is string => e !== undefined);
    return failed.length === 0 ? described : described.map((dto, i) => (i === 0 ? { ...dto, errors: failed } : dto));
  }

  /** The last errors reading certificate files (empty when every file loaded). */
  lastErrors(): string[] {
    return this.errors.filter((e): e is string => e !== undefined);
  }

  private resolve(file: string): string {
    return path.resolve(this.deps.configDir, file);
  }

  private async stampOf(config: TlsCertificateConfig): Promise<string> {
    const stamps = await Promise.all([statOf(this.resolve(config.certFile), 'certFile'), statOf(this.resolve(config.keyFile), 'keyFile')]);
    return stamps.map((s) => `${s.size}:${s.ctimeMs}:${s.mtimeMs}:${s.ino}`).join('/');
  }

  /** Read and check one certificate: PEM parses, the key matches, the TLS context builds. */
  private async read(config: TlsCertificateConfig): Promise<LoadedCertificate> {
    const stamp = await this.stampOf(config);
    const [cert, key] = await Promise.all([readPem(this.resolve(config.certFile), 'certFile'), readPem(this.resolve(config.keyFile), 'keyFile')]);
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(cert);
    } catch {
      throw new Error(`certFile ${config.certFile}: not a PEM certificate`);
    }
    let privateKey;
    try {
      privateKey = createPrivateKey(key);
    } catch {
      throw new Error(`keyFile ${config.keyFile}: not an unencrypted PEM private key`);
    }
    if (!x509.checkPrivateKey(privateKey)) throw new Error(`keyFile ${config.keyFile}: the key does not belong to the certificate in ${config.certFile}`);
    const context = createSecureContext({ cert, key });
    return { config, cert, key, x509, names: namesOf(x509), context, stamp, loadedAt: Date.now() };
  }
}

/** A PEM file's text (at most 1 MiB: a chain is a few KB). */
async function readPem(file: string, field: string): Promise<string> {
  const info = await statOf(file, field);
  if (info.size > 1_048_576) throw new Error(`${field} ${file}: larger than 1 MiB, not a PEM file`);
  return readFile(file, 'utf8');
}

/** A file's stat, or an error naming the field and the file. */
function statOf(file: string, field: string): Promise<Stats> {
  return stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`${field} ${file}: ${error.code === 'ENOENT' ? 'no such file' : (error.code ?? error.message)}`);
  });
}

/** DNS names of a certificate: its subjectAltName DNS entries, else its common name. */
export function namesOf(x509: X509Certificate): string[] {
  const dns = (x509.subjectAltName ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('DNS:'))
    .map((part) => part.slice(4).toLowerCase());
  if (dns.length > 0) return dns;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x509.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

function certificateDto(c: LoadedCertificate, isDefault: boolean, selfSigned: boolean, acme: boolean): TlsCertificateDto {
  return {
    certFile: c.config.certFile,
    keyFile: c.config.keyFile,
    subject: c.x509.subject.replace(/\n/g, ', '),
    issuer: c.x509.issuer.replace(/\n/g, ', '),
    names: [...c.names],
    addresses: (c.x509.subjectAltName ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.startsWith('IP Address:'))
      .map((part) => part.slice('IP Address:'.length)),
    validFrom: Date.parse(c.x509.validFrom),
    validTo: Date.parse(c.x509.validTo),
    fingerprint256: c.x509.fingerprint256,
    selfSigned,
    acme,
    default: isDefault,
    loadedAt: c.loadedAt,
    errors: [],
  };
}
