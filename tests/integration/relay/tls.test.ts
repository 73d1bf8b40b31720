/**
 * HTTPS on the relay (tls section), through real TLS clients that trust only a test CA (or
 * the relay's own self-signed certificate, by its file): the same routes over both
 * listeners, certificates chosen by SNI, files replaced mid-stream (the open stream keeps
 * going, new connections get the new certificate, a broken file is reported and the old
 * certificate kept), modern protocol floors, the plain-to-HTTPS redirect, and hostile
 * handshakes that must not hold the listener.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Engine } from '../../../electron/engine/engine.js';
import { TestOrigin, streamingHandler } from '../../helpers/origin.js';
import { request, waitFor } from '../../helpers/http.js';
import { startRelay, testConfig, type StartedRelay } from '../../helpers/relay.js';
import { TestCa, writePem, type Pem } from '../../helpers/test-ca.js';

interface TlsAnswer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  fingerprint256: string;
  protocol: string;
}

/** One HTTPS GET on a new connection, trusting `ca` only. */
function httpsGet(url: string, ca: string, servername?: string): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, servername, agent: false }, (res) => {
      const socket = res.socket as tls.TLSSocket;
      const fingerprint256 = socket.getPeerCertificate().fingerprint256;
      const protocol = socket.getProtocol() ?? '';
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), fingerprint256, protocol }));
    });
    req.on('error', reject);
  });
}

/** The certificate a TLS handshake gets for `servername` (no HTTP). */
function peerCertificate(port: number, ca: string, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername, checkServerIdentity: () => undefined }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const portOfUrl = (url: string) => Number(new URL(url).port);
/** A node nothing is asked of: a config with a node is not a first run (no demo node). */
const NO_NODE = { id: 'n', url: 'http://127.0.0.1:9' };

