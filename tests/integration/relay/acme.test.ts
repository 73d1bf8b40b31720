/**
 * Automatic certificates (tls.acme) against a real ACME server, Debian's pebble, whose HTTP-01
 * checks reach the relay's own plain port (pebble-challtestsrv resolves every test domain to
 * 127.0.0.1). Pebble issues certificates valid CERT_SECONDS, so the relay's own renewal (at a
 * third of the lifetime left) happens within the test. Clients trust only pebble's root.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { request, waitFor } from '../../helpers/http.js';
import { freePort } from '../../helpers/media.js';
import { TestOrigin, streamingHandler } from '../../helpers/origin.js';
import { missingPebble, Pebble } from '../../helpers/pebble.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const skip = missingPebble();
if (skip) console.log(`# skipping ACME suite: ${skip}`);

/** Lifetime of pebble's certificates here: the relay renews each at 2/3 of it, leaving 8 s for the order (usually 1-4 s). */
const CERT_SECONDS = 24;
const DOMAINS = ['relay.test', 'live.relay.test'];

/** The certificate a verified TLS handshake for `servername` gets (fingerprint and issuer CN). */
function served(port: number, ca: string, servername = DOMAINS[0]): Promise<{ fingerprint256: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername }, () => {
      const peer = socket.getPeerCertificate();
      resolve({ fingerprint256: peer.fingerprint256, issuer: String(peer.issuer.CN) });
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('ACME certificates from pebble', { skip }, () => {
  const origin = new TestOrigin();
  let dir: string;
  let configPath: string;
  let pebble: Pebble;
  let relay: StartedRelay;
  let plainPort: number;
  let config: Record<string, unknown>;

  const tlsStatus = async () => (await relay.api.call('GET', '/api/tls')).body;
  const tlsPort = async () => Number(new URL((await tlsStatus()).url).port);

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-acme-'));
    configPath = path.join(dir, 'config.json');
    await writeFile(configPath, '{}');
    plainPort = await freePort();
    pebble = new Pebble({ dir, httpPort: plainPort, validitySeconds: CERT_SECONDS });
    await pebble.start();
    const originUrl = await origin.start();
    origin.handler = streamingHandler(Buffer.alloc(4_000, 9), 20);
    config = {
      relay: { port: plainPort },
      tls: {
        enabled: true,
        port: 0,
        reloadCheckMs: 200,
        // The challenge must be answered before the redirect: pebble would not follow it to another port.
        redirectPlain: true,
        acme: {
          enabled: true,
          directoryUrl: pebble.directoryUrl,
          caFile: pebble.caFile,
          // No contact address (the default): renewals reuse the account all the same (acme-tls-alpn.test.ts sets one).
          domains: DOMAINS,
          termsOfServiceAgreed: true,
          retryMinMs: 300,
          retryMaxMs: 1_500,
        },
      },
      nodes: [{ id: 'n', url: originUrl }],
      routes: [{ id: 'live', path: '/live/', kind: 'file', mode: 'proxy' }],
    };
    relay = await startRelay(config, configPath);
  });
  after(async () => {
    await relay?.stop();
    await pebble?.stop();
    await origin.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('obtains a certificate from pebble on the first start and serves it to clients that trust pebble', async () => {
    const status = await waitFor(
      async () => {
        const body = await tlsStatus();
        return body.acme.status === 'valid' ? body : undefined;
      },
      20_000,
      `the first certificate (${pebble.output.slice(-500)})`,
    );
    const { acme } = status;
    assert.equal(acme.enabled, true);
    assert.deepEqual(acme.domains, DOMAINS);
    assert.match(acme.issuer, /^CN=Pebble Intermediate CA [0-9a-f]+$/);
    assert.equal(acme.lastError, '');
    assert.ok(acme.lastRenewalAt > 0 && acme.lastRenewalAt <= Date.now());
    const lifetime = CERT_SECONDS * 1_000;
    assert.ok(acme.validTo > Date.now() && acme.validTo <= acme.lastRenewalAt + lifetime + 1_000, 'a short-lived certificate');
    assert.ok(
      acme.nextAttemptAt >= acme.validTo - lifetime / 3 - 1_500 && acme.nextAttemptAt < acme.validTo,
      'renewal planned at a third of the lifetime left',
    );
    const [first] = status.certificates;
    assert.equal(first.acme, true);
    assert.equal(first.default, true);
    assert.deepEqual(first.names, DOMAINS);
    assert.equal(status.certificates.length, 1, 'the interim self-signed certificate is no longer served');
    const port = await tlsPort();
    for (const name of DOMAINS) {
      const peer = await served(port, pebble.root, name);
      assert.equal(peer.fingerprint256, first.fingerprint256, name);
      assert.match(peer.issuer, /^Pebble Intermediate CA/);
    }
    // Keys are private; the account key is kept for the next orders.
    const acmeDir = path.join(dir, 'tls', 'acme');
    assert.equal((await stat(first.keyFile)).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(acmeDir, 'account-key.pem'))).mode & 0o777, 0o600);
    assert.equal(path.dirname(first.certFile), acmeDir);
  });

  it('the challenge path answers only tokens of an order in flight: anything else is 404, never a route or a redirect', async () => {
    for (const token of ['unknown-token', 'a'.repeat(300), '..%2F..%2Fconfig.json', '']) {
      const answer = await request(`http://127.0.0.1:${plainPort}/.well-known/acme-challenge/${token}`, { headers: { host: 'relay.test' } });
      assert.equal(answer.status, 404, token);
      assert.equal(JSON.parse(answer.body.toString()).error.code, 'NOT_FOUND');
    }
    const post = await request(`http://127.0.0.1:${plainPort}/.well-known/acme-challenge/x`, {
      method: 'POST',
      headers: { host: 'relay.test', 'content-length': '0' },
    });
    assert.equal(post.status, 405);
    assert.equal(
      (await request(`http://127.0.0.1:${plainPort}/live/a.flv`, { headers: { host: 'relay.test' } })).status,
      308,
      'other plain requests are redirected',
    );
  });

  it('renews on its own before the end: new connections get the new certificate, a stream opened before keeps flowing', async () => {
    const before = await tlsStatus();
    const port = await tlsPort();
    let streamed = 0;
    let streamError: Error | undefined;
    const stream = https.get(`https://127.0.0.1:${port}/live/cam.flv`, { ca: pebble.root, servername: DOMAINS[0], agent: false }, (res) => {
      res.on('data', (c: Buffer) => (streamed += c.length));
    });
    stream.on('error', (error) => (streamError = error));
    try {
      await waitFor(() => streamed > 8_000, 5_000, 'the stream to flow');
      const renewed = await waitFor(
        async () => {
          const body = await tlsStatus();
          // Done: the new certificate is served and the order has ended.
          const done = body.acme.status === 'valid' && body.acme.lastRenewalAt > before.acme.lastRenewalAt;
          return done && body.certificates[0].fingerprint256 !== before.certificates[0].fingerprint256 ? body : undefined;
        },
        CERT_SECONDS * 1_000,
        'the automatic renewal',
      );
      assert.equal(renewed.acme.failures, 0);
      await waitFor(
        async () => (await served(port, pebble.root)).fingerprint256 === renewed.certificates[0].fingerprint256,
        5_000,
        'new connections to get it',
      );
      const at = streamed;
      await waitFor(() => streamed > at + 8_000, 5_000, 'the stream opened before the renewal to keep flowing');
      assert.equal(streamError, undefined);
      // "Renew now" orders at once.
      const now = await relay.api.call('POST', '/api/tls/renew');
      assert.equal(now.status, 200);
      assert.equal(now.body.acme.status, 'valid');
      assert.ok(now.body.acme.lastRenewalAt > renewed.acme.lastRenewalAt);
      assert.notEqual(now.body.certificates[0].fingerprint256, renewed.certificates[0].fingerprint256);
      assert.equal((await served(port, pebble.root)).fingerprint256, now.body.certificates[0].fingerprint256);
      const still = streamed;
      await waitFor(() => streamed > still + 8_000, 5_000, 'the stream to keep flowing across a second renewal');
      assert.equal(streamError, undefined);
    } finally {
      stream.destroy();
    }
  });

  it('an unreachable authority is a recorded failure with a next attempt; the certificate in use is still served, and the next success clears it', async () => {
    const port = await tlsPort();
    const renewed = (await relay.api.call('POST', '/api/tls/renew')).body;
    await pebble.stopAuthority();
    const failed = (await relay.api.call('POST', '/api/tls/renew')).body;
    assert.equal(failed.acme.status, 'retrying');
    assert.match(failed.acme.lastError, /ECONNREFUSED|connect/);
    assert.ok(failed.acme.failures >= 1);
    assert.ok(failed.acme.nextAttemptAt > Date.now() - 100, 'a next attempt is planned');
    assert.equal(failed.certificates[0].fingerprint256, renewed.certificates[0].fingerprint256, 'the certificate in use stays');
    assert.equal((await served(port, pebble.root)).fingerprint256, renewed.certificates[0].fingerprint256, 'and is served');
    assert.equal((await request(`${relay.relayUrl}/healthz`)).status, 200);
    // The retries back off (300 ms, 600 ms, 1.2 s, then 1.5 s) and keep failing while pebble is down.
    const later = await waitFor(
      async () => {
        const body = await tlsStatus();
        return body.acme.failures >= 3 ? body : undefined;
      },
      5_000,
      'retries with backoff',
    );
    assert.equal(later.certificates[0].fingerprint256, renewed.certificates[0].fingerprint256);
    // The authority comes back (a new pebble instance, with a new root): the next retry succeeds and the error is cleared.
    await pebble.start();
    const recovered = await waitFor(
      async () => {
        const body = await tlsStatus();
        return body.acme.status === 'valid' && body.acme.failures === 0 ? body : undefined;
      },
      10_000,
      'a retry to succeed',
    );
    assert.equal(recovered.acme.lastError, '');
    assert.equal((await served(port, pebble.root)).fingerprint256, recovered.certificates[0].fingerprint256);
  });

  it('a restart serves the certificate kept from the previous run from its first connection', async () => {
    const kept = await tlsStatus();
    await relay.stop();
    relay = await startRelay(config, configPath);
    const status = await tlsStatus();
    assert.equal(status.certificates[0].acme, true);
    assert.equal(status.acme.lastRenewalAt, kept.acme.lastRenewalAt);
    const certFile = status.certificates[0].certFile;
    assert.ok((await readFile(certFile, 'utf8')).includes('BEGIN CERTIFICATE'));
    assert.equal((await served(await tlsPort(), pebble.root)).fingerprint256, status.certificates[0].fingerprint256);
  });

  it('settings apply live: other domains are ordered at once; ACME off drops its certificate for the self-signed one', async () => {
    const acme = (config.tls as { acme: Record<string, unknown> }).acme;
    const domains = ['relay.test', 'cams.relay.test'];
    const changed = await relay.api.call('PATCH', '/api/settings', { tls: { acme: { ...acme, domains } } });
    assert.equal(changed.status, 200);
    const reordered = await waitFor(
      async () => {
        const body = await tlsStatus();
        return body.acme.status === 'valid' && JSON.stringify(body.certificates[0].names) === JSON.stringify(domains) ? body : undefined;
      },
      10_000,
      'a certificate for the new domains',
    );
    assert.equal((await served(await tlsPort(), pebble.root, 'cams.relay.test')).fingerprint256, reordered.certificates[0].fingerprint256);
    const refused = await relay.api.call('PATCH', '/api/settings', { tls: { acme: { ...acme, termsOfServiceAgreed: false } } });
    assert.equal(refused.status, 400);
    assert.match(refused.body.error.message, /tls\.acme\.termsOfServiceAgreed: must be true when ACME is enabled/);
    await relay.api.call('PATCH', '/api/settings', { tls: { acme: { ...acme, enabled: false } } });
    const off = await waitFor(
      async () => {
        const body = await tlsStatus();
        return body.acme.status === 'off' && body.certificates[0]?.selfSigned ? body : undefined;
      },
      5_000,
      'the self-signed certificate to be served again',
    );
    assert.equal(
      off.certificates.some((c: { acme: boolean }) => c.acme),
      false,
    );
    assert.equal((await relay.api.call('POST', '/api/tls/renew')).status, 409, '"renew now" with ACME off');
  });
});
