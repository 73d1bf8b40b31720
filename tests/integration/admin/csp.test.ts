/** The UI's CSP: where the stream preview may fetch from, and what an untrusted Host header can put there (nothing odd). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostOfHeader, previewNodeUrls, previewOrigins, uiContentSecurityPolicy } from '../../../electron/engine/admin/csp.js';
import { testConfig } from '../../helpers/relay.js';

test('a relay on every interface is reached at the page host; one on an address at that address', () => {
  assert.deepEqual(previewOrigins({ relayUrl: 'http://0.0.0.0:8090', pageHost: '192.168.1.20', nodeUrls: [] }), ['http://192.168.1.20:8090']);
  assert.deepEqual(previewOrigins({ relayUrl: 'http://[::]:8090', pageHost: 'relay.lan', nodeUrls: [] }), ['http://relay.lan:8090']);
  assert.deepEqual(previewOrigins({ relayUrl: 'http://10.1.2.3:8090', pageHost: 'elsewhere', nodeUrls: [] }), ['http://10.1.2.3:8090']);
  assert.deepEqual(previewOrigins({ relayUrl: 'http://0.0.0.0:8090', nodeUrls: [] }), [], 'no page host: loopback only');
});

test('only nodes that redirect routes send viewers to are named: nodes behind proxy routes stay hidden', () => {
  const config = testConfig({
    nodes: [
      { id: 'hidden', url: 'http://10.0.0.1:8000' },
      { id: 'files', url: 'http://files.example.com' },
    ],
    routes: [
      { id: 'live', path: '/live/', kind: 'flv', mode: 'proxy' },
      { id: 'img', path: '/img/', kind: 'file', mode: 'redirect', nodes: ['files'] },
    ],
  });
  assert.deepEqual(previewNodeUrls(config), ['http://files.example.com']);
  const everyNode = testConfig({ ...config, routes: [{ id: 'img', path: '/img/', kind: 'file', mode: 'redirect' }] });
  assert.deepEqual(previewNodeUrls(everyNode), ['http://10.0.0.1:8000', 'http://files.example.com'], 'a redirect route without a node list may use any node');
});

test("the nodes' origins are allowed (a redirect route's preview plays from the node)", () => {
  assert.deepEqual(previewOrigins({ relayUrl: '', nodeUrls: ['http://10.0.0.9:8000/live/', 'https://media.example.com/', 'not a url', 'ftp://x/'] }), [
    'http://10.0.0.9:8000',
    'https://media.example.com',
  ]);
});

test('a Host header is used only when it is a plain host name or IPv4 literal (CSP cannot name IPv6 literals)', () => {
  assert.equal(hostOfHeader('192.168.1.20:8091'), '192.168.1.20');
  assert.equal(hostOfHeader('relay.lan'), 'relay.lan');
  for (const hostile of [
    '[fe80::1]:8091',
    "evil.example; script-src 'unsafe-inline'",
    'a;b',
    'x y',
    'user@host',
    'host/path',
    '',
    undefined,
    `${'a'.repeat(300)}.example`,
    "'self'",
    'a,b',
    '*',
  ]) {
    assert.equal(hostOfHeader(hostile), undefined, `Host ${JSON.stringify(hostile)} is not used`);
  }
});

test('the policy keeps every fixed directive and only widens connect-src', () => {
  const csp = uiContentSecurityPolicy({ relayUrl: 'http://0.0.0.0:8090', pageHost: '192.168.1.20', nodeUrls: ['http://10.0.0.9:8000/'] });
  const directives = Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
  assert.equal(directives['connect-src'], "'self' http://127.0.0.1:* http://localhost:* http://192.168.1.20:8090 http://10.0.0.9:8000");
  assert.equal(directives['script-src'], "'self'");
  assert.equal(directives['default-src'], "'self'");
  assert.equal(directives['object-src'], "'none'");
  assert.equal(directives['frame-ancestors'], "'none'");
  assert.equal(uiContentSecurityPolicy().includes("connect-src 'self' http://127.0.0.1:* http://localhost:*;"), true, 'no sources: loopback only');
});