describe('HTTPS listener', () => {
  const origin = new TestOrigin();
  let dir: string;
  let ca: TestCa;
  let certA: Pem;
  let certB: Pem;
  let relay: StartedRelay;
  let tlsUrl: string;
  let originUrl: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-tls-'));
    ca = await TestCa.create();
    certA = await ca.issue(['a.test', 'localhost']);
    certB = await ca.issue(['b.test', '*.cams.test']);
    const a = await writePem(dir, 'a', certA);
    const b = await writePem(dir, 'b', certB);
    const url = await origin.start();
    originUrl = url;
    origin.handler = (req, res) => {
      if (req.url?.startsWith('/live/')) return streamingHandler(Buffer.alloc(4_000, 7), 20)(req, res);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`file ${req.url}`);
    };
    await writeFile(path.join(dir, 'config.json'), '{}');
    relay = await startRelay(
      {
        relay: { headerReadTimeoutMs: 500 },
        tls: { enabled: true, port: 0, certificates: [a, b], reloadCheckMs: 100, handshakeTimeoutMs: 400 },
        nodes: [{ id: 'n', url }],
        routes: [
          { id: 'files', path: '/files/', kind: 'file', mode: 'proxy' },
          { id: 'live', path: '/live/', kind: 'file', mode: 'proxy' },
          { id: 'r', path: '/r/', kind: 'file', mode: 'redirect' },
        ],
      },
      path.join(dir, 'config.json'),
    );
    tlsUrl = (await relay.api.call('GET', '/api/tls')).body.url;
  });
  after(async () => {
    await relay?.stop();
    await origin.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the same routes over HTTPS as over plain HTTP, with a certificate the client verifies', async () => {
    assert.match(tlsUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    const secure = await httpsGet(`${tlsUrl}/files/a.txt`, ca.ca.cert, 'a.test');
    const plain = await request(`${relay.relayUrl}/files/a.txt`);
    assert.equal(secure.status, 200);
    assert.equal(secure.body.toString(), plain.body.toString());
    assert.equal(secure.fingerprint256, certA.fingerprint256);
    const redirect = await httpsGet(`${tlsUrl}/r/x.ts`, ca.ca.cert, 'a.test');
    assert.equal(redirect.status, 302);
    assert.ok(String(redirect.headers.location).startsWith(`${originUrl}/r/x.ts`), String(redirect.headers.location));
    const { body: sessions } = await relay.api.call('GET', '/api/stats');
    assert.ok(sessions.routes.files.requests >= 2, 'both listeners count in the same stats');
  });

  it('picks the certificate by SNI: exact names, wildcards, and the first one for anything else', async () => {
    const port = portOfUrl(tlsUrl);
    assert.equal(await peerCertificate(port, ca.ca.cert, 'a.test'), certA.fingerprint256);
    assert.equal(await peerCertificate(port, ca.ca.cert, 'b.test'), certB.fingerprint256);
    assert.equal(await peerCertificate(port, ca.ca.cert, 'north.cams.test'), certB.fingerprint256);
    assert.equal(await peerCertificate(port, ca.ca.cert, 'unknown.example'), certA.fingerprint256);
    assert.equal(await peerCertificate(port, ca.ca.cert), certA.fingerprint256, 'no SNI (an IP address): the first');
  });

  it('shows each certificate in the API: names, issuer, validity, fingerprint, which is the default', async () => {
    const { status, body } = await relay.api.call('GET', '/api/tls');
    assert.equal(status, 200);
    assert.equal(body.enabled, true);
    assert.equal(body.minVersion, 'TLSv1.2');
    assert.equal(body.certificates.length, 2);
    const [a, b] = body.certificates;
    assert.deepEqual(a.names, ['a.test', 'localhost']);
    assert.deepEqual(b.names, ['b.test', '*.cams.test']);
    assert.equal(a.default, true);
    assert.equal(b.default, false);
    assert.equal(a.issuer, 'CN=RelayDeck Test CA');
    assert.equal(a.fingerprint256, certA.fingerprint256);
    assert.equal(a.selfSigned, false);
    assert.ok(a.validTo > Date.now() + 20 * 86_400_000 && a.validFrom < Date.now());
    assert.deepEqual(a.addresses, ['127.0.0.1']);
  });

  it('refuses TLS 1.1 and TLS 1.2 without forward-secret AEAD ciphers', async () => {
    const port = portOfUrl(tlsUrl);
    const attempt = (options: tls.ConnectionOptions) =>
      new Promise<string>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.ca.cert, servername: 'a.test', ...options }, () => {
          resolve(`connected ${socket.getProtocol()} ${socket.getCipher().name}`);
          socket.end();
        });
        socket.on('error', (error: NodeJS.ErrnoException) => resolve(`refused ${error.code}`));
      });
    assert.match(await attempt({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }), /^refused/);
    assert.match(await attempt({ maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA:AES128-GCM-SHA256' }), /^refused/);
    assert.match(await attempt({ maxVersion: 'TLSv1.2' }), /^connected TLSv1\.2 ECDHE-ECDSA-AES(128|256)-GCM-SHA(256|384)$/);
    assert.match(await attempt({}), /^connected TLSv1\.3 /);
  });

  it('a handshake that never finishes, and garbage instead of a ClientHello, are closed; other viewers are served meanwhile', async () => {
    const port = portOfUrl(tlsUrl);
    const closedWithin = (send?: Buffer) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = net.connect(port, '127.0.0.1', () => send && socket.write(send));
        socket.on('error', () => {});
        socket.on('close', () => resolve(Date.now() - started));
      });
    const silent = Array.from({ length: 50 }, () => closedWithin());
    const garbage = closedWithin(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const served = await httpsGet(`${tlsUrl}/files/b.txt`, ca.ca.cert, 'a.test');
    assert.equal(served.status, 200, 'served while 50 silent handshakes wait');
    assert.ok((await garbage) < 400, 'garbage is closed at once');
    const waits = await Promise.all(silent);
    assert.ok(
      waits.every((ms) => ms >= 300 && ms < 3_000),
      `silent handshakes closed at tls.handshakeTimeoutMs (400 ms): ${Math.min(...waits)}..${Math.max(...waits)} ms`,
    );
  });

  it('slowloris over TLS: a request head that never ends is answered 408 at relay.headerReadTimeoutMs, as on the plain port', async () => {
    const answer = await new Promise<{ text: string; ms: number }>((resolve, reject) => {
      const started = Date.now();
      let text = '';
      const socket = tls.connect({ host: '127.0.0.1', port: portOfUrl(tlsUrl), ca: ca.ca.cert, servername: 'a.test' }, () =>
        socket.write('GET /files/slow.txt HTTP/1.1\r\nHost: a.test\r\nX-Slow: 1\r\n'),
      );
      socket.on('data', (c: Buffer) => (text += c.toString()));
      socket.on('close', () => resolve({ text, ms: Date.now() - started }));
      socket.on('error', reject);
    });
    assert.match(answer.text, /^HTTP\/1\.1 408 /);
    assert.ok(answer.ms >= 400 && answer.ms < 3_000, `closed after ${answer.ms} ms`);
  });

  it('replaced files: the open stream keeps flowing, new connections get the new certificate; a broken file keeps the old one', async () => {
    let streamed = 0;
    let streamError: Error | undefined;
    const stream = https.get(`${tlsUrl}/live/cam.flv`, { ca: ca.ca.cert, servername: 'a.test', agent: false }, (res) => {
      res.on('data', (c: Buffer) => (streamed += c.length));
    });
    stream.on('error', (error) => (streamError = error));
    await waitFor(() => streamed > 8_000, 5_000, 'the stream to flow');

    const renewed = await ca.issue(['a.test', 'localhost']);
    await writePem(dir, 'a', renewed);
    const port = portOfUrl(tlsUrl);
    await waitFor(
      async () => (await peerCertificate(port, ca.ca.cert, 'a.test')) === renewed.fingerprint256,
      5_000,
      'new connections to get the new certificate',
    );
    const before = streamed;
    await waitFor(() => streamed > before + 8_000, 5_000, 'the stream opened before the change to keep flowing');
    assert.equal(streamError, undefined);

    // A half-written renewal: the certificate in use stays, the error is shown.
    await writeFile(path.join(dir, 'a-cert.pem'), '-----BEGIN CERTIFICATE-----\ngarbage\n');
    const status = await waitFor(
      async () => {
        const { body } = await relay.api.call('GET', '/api/tls');
        return body.certificates[0].errors.length > 0 ? body : undefined;
      },
      5_000,
      'the broken file to be reported',
    );
    assert.match(status.certificates[0].errors[0], /^tls\.certificates\[0\]: certFile .*a-cert\.pem: not a PEM certificate/);
    assert.equal(status.certificates[0].fingerprint256, renewed.fingerprint256);
    assert.equal(await peerCertificate(port, ca.ca.cert, 'a.test'), renewed.fingerprint256, 'still served');
    const still = streamed;
    await waitFor(() => streamed > still + 4_000, 5_000, 'the stream to keep flowing');
    stream.destroy();

    await writePem(dir, 'a', certA);
    const reloaded = (await relay.api.call('POST', '/api/tls/reload')).body;
    assert.equal(reloaded.certificates[0].fingerprint256, certA.fingerprint256, 'reload now');
    assert.deepEqual(reloaded.certificates[0].errors, []);
  });

  it('settings: enabling or moving the listener waits for a restart; certificates apply live', async () => {
    const moved = await relay.api.call('PATCH', '/api/settings', { tls: { port: 1 } });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.restartNeeded, true);
    await relay.api.call('PATCH', '/api/settings', { tls: { port: 0 } });
    const bad = await relay.api.call('PATCH', '/api/settings', { tls: { minVersion: 'SSLv3' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /body\.tls\.minVersion/);
    // A file that does not load is refused before anything is saved, naming it; the served certificates stay.
    const missing = await relay.api.call('PATCH', '/api/settings', {
      tls: { certificates: [{ certFile: path.join(dir, 'gone.pem'), keyFile: path.join(dir, 'a-key.pem') }] },
    });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /^tls\.certificates\[0\]: certFile .*gone\.pem: no such file/);
    assert.equal((await relay.api.call('GET', '/api/settings')).body.tls.certificates.length, 2);
    assert.equal(await peerCertificate(portOfUrl(tlsUrl), ca.ca.cert, 'b.test'), certB.fingerprint256);
    const b = { certFile: path.join(dir, 'b-cert.pem'), keyFile: path.join(dir, 'b-key.pem') };
    const swapped = await relay.api.call('PATCH', '/api/settings', { tls: { certificates: [b] } });
    assert.equal(swapped.status, 200);
    await waitFor(async () => (await peerCertificate(portOfUrl(tlsUrl), ca.ca.cert)) === certB.fingerprint256, 5_000, 'the new list to be served');
    await relay.api.call('PATCH', '/api/settings', {
      tls: { certificates: [{ certFile: path.join(dir, 'a-cert.pem'), keyFile: path.join(dir, 'a-key.pem') }, b] },
    });
  });
});

