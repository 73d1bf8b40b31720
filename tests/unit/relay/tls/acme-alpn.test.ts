/**
 * ACME TLS-ALPN-01 on the HTTPS listener (electron/engine/relay/tls/acme-alpn.ts): the ALPN
 * choice ("acme-tls/1" only with a challenge certificate, else the listener's own protocols in
 * its order), and the challenge certificates held: per exact name, forgotten when removed or
 * after their time, never more than one per domain of an order.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { createRequire } from 'node:module';
import { MAX_ACME_DOMAINS } from '../../../../shared/config.js';
import { ACME_TLS_ALPN_PROTOCOL, AcmeAlpnCertificates, MAX_ACME_ALPN_CERTIFICATES, chooseAlpn } from '../../../../electron/engine/relay/tls/acme-alpn.js';
import { ACME_CHALLENGE_TTL_MS } from '../../../../electron/engine/relay/tls/acme-challenges.js';

const acme = createRequire(import.meta.url)('acme-client') as typeof import('acme-client');

/** A challenge certificate for `domain`, as the manager builds it. */
async function challengePem(domain: string): Promise<{ cert: string; key: string }> {
  const key = await acme.crypto.createPrivateEcdsaKey('P-256');
  const authz = { identifier: { type: 'dns', value: domain } } as Parameters<typeof acme.crypto.createAlpnCertificate>[0];
  const [, cert] = await acme.crypto.createAlpnCertificate(authz, 'token.thumbprint', key);
  return { cert: cert.toString(), key: key.toString() };
}

describe('ACME TLS-ALPN-01 protocol choice', () => {
  const own = ['h2', 'http/1.1'];

  it('answers acme-tls/1 only when offered and a challenge certificate is held', () => {
    assert.equal(
      chooseAlpn([ACME_TLS_ALPN_PROTOCOL], own, () => true),
      ACME_TLS_ALPN_PROTOCOL,
    );
    assert.equal(
      chooseAlpn([ACME_TLS_ALPN_PROTOCOL], own, () => false),
      undefined,
      'nothing else offered: the handshake fails',
    );
    assert.equal(
      chooseAlpn([ACME_TLS_ALPN_PROTOCOL, 'http/1.1'], own, () => false),
      'http/1.1',
    );
  });

  it("otherwise picks the listener's own protocols in its order, and never asks for a challenge certificate", () => {
    const never = () => assert.fail('no challenge certificate is looked up');
    assert.equal(chooseAlpn(['http/1.1', 'h2'], own, never), 'h2');
    assert.equal(chooseAlpn(['http/1.1', 'h2'], ['http/1.1'], never), 'http/1.1');
    assert.equal(chooseAlpn(['spdy/3'], own, never), undefined);
  });
});

describe('ACME TLS-ALPN-01 challenge certificates', () => {
  it('are held per exact name (any case), no wildcard, until removed', async () => {
    const held = new AcmeAlpnCertificates();
    held.add('Live.Relay.test', await challengePem('live.relay.test'));
    assert.ok(held.contextFor('live.relay.test'));
    assert.ok(held.contextFor('LIVE.relay.test'));
    assert.equal(held.contextFor('relay.test'), undefined);
    assert.equal(held.contextFor('x.live.relay.test'), undefined);
    assert.equal(held.contextFor(''), undefined);
    assert.equal(held.contextFor(undefined), undefined);
    held.remove('live.relay.TEST');
    assert.equal(held.contextFor('live.relay.test'), undefined);
    assert.equal(held.size, 0);
  });

  it(`are forgotten ${ACME_CHALLENGE_TTL_MS} ms after they were added, and at most ${MAX_ACME_ALPN_CERTIFICATES} are held`, async () => {
    assert.equal(MAX_ACME_ALPN_CERTIFICATES, MAX_ACME_DOMAINS, 'one per domain of the order in flight');
    const pem = await challengePem('relay.test');
    const held = new AcmeAlpnCertificates();
    held.add('old.relay.test', pem, 0);
    assert.ok(held.contextFor('old.relay.test', ACME_CHALLENGE_TTL_MS - 1));
    assert.equal(held.contextFor('old.relay.test', ACME_CHALLENGE_TTL_MS), undefined);
    for (let i = 0; i < MAX_ACME_ALPN_CERTIFICATES + 5; i += 1) held.add(`d${i}.relay.test`, pem, 1);
    assert.equal(held.size, MAX_ACME_ALPN_CERTIFICATES);
    assert.equal(held.contextFor('d0.relay.test', 2), undefined, 'the oldest went');
    assert.ok(held.contextFor(`d${MAX_ACME_ALPN_CERTIFICATES + 4}.relay.test`, 2));
  });

  it('say so when the last one expires, so the listener goes back to choosing ALPN natively', async () => {
    const pem = await challengePem('relay.test');
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    try {
      const held = new AcmeAlpnCertificates();
      const sizes: number[] = [];
      held.onChange = () => sizes.push(held.size);
      held.add('a.relay.test', pem);
      mock.timers.tick(1_000);
      held.add('b.relay.test', pem);
      assert.deepEqual(sizes, [1, 2]);
      mock.timers.tick(ACME_CHALLENGE_TTL_MS - 1_000);
      assert.deepEqual(sizes, [1, 2, 1], 'the first one expired, the other is still held');
      mock.timers.tick(1_000);
      assert.deepEqual(sizes, [1, 2, 1, 0], 'none held: told without any add or remove');
      mock.timers.tick(ACME_CHALLENGE_TTL_MS * 2);
      assert.deepEqual(sizes, [1, 2, 1, 0], 'no timer left once none is held');
    } finally {
      mock.timers.reset();
    }
  });

  it('refuses a certificate that does not load, naming nothing it holds', () => {
    const held = new AcmeAlpnCertificates();
    assert.throws(() => held.add('relay.test', { cert: 'not a certificate', key: 'not a key' }));
    assert.equal(held.size, 0);
  });
});
