/** Only a top-level frame of our own origin (app://relaydeck) may call the operator API over IPC. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APP_ORIGIN, APP_PAGE_URL } from '../../../electron/desktop/app-protocol.js';
import { isTrustedSender, senderFacts } from '../../../electron/desktop/sender-check.js';

const top = (url: string | undefined) => ({ url, isMainFrame: true });

test('accepts the top frame of our page, with a hash, a query or another path of our origin', () => {
  assert.equal(APP_ORIGIN, 'app://relaydeck');
  for (const url of [
    APP_PAGE_URL,
    `${APP_PAGE_URL}#/routes`,
    `${APP_PAGE_URL}?tab=nodes`,
    'app://relaydeck/',
    'app://relaydeck/routes/live',
    'APP://RELAYDECK/index.html',
  ]) {
    assert.equal(isTrustedSender(top(url), APP_ORIGIN), true, url);
  }
});

test('rejects other origins: the admin URL, web pages, other app:// hosts, look-alikes', () => {
  for (const url of [
    'http://127.0.0.1:8091/',
    'http://127.0.0.1:8091/index.html',
    'https://evil.example/index.html',
    'app://evil/index.html',
    'app://relaydeck.evil/index.html',
    'app://relaydeck:8080/index.html',
    'app://user:pass@relaydeck/index.html',
    'apps://relaydeck/index.html',
    'https://relaydeck/index.html',
  ]) {
    assert.equal(isTrustedSender(top(url), APP_ORIGIN), false, url);
  }
});

test('rejects pages without a host: file://, data:, about:, devtools-less opaque URLs', () => {
  for (const url of [
    'file:///opt/RelayDeck/resources/app.asar/dist/renderer/index.html',
    'data:text/html,<script>1</script>',
    'about:blank',
    'javascript:alert(1)',
    'blob:app://relaydeck/1234',
  ]) {
    assert.equal(isTrustedSender(top(url), APP_ORIGIN), false, url);
  }
});

test('a file:// origin can never be made trusted (every local file would match)', () => {
  assert.equal(isTrustedSender(top('file:///tmp/index.html'), 'file://'), false);
  assert.equal(isTrustedSender(top('file:///tmp/index.html'), 'file:///tmp/index.html'), false);
});

test('rejects iframes, even ones showing our page', () => {
  assert.equal(isTrustedSender({ url: APP_PAGE_URL, isMainFrame: false }, APP_ORIGIN), false);
});

test('rejects a frame that is gone and URLs that do not parse', () => {
  assert.equal(isTrustedSender(top(undefined), APP_ORIGIN), false);
  assert.equal(isTrustedSender(top(''), APP_ORIGIN), false);
  assert.equal(isTrustedSender(top('not a url'), APP_ORIGIN), false);
  assert.equal(isTrustedSender(top(APP_PAGE_URL), 'not an origin'), false);
});

test('senderFacts reads the frame of an invoke event: top frame, iframe, frame gone', () => {
  const frame = (url: string, parent: unknown) => ({ senderFrame: { url, parent } }) as unknown as Parameters<typeof senderFacts>[0];
  assert.deepEqual(senderFacts(frame(APP_PAGE_URL, null)), { url: APP_PAGE_URL, isMainFrame: true });
  assert.deepEqual(senderFacts(frame(APP_PAGE_URL, { url: APP_PAGE_URL })), { url: APP_PAGE_URL, isMainFrame: false });
  assert.deepEqual(senderFacts({ senderFrame: null }), { url: undefined, isMainFrame: false });
});