describe('HTTPS listener: first run, redirects and bad certificates', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-tls-first-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a first run with no certificate generates a self-signed one beside the config (key 0600) and shows its fingerprint', async () => {
    const configPath = path.join(dir, 'config.json');
    await writeFile(configPath, '{}');
    const relay = await startRelay({ tls: { enabled: true, port: 0 }, nodes: [NO_NODE] }, configPath);
    try {
      const { body } = await relay.api.call('GET', '/api/tls');
      const [cert] = body.certificates;
      assert.equal(cert.selfSigned, true);
      assert.equal(cert.certFile, path.join(dir, 'tls', 'self-signed-cert.pem'));
      assert.ok(cert.names.includes('localhost'));
      assert.deepEqual(cert.addresses.sort(), ['0:0:0:0:0:0:0:1', '127.0.0.1'].sort());
      const pem = await readFile(cert.certFile, 'utf8');
      assert.equal(new X509Certificate(pem).fingerprint256, cert.fingerprint256);
      assert.equal((await stat(cert.keyFile)).mode & 0o777, 0o600, 'the key is private');
      // A client that trusts exactly this certificate reaches the relay (its health probe).
      const answer = await httpsGet(`${body.url}/healthz`, pem, 'localhost');
      assert.equal(answer.status, 200);
      assert.equal(answer.fingerprint256, cert.fingerprint256);
    } finally {
      await relay.stop();
    }
    // The next start keeps the same certificate.
    const again = await startRelay({ tls: { enabled: true, port: 0 }, nodes: [NO_NODE] }, configPath);
    try {
      const { body } = await again.api.call('GET', '/api/tls');
      assert.equal(
        body.certificates[0].fingerprint256,
        new X509Certificate(await readFile(path.join(dir, 'tls', 'self-signed-cert.pem'), 'utf8')).fingerprint256,
      );
    } finally {
      await again.stop();
    }
  });

  it('redirectPlain: plain requests get a 308 to HTTPS, except ACME challenges and health probes', async () => {
    const relay = await startRelay(
      { relay: { publicUrl: '' }, tls: { enabled: true, port: 0, redirectPlain: true }, routes: [{ id: 'f', path: '/f/', kind: 'file', mode: 'redirect' }] },
      path.join(dir, 'config.json'),
    );
    try {
      const { body } = await relay.api.call('GET', '/api/tls');
      const tlsPort = portOfUrl(body.url);
      const moved = await request(`${relay.relayUrl}/f/x.ts?a=1`, { headers: { host: 'live.example.com:8090' } });
      assert.equal(moved.status, 308);
      assert.equal(moved.headers.location, `https://live.example.com:${tlsPort}/f/x.ts?a=1`);
      const challenge = await request(`${relay.relayUrl}/.well-known/acme-challenge/token123`);
      assert.notEqual(challenge.status, 308, 'an ACME challenge is not redirected');
      assert.equal((await request(`${relay.relayUrl}/healthz`)).status, 200);
      const hostile = await request(`${relay.relayUrl}/f/x.ts`, { headers: { host: 'evil.example/path?' } });
      assert.equal(hostile.status, 400);
      assert.equal(JSON.parse(hostile.body.toString()).error.code, 'BAD_REQUEST');
    } finally {
      await relay.stop();
    }
  });

  it('a configured certificate that does not load stops the start with an error naming it', async () => {
    const ca = await TestCa.create();
    const one = await writePem(dir, 'one', await ca.issue(['one.test']));
    const two = await writePem(dir, 'two', await ca.issue(['two.test']));
    const mismatched = { certFile: one.certFile, keyFile: two.keyFile };
    await assert.rejects(
      Engine.start({ config: testConfig({ tls: { enabled: true, port: 0, certificates: [one, mismatched] } }) }),
      /tls\.certificates\[1\]: keyFile .*two-key\.pem: the key does not belong to the certificate/,
    );
    await assert.rejects(
      Engine.start({ config: testConfig({ tls: { enabled: true, port: 0, certificates: [{ certFile: path.join(dir, 'none.pem'), keyFile: one.keyFile }] } }) }),
      /tls\.certificates\[0\]: certFile .*none\.pem: no such file/,
    );
    await assert.rejects(
      Engine.start({ config: testConfig({ tls: { enabled: true, port: 0, selfSigned: false } }) }),
      /tls\.certificates: HTTPS is enabled with no certificate and tls\.selfSigned is false/,
    );
  });
});
