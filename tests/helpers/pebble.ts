/**
 * A real ACME certificate authority for tests: Debian's `pebble` (Let's Encrypt's ACME test
 * server, RFC 8555) on loopback ports, with `pebble-challtestsrv` as its DNS server so every
 * test domain resolves to 127.0.0.1, its HTTP-01 checks sent to `httpPort` (the relay's
 * plain port) and its TLS-ALPN-01 checks to `tlsPort` (the relay's HTTPS port). Pebble
 * serves its directory over HTTPS with a certificate from a TestCa (the relay trusts it
 * through tls.acme.caFile), and issues certificates valid `validitySeconds` from a root it
 * generates on each start (fetched from its management API for the clients).
 * A suite skips with the printed reason when the package is missing (tests/run.mjs installs
 * it when run as root).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { freePort, missingTool } from './media.js';
import { waitFor } from './http.js';
import { TestCa, writePem } from './test-ca.js';

/** Why an ACME suite must skip, or false. */
export function missingPebble(): string | false {
  return missingTool('pebble', 'pebble') || missingTool('pebble-challtestsrv', 'pebble');
}

export interface PebbleOptions {
  /** Folder for pebble's config and its listener's certificate. */
  dir: string;
  /** Port pebble sends HTTP-01 checks to (the relay's plain port). */
  httpPort: number;
  /** Port pebble sends TLS-ALPN-01 checks to (the relay's HTTPS port); default: a free port nothing listens on. */
  tlsPort?: number;
  /** Lifetime of the certificates it issues, seconds. */
  validitySeconds: number;
}

/** GET over HTTPS trusting `ca`; the body as text. */
function httpsText(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export class Pebble {
  /** The directory URL the relay orders from. */
  directoryUrl = '';
  /** PEM file of the CA that signed pebble's own HTTPS certificate (for tls.acme.caFile). */
  caFile = '';
  /** Root and intermediate of the certificates issued by the running instance (new at each start). */
  root = '';
  intermediate = '';
  /** Everything both processes printed, for a failing test's message. */
  output = '';
  private pebble?: ChildProcess;
  private dns?: ChildProcess;
  private listenPort = 0;
  private managementPort = 0;
  private dnsPort = 0;
  private listenerCa?: TestCa;

  constructor(private readonly options: PebbleOptions) {}

  /** Start the DNS server (once) and pebble; resolves when the directory answers and the roots are fetched. */
  async start(): Promise<void> {
    const { dir, httpPort, tlsPort, validitySeconds } = this.options;
    if (!this.listenerCa) {
      this.listenerCa = await TestCa.create('Pebble listener test CA');
      const listener = await writePem(dir, 'pebble-listener', await this.listenerCa.issue(['localhost']));
      this.caFile = path.join(dir, 'pebble-listener-ca.pem');
      await writeFile(this.caFile, this.listenerCa.ca.cert);
      [this.listenPort, this.managementPort, this.dnsPort] = [await freePort(), await freePort(), await freePort()];
      const config = {
        pebble: {
          listenAddress: `127.0.0.1:${this.listenPort}`,
          managementListenAddress: `127.0.0.1:${this.managementPort}`,
          certificate: listener.certFile,
          privateKey: listener.keyFile,
          httpPort,
          tlsPort: tlsPort ?? (await freePort()),
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
          certificateValidityPeriod: validitySeconds,
        },
      };
      await writeFile(path.join(dir, 'pebble-config.json'), JSON.stringify(config));
      this.directoryUrl = `https://127.0.0.1:${this.listenPort}/dir`;
    }
    if (!this.dns || this.dns.exitCode !== null) {
      this.dns = this.spawnLogged('pebble-challtestsrv', [
        ...['-defaultIPv4', '127.0.0.1', '-defaultIPv6', '', '-dns01', `127.0.0.1:${this.dnsPort}`],
        ...['-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${await freePort()}`],
      ]);
    }
    this.pebble = this.spawnLogged('pebble', ['-config', path.join(dir, 'pebble-config.json'), '-dnsserver', `127.0.0.1:${this.dnsPort}`, '-strict=false'], {
      // No random sleeps before validating, no rejected nonces, and every order proves its domains again.
      PEBBLE_VA_NOSLEEP: '1',
      PEBBLE_WFE_NONCEREJECT: '0',
      PEBBLE_AUTHZREUSE: '0',
    });
    const ca = this.listenerCa!.ca.cert;
    await waitFor(
      async () => (await httpsText(this.directoryUrl, ca).catch(() => ({ status: 0 }))).status === 200,
      10_000,
      `pebble's directory (${this.output})`,
    );
    this.root = (await httpsText(`https://127.0.0.1:${this.managementPort}/roots/0`, ca)).body;
    this.intermediate = (await httpsText(`https://127.0.0.1:${this.managementPort}/intermediates/0`, ca)).body;
  }

  /** Stop pebble only (the authority becomes unreachable); `start` brings a new instance with new roots. */
  stopAuthority(): Promise<void> {
    return stopChild(this.pebble);
  }

  async stop(): Promise<void> {
    await Promise.all([stopChild(this.pebble), stopChild(this.dns)]);
  }

  private spawnLogged(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-8_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    return child;
  }
}
