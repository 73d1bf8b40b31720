/**
 * Automatic certificates (tls.acme): the relay orders its HTTPS certificate from an ACME
 * certificate authority (RFC 8555; Let's Encrypt by default) with the `acme-client` library,
 * proves each domain by HTTP-01 (the tokens are answered by the relay's own listeners, see
 * acme-challenges.ts) or by TLS-ALPN-01 (tls.acme.challenge; the challenge certificates are
 * served by the HTTPS listener's handshake, see acme-alpn.ts), keeps the result in tls/acme/ (acme-files.ts), and hands it to the
 * CertificateStore, which serves it first (certificates.ts). A renewal is planned ahead of
 * the end of validity and a failed order is retried with backoff (acme-schedule.ts).
 *
 * Life cycle: `start` when the HTTPS listener starts (reads the certificate kept from an
 * earlier run, and orders at once if there is none, or it was for other domains or another
 * authority); one order at a time; `renewNow` for the operator; `reconfigure` after a
 * settings change; `stop` with the engine. A failure is recorded (status, log) and never
 * touches the certificate in use: the listener keeps serving it until a new one is installed.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { rootCertificates } from 'node:tls';
import type { AcmeChallengeType, TlsAcmeSettings, TlsCertificateConfig } from '../../../../shared/config.js';
import type { TlsAcmeStatusDto } from '../../../../shared/dto.js';
import { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { AcmeAlpnCertificates } from './acme-alpn.js';
import type { AcmeChallenges } from './acme-challenges.js';
import { AcmeFiles, type HeldAcmeCertificate } from './acme-files.js';
import { nextAttemptAt } from './acme-schedule.js';
import { namesOf } from './certificates.js';

/** One HTTP request to the certificate authority must answer within this long, ms. */
export const ACME_REQUEST_TIMEOUT_MS = 30_000;
/** A timer never waits longer than this (Node's limit is about 24.8 days); the plan is recomputed when it fires, ms. */
const MAX_TIMER_MS = 86_400_000;

export interface AcmeManagerDeps {
  settings: () => TlsAcmeSettings;
  /** Folder of the config file: the files live in its tls/acme/, and a relative caFile starts there. */
  configDir: string;
  log: Logger;
  /** Where HTTP-01 tokens are held for the relay's listeners to answer. */
  challenges: AcmeChallenges;
  /** Where TLS-ALPN-01 challenge certificates are held for the HTTPS listener to answer. */
  alpnCertificates: AcmeAlpnCertificates;
  /** Serve the certificate now in `certificate()` (the store reads its files again). */
  install: () => Promise<void>;
}

export class AcmeManager {
  private readonly files: AcmeFiles;
  private held: HeldAcmeCertificate | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastFailureAt = 0;
  private lastError = '';
  private nextAt = 0;

  constructor(private readonly deps: AcmeManagerDeps) {
    this.files = new AcmeFiles(path.join(deps.configDir, 'tls', 'acme'));
  }

  /** The certificate to serve first, while ACME is on and one was obtained. */
  certificate(): TlsCertificateConfig | undefined {
    return this.running ? this.held?.files : undefined;
  }

  /** Begin (when tls.acme.enabled): read what an earlier run kept, so the listener serves it from its start; `schedule` then plans the orders. */
  async start(): Promise<void> {
    if (!this.deps.settings().enabled || this.running) return;
    this.running = true;
    this.held = await this.files.held();
    if (this.held) this.deps.log.info(`ACME certificate kept from an earlier run: ${namesOf(this.held.x509).join(' ')}, valid to ${this.held.x509.validTo}`);
  }

  /** Plan the next order (at once when there is no certificate yet), once the listeners answer challenges. */
  schedule(): void {
    this.plan();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.nextAt = 0;
  }

  /** After a settings change: start, stop, or plan again (new domains or authority order at once, with a clean backoff). */
  async reconfigure(): Promise<void> {
    if (!this.deps.settings().enabled) return this.stop();
    if (!this.running) await this.start();
    this.failures = 0;
    this.lastError = '';
    this.plan();
  }

  /** Order a certificate now (or wait for the order in flight); the status tells how it went. */
  async renewNow(): Promise<void> {
    if (!this.running) throw new RelayError('CONFLICT', 'ACME is off: set tls.acme.enabled (with tls.enabled) and restart or save the settings');
    await this.attempt();
  }

