/**
 * Automatic certificates proved by TLS-ALPN-01 (tls.acme.challenge "tls-alpn-01", RFC 8737)
 * against a real ACME server, Debian's pebble: its TLS-ALPN-01 checks reach the relay's HTTPS
 * port, and its HTTP-01 checks go to a port nothing listens on, so only TLS-ALPN-01 can prove
 * a domain. Meanwhile ordinary clients of that port keep their certificate and protocol, and
 * a connection that negotiated "acme-tls/1" never reaches HTTP. Pebble reaches the relay
 * through a TCP forwarder that can hold its connection, so a test can act while a challenge
 * is surely in flight. Run with the HTTPS listener offering HTTP/2 (http2 server) and
 * without it (https server).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../helpers/http.js';
import { freePort } from '../../helpers/media.js';
import { missingPebble, Pebble } from '../../helpers/pebble.js';
import { startRelay, type StartedRelay } from '../../helpers/relay.js';

const skip = missingPebble();
if (skip) console.log(`# skipping ACME TLS-ALPN-01 suite: ${skip}`);

const DOMAINS = ['relay.test', 'live.relay.test'];
/** DER of the OID id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31): only a challenge certificate carries it. */
const ACME_IDENTIFIER_OID = Buffer.from([0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f]);

interface Handshake {
  /** The ALPN protocol chosen, false for none; undefined when the handshake failed. */
  alpn?: string | false;
  /** Whether the certificate served is a TLS-ALPN-01 challenge certificate. */
  challenge?: boolean;
  fingerprint256?: string;
  /** What the server sent after the handshake, in reply to an HTTP/1.1 request. */
  reply?: string;
  error?: string;
}

/**
 * One TLS handshake with the relay offering `protocols` for `servername`, then an HTTP/1.1
 * request on it; resolves once the server closes (or after a second).
 */
function handshake(port: number, servername: string, protocols: string[] | undefined, ca?: string): Promise<Handshake> {
  return new Promise((resolve) => {
    const result: Handshake = {};
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ALPNProtocols: protocols, ca, rejectUnauthorized: ca !== undefined }, () => {
      const peer = socket.getPeerX509Certificate();
      result.alpn = socket.alpnProtocol ?? false; // null: no ALPN on a server socket only
      result.challenge = peer ? peer.raw.includes(ACME_IDENTIFIER_OID) : false;
      result.fingerprint256 = peer?.fingerprint256;
      result.reply = '';
      if (socket.alpnProtocol === 'h2') return socket.end();
      socket.write(`GET /healthz HTTP/1.1\r\nhost: ${servername}\r\nconnection: close\r\n\r\n`);
    });
    const timer = setTimeout(() => socket.destroy(), 1_000);
    socket.on('data', (chunk: Buffer) => (result.reply += chunk.toString('latin1')));
    socket.on('error', (error) => (result.error ??= error.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(result);
    });
  });
}

/**
 * A TCP forwarder to `port`: each connection waits for `beforeForward` (when set, then cleared)
 * before its bytes go through; counts the connections. Either side closing closes the other,
 * and close() cuts what is still open: a paused or half-closed socket keeps no event loop
 * alive, so waiting for pebble to hang up could leave the test hanging on nothing.
 */
class HoldingForwarder {
  connections = 0;
  beforeForward: (() => Promise<void>) | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly server = net.createServer((client) => void this.forward(client));

