/** tls.acme.challenge: HTTP-01 by default, TLS-ALPN-01 on request, anything else refused naming the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../../shared/config.js';

const minimal = {
  relay: { host: '127.0.0.1', port: 8090 },
  admin: { host: '127.0.0.1', port: 8091, token: 'abcdefghijklmnopqrstuvwx' },
};

/** A config whose tls.acme has these fields (ACME on, with what it needs). */
function withAcme(acme: Record<string, unknown>): unknown {
  return { ...minimal, tls: { enabled: true, acme: { enabled: true, termsOfServiceAgreed: true, domains: ['relay.example.com'], ...acme } } };
}

function errorOf(value: unknown): string {
  try {
    parseConfig(value);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a validation error');
}

describe('config tls.acme.challenge', () => {
  it('is http-01 by default', () => {
    assert.equal(parseConfig(minimal).tls.acme.challenge, 'http-01');
    assert.equal(parseConfig(withAcme({})).tls.acme.challenge, 'http-01');
  });

  it('accepts tls-alpn-01 and http-01', () => {
    assert.equal(parseConfig(withAcme({ challenge: 'tls-alpn-01' })).tls.acme.challenge, 'tls-alpn-01');
    assert.equal(parseConfig(withAcme({ challenge: 'http-01' })).tls.acme.challenge, 'http-01');
  });

  it('refuses anything else, naming the field', () => {
    for (const [value, shown] of [
      ['dns-01', '"dns-01"'],
      ['TLS-ALPN-01', '"TLS-ALPN-01"'],
      ['', '""'],
      [1, '1'],
      [null, 'null'],
    ] as const) {
      assert.equal(errorOf(withAcme({ challenge: value })), `tls.acme.challenge: expected "http-01" or "tls-alpn-01", got ${shown}`);
    }
    assert.equal(errorOf(withAcme({ challenges: 'tls-alpn-01' })), 'tls.acme.challenges: unknown key');
  });

  it('a wildcard domain is refused for either challenge', () => {
    assert.match(
      errorOf(withAcme({ challenge: 'tls-alpn-01', domains: ['*.example.com'] })),
      /^tls\.acme\.domains\[0\]: .*no wildcard: neither HTTP-01 nor TLS-ALPN-01/,
    );
  });
});