  status(): TlsAcmeStatusDto {
    const settings = this.deps.settings();
    const x509 = this.held?.x509;
    return {
      enabled: this.running,
      directoryUrl: settings.directoryUrl,
      domains: [...settings.domains],
      status: !this.running ? 'off' : this.inFlight || (!this.held && this.failures === 0) ? 'requesting' : this.failures > 0 ? 'retrying' : 'valid',
      issuer: x509 ? x509.issuer.replace(/\n/g, ', ') : '',
      validTo: x509 ? Date.parse(x509.validTo) : 0,
      lastRenewalAt: this.held?.meta.obtainedAt ?? 0,
      nextAttemptAt: this.running && !this.inFlight ? this.nextAt : 0,
      lastError: this.lastError,
      failures: this.failures,
    };
  }

  /** Set the timer for the next order. */
  private plan(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    const now = Date.now();
    const x509 = this.held?.x509;
    const held = x509 && { validFrom: Date.parse(x509.validFrom), validTo: Date.parse(x509.validTo), matches: this.matches(this.held!) };
    this.nextAt = nextAttemptAt(now, held, this.failures, this.lastFailureAt, this.deps.settings());
    const wait = this.nextAt - now;
    this.timer = setTimeout(() => (wait > MAX_TIMER_MS ? this.plan() : void this.attempt()), Math.min(wait, MAX_TIMER_MS));
    this.timer.unref();
  }

  /** Whether the certificate was ordered for the domains and authority configured now. */
  private matches(held: HeldAcmeCertificate): boolean {
    const { directoryUrl, domains } = this.deps.settings();
    const wanted = [...new Set(domains.map((d) => d.toLowerCase()))].sort();
    const had = [...new Set(held.meta.domains.map((d) => d.toLowerCase()))].sort();
    return held.meta.directoryUrl === directoryUrl && JSON.stringify(wanted) === JSON.stringify(had);
  }

  /** One order at a time; its outcome is recorded and the next one planned. */
  private attempt(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.timer) clearTimeout(this.timer);
    this.inFlight = this.order()
      .then(
        () => {
          this.failures = 0;
          this.lastError = '';
        },
        (error: Error) => {
          if (!this.running) return; // stopped meanwhile: nothing to record or retry
          this.failures += 1;
          this.lastFailureAt = Date.now();
          this.lastError = error.message || String(error);
          this.deps.log.warn(`ACME order failed (${this.failures} in a row): ${this.lastError}; the certificate in use stays`);
        },
      )
      .finally(() => {
        this.inFlight = undefined;
        this.plan();
      });
    return this.inFlight;
  }

  /** Account, order, HTTP-01 or TLS-ALPN-01 challenges, finalize, download; then store and serve the result. */
  private async order(): Promise<void> {
    const settings = this.deps.settings();
    const acme = await acmeClientLibrary();
    // The library loses the cause of a connection failure (it reports a TypeError): reach the directory first, for a clear error.
    await reachDirectory(settings.directoryUrl, await trustForDirectory(settings, this.deps.configDir));
    const accountKey = await this.files.accountKey(() => acme.crypto.createPrivateEcdsaKey('P-256'));
    const client = new acme.Client({ directoryUrl: settings.directoryUrl, accountKey, backoffAttempts: 10, backoffMin: 500, backoffMax: 10_000 });
    const [key, csr] = await acme.crypto.createCsr(
      { commonName: settings.domains[0], altNames: settings.domains },
      await acme.crypto.createPrivateEcdsaKey('P-256'),
    );
    this.deps.log.info(`ordering a certificate for ${settings.domains.join(' ')} from ${settings.directoryUrl}`);
    await findOrRegisterAccount(client, settings);
    const chain = await client.auto({
      csr,
      email: settings.email || undefined,
      termsOfServiceAgreed: settings.termsOfServiceAgreed,
      challengePriority: [settings.challenge],
      // The library's own check reaches this machine on port 80 or 443; the authority's check is the one that counts.
      skipChallengeVerification: true,
      ...this.challengeFns(acme, settings.challenge),
    });
    if (!this.running) throw new Error('ACME stopped while the order was in flight; its certificate is not used');
    const stored = await this.files.store(chain, key.toString(), {
      directoryUrl: settings.directoryUrl,
      domains: [...settings.domains],
      obtainedAt: Date.now(),
    });
    if (!stored.x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the certificate issued does not match the key it was ordered for');
    const previous = this.held;
    this.held = stored;
    try {
      await this.deps.install();
    } catch (error) {
      this.held = previous;
      throw error;
    }
    await this.files.removeOthers(stored.meta);
    this.deps.log.info(
      `ACME certificate installed: ${namesOf(stored.x509).join(' ')}, issuer ${stored.x509.issuer.replace(/\n/g, ', ')}, valid to ${stored.x509.validTo}`,
    );
  }

  /**
   * Publish and withdraw one authorization's challenge of the configured type: an HTTP-01
   * token, or a TLS-ALPN-01 certificate (the library's, on a fresh P-256 key) for its domain.
   * The library withdraws each one when its authorization is decided, whether or not the order succeeds.
   */
  private challengeFns(acme: AcmeLibrary, type: AcmeChallengeType): Pick<AutoOptions, 'challengeCreateFn' | 'challengeRemoveFn'> {
    const { challenges, alpnCertificates } = this.deps;
    return {
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type !== type) throw new Error(`the authority offered no ${type} challenge for ${authz.identifier.value} (only ${challenge.type})`);
        if (type === 'http-01') return challenges.add(challenge.token, keyAuthorization);
        const [key, cert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization, await acme.crypto.createPrivateEcdsaKey('P-256'));
        alpnCertificates.add(authz.identifier.value, { cert: cert.toString(), key: key.toString() });
      },
      challengeRemoveFn: async (authz, challenge) => {
        if (challenge.type === 'http-01') challenges.remove(challenge.token);
        else alpnCertificates.remove(authz.identifier.value);
      },
    };
  }
}