  constructor(private readonly port: number) {}

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    return closed;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private async forward(client: net.Socket): Promise<void> {
    this.connections += 1;
    this.track(client);
    client.pause();
    client.on('error', () => client.destroy());
    const hook = this.beforeForward;
    this.beforeForward = undefined;
    await hook?.();
    if (client.destroyed) return;
    const upstream = net.connect(this.port, '127.0.0.1');
    this.track(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
    client.resume();
  }
}

for (const http2 of [true, false]) {
  describe(`ACME certificates by TLS-ALPN-01 from pebble (tls.http2 ${http2})`, { skip }, () => {
    let dir: string;
    let pebble: Pebble;
    let relay: StartedRelay;
    let tlsPort: number;
    let forwarder: HoldingForwarder;
    const ordinary = http2 ? 'h2' : 'http/1.1';

    const tlsStatus = async () => (await relay.api.call('GET', '/api/tls')).body;

    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-acme-alpn-'));
      const configPath = path.join(dir, 'config.json');
      await writeFile(configPath, '{}');
      tlsPort = await freePort();
      forwarder = new HoldingForwarder(tlsPort);
      // TLS-ALPN-01 checks reach the HTTPS port (through the forwarder); HTTP-01 checks a port nothing listens on.
      pebble = new Pebble({ dir, httpPort: await freePort(), tlsPort: await forwarder.listen(), validitySeconds: 3_600 });
      await pebble.start();
      relay = await startRelay(
        {
          tls: {
            enabled: true,
            port: tlsPort,
            http2,
            reloadCheckMs: 200,
            acme: {
              enabled: true,
              challenge: 'tls-alpn-01',
              directoryUrl: pebble.directoryUrl,
              caFile: pebble.caFile,
              email: 'ops@relay.test',
              domains: DOMAINS,
              termsOfServiceAgreed: true,
              retryMinMs: 300,
              retryMaxMs: 1_500,
            },
          },
        },
        configPath,
      );
    });
    after(async () => {
      await relay?.stop();
      await pebble?.stop();
      await forwarder?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('obtains the certificate with TLS-ALPN-01 alone, answered by the HTTPS listener', async () => {
      const status = await waitFor(
        async () => {
          const body = await tlsStatus();
          return body.acme.status === 'valid' ? body : undefined;
        },
        20_000,
        'the first certificate by TLS-ALPN-01',
      );
      assert.equal(status.acme.failures, 0);
      assert.ok(forwarder.connections >= DOMAINS.length, 'pebble checked each domain on the HTTPS port');
      assert.match(status.acme.issuer, /^CN=Pebble Intermediate CA [0-9a-f]+$/);
      const [first] = status.certificates;
      assert.equal(first.acme, true);
      assert.deepEqual(first.names, DOMAINS);
      for (const name of DOMAINS) {
        const peer = await handshake(tlsPort, name, [ordinary], pebble.root);
        assert.equal(peer.error, undefined, name);
        assert.equal(peer.fingerprint256, first.fingerprint256, name);
        assert.equal(peer.challenge, false);
        assert.equal(peer.alpn, ordinary);
      }
    });

    it('during a challenge, ordinary clients of the same name get the usual certificate and protocol; the challenge connection gets no HTTP', async () => {
      const before = await tlsStatus();
      let seen: { during: Handshake; usual: Handshake[] } | undefined;
      // Pebble's check is held until these ran: the challenge certificate is surely held meanwhile.
      forwarder.beforeForward = async () => {
        for (const name of DOMAINS) {
          const during = await handshake(tlsPort, name, ['acme-tls/1']);
          if (!during.challenge) continue; // this domain's challenge has not started yet
          const usual = await Promise.all([
            handshake(tlsPort, name, ['h2', 'http/1.1'], pebble.root),
            handshake(tlsPort, name, ['http/1.1'], pebble.root),
            handshake(tlsPort, name, undefined, pebble.root),
          ]);
          seen = { during, usual };
          return;
        }
      };
      const renewed = await relay.api.call('POST', '/api/tls/renew');
      assert.equal(renewed.status, 200);
      assert.equal(renewed.body.acme.failures, 0, `the order succeeded after the checks (${renewed.body.acme.lastError})`);
      assert.ok(renewed.body.acme.lastRenewalAt > before.acme.lastRenewalAt);
      assert.ok(seen, 'a challenge certificate was served while pebble was held');
      assert.equal(seen.during.alpn, 'acme-tls/1');
      assert.equal(seen.during.reply, '', 'the challenge connection is closed without an HTTP answer');
      const [both, http1, none] = seen.usual;
      for (const peer of seen.usual) {
        assert.equal(peer.error, undefined);
        assert.equal(peer.challenge, false);
        assert.equal(peer.fingerprint256, before.certificates[0].fingerprint256, 'the certificate in use, verified against pebble');
      }
      assert.equal(both.alpn, ordinary);
      assert.equal(http1.alpn, 'http/1.1');
      assert.equal(none.alpn, false);
      assert.match(http1.reply ?? '', /^HTTP\/1\.1 200 /, 'an ordinary connection is answered');
    });

    it('a client offering acme-tls/1 gets no challenge certificate for a name with no challenge in flight: the handshake fails', async () => {
      for (const name of ['unknown.relay.test', DOMAINS[0]]) {
        const refused = await handshake(tlsPort, name, ['acme-tls/1']);
        assert.equal(refused.alpn, undefined, name);
        assert.match(refused.error ?? '', /no application protocol/, name);
      }
      // Offering a protocol the listener speaks as well: the usual certificate and protocol.
      const usual = await handshake(tlsPort, 'relay.test', ['acme-tls/1', 'http/1.1'], pebble.root);
      assert.equal(usual.error, undefined);
      assert.equal(usual.alpn, 'http/1.1');
      assert.equal(usual.challenge, false);
    });

    it('HTTPS requests are answered as usual', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        https
          .get(`https://127.0.0.1:${tlsPort}/healthz`, { ca: pebble.root, servername: DOMAINS[0], agent: false }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          })
          .on('error', reject);
      });
      assert.equal(status, 200);
    });
  });
}
