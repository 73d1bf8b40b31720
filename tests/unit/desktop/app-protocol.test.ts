/**
 * The app://relaydeck/ handler serves the built renderer folder and nothing else, with the
 * UI's CSP header. Driven with real Fetch API Request objects against a temporary folder.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { APP_PAGE_URL, APP_SCHEME_PRIVILEGES, createAppProtocolHandler, resolveAppFile } from '../../../electron/desktop/app-protocol.js';
import { uiContentSecurityPolicy } from '../../../electron/engine/admin/csp.js';

let base: string;
let uiDir: string;
let handler: (request: Request) => Promise<Response>;

before(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-app-protocol-'));
  uiDir = path.join(base, 'renderer');
  await mkdir(path.join(uiDir, 'assets'), { recursive: true });
  await writeFile(path.join(uiDir, 'index.html'), '<!doctype html><title>RelayDeck</title>');
  await writeFile(path.join(uiDir, 'assets', 'index-abc.js'), 'console.log(1)');
  await writeFile(path.join(base, 'secret.txt'), 'outside the UI folder');
  handler = createAppProtocolHandler(uiDir, () => ({ relayUrl: 'http://192.168.7.5:8090', nodeUrls: ['http://10.0.0.9:8000/base/'] }));
});

after(() => rm(base, { recursive: true, force: true }));

const get = (url: string, method = 'GET') => handler(new Request(url, { method }));

test('the scheme is standard and secure, and bypasses nothing', () => {
  assert.equal(APP_SCHEME_PRIVILEGES.scheme, 'app');
  const p = APP_SCHEME_PRIVILEGES.privileges ?? {};
  assert.equal(p.standard, true);
  assert.equal(p.secure, true);
  assert.equal(p.bypassCSP, false);
  assert.equal(p.allowServiceWorkers, false);
});

test('serves index.html and assets with their types and the UI CSP', async () => {
  const page = await get(APP_PAGE_URL);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  const csp = page.headers.get('content-security-policy') ?? '';
  assert.equal(csp, uiContentSecurityPolicy({ relayUrl: 'http://192.168.7.5:8090', pageHost: '127.0.0.1', nodeUrls: ['http://10.0.0.9:8000/base/'] }));
  assert.match(
    csp,
    /connect-src 'self' http:\/\/127\.0\.0\.1:\* http:\/\/localhost:\* http:\/\/192\.168\.7\.5:8090 http:\/\/10\.0\.0\.9:8000;/,
    'the preview may reach the relay and the nodes',
  );
  assert.match(csp, /script-src 'self';/);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(await page.text(), '<!doctype html><title>RelayDeck</title>');
  const script = await get('app://relaydeck/assets/index-abc.js');
  assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(await script.text(), 'console.log(1)');
});

test('an unknown path inside the folder gets index.html (client-side pages)', async () => {
  const response = await get('app://relaydeck/routes/live');
  assert.equal(response.status, 200);
  assert.match(await response.text(), /RelayDeck/);
});

test('nothing outside the folder is served, however the path is spelled', async () => {
  for (const url of [
    'app://relaydeck/../secret.txt',
    'app://relaydeck/%2e%2e/secret.txt',
    'app://relaydeck/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    'app://relaydeck/..%5csecret.txt',
  ]) {
    const response = await get(url);
    assert.doesNotMatch(await response.text(), /outside the UI folder/, url);
  }
  assert.equal(await resolveAppFile(uiDir, 'app://relaydeck/..%5csecret.txt'), undefined);
  assert.equal(await resolveAppFile(uiDir, 'app://relaydeck/%00.html'), undefined);
});

test('other hosts and schemes get 404, other methods 405', async () => {
  assert.equal((await get('app://evil/index.html')).status, 404);
  assert.equal(await resolveAppFile(uiDir, 'https://relaydeck/index.html'), undefined);
  assert.equal(await resolveAppFile(uiDir, 'app://relaydeck/%E0%A4%A'), undefined);
  const post = await get(APP_PAGE_URL, 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
});

test('HEAD answers the headers without a body', async () => {
  const response = await get(APP_PAGE_URL, 'HEAD');
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-length'), String('<!doctype html><title>RelayDeck</title>'.length));
  assert.equal(await response.text(), '');
});

test('a missing build says so', async () => {
  const empty = createAppProtocolHandler(path.join(base, 'not-built'));
  const response = await empty(new Request(APP_PAGE_URL));
  assert.equal(response.status, 404);
  assert.match(await response.text(), /npm run build/);
});