type AcmeLibrary = typeof import('acme-client');

/**
 * The account of this key, found or registered before the order (auto() then skips its own
 * step). The library's own step sends an account that exists the registration payload again as
 * an update, which an authority refuses when it has no contact address (pebble: "empty update"),
 * so without tls.acme.email every order after the first would fail. Finding the account first
 * (onlyReturnExisting) reads it with a POST-as-GET instead.
 */
async function findOrRegisterAccount(client: InstanceType<AcmeLibrary['Client']>, settings: TlsAcmeSettings): Promise<void> {
  try {
    await client.createAccount({ onlyReturnExisting: true });
    return;
  } catch {
    // No account for this key yet (accountDoesNotExist), or the authority failed: registering says which.
  }
  await client.createAccount({
    termsOfServiceAgreed: settings.termsOfServiceAgreed,
    ...(settings.email ? { contact: [`mailto:${settings.email}`] } : {}),
  });
}
type AutoOptions = Parameters<InstanceType<AcmeLibrary['Client']>['auto']>[0];

/** Extra trusted authorities per directory origin (tls.acme.caFile), as an https agent. */
const agentsByOrigin = new Map<string, https.Agent>();
let library: Promise<AcmeLibrary> | undefined;

/**
 * The acme-client library, loaded on first use and set up once: no HTTP retries of its own
 * (the manager's backoff is the retry policy, so a stopped authority fails an order in one
 * request), a timeout on every request, and the https agent for directories with a caFile.
 */
function acmeClientLibrary(): Promise<AcmeLibrary> {
  library ??= import('acme-client').then((acme) => {
    (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number } }).acmeSettings!.retryMaxAttempts = 0;
    acme.axios.interceptors.request.use((config) => {
      const origin = config.url ? new URL(config.url).origin : '';
      const agent = agentsByOrigin.get(origin);
      if (agent) config.httpsAgent = agent;
      config.timeout ||= ACME_REQUEST_TIMEOUT_MS;
      return config;
    });
    return acme;
  });
  return library;
}

/** Trust tls.acme.caFile (read again for each order) besides the system's roots for the directory's origin, or only the system's when unset. */
async function trustForDirectory(settings: TlsAcmeSettings, configDir: string): Promise<https.Agent | undefined> {
  const origin = new URL(settings.directoryUrl).origin;
  agentsByOrigin.get(origin)?.destroy();
  agentsByOrigin.delete(origin);
  if (!settings.caFile) return undefined;
  const caFile = path.resolve(configDir, settings.caFile);
  const extra = await readFile(caFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`tls.acme.caFile ${caFile}: ${error.code === 'ENOENT' ? 'no such file' : (error.code ?? error.message)}`);
  });
  const agent = new https.Agent({ ca: [...rootCertificates, extra], keepAlive: false });
  agentsByOrigin.set(origin, agent);
  return agent;
}

/** GET the directory once; throws naming the URL and the cause when it does not answer 200. */
function reachDirectory(directoryUrl: string, agent: https.Agent | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new Error(`the ACME directory ${directoryUrl} ${why}`));
    const req = https.get(directoryUrl, { agent, timeout: ACME_REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      if (res.statusCode === 200) resolve();
      else fail(`answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ACME_REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => fail(`cannot be reached: ${error.message}`));
  });
}
