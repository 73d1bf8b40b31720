/**
 * Headless Debian Chromium driven by Playwright (never `playwright install`), and a tiny
 * page server that hands the browser a player page plus the player library from node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate, createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright';

export const CHROMIUM = '/usr/bin/chromium';

/** Why a browser suite must skip, or false. */
export const noChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} not found: install the Debian package "chromium" (npm test installs it when run as root)`;

/**
 * Launch headless Chromium. `trustedCertificates` (PEM) are trusted by their public key
 * (--ignore-certificate-errors-spki-list), not by turning certificate checks off.
 */
export function launchChromium(trustedCertificates: string[] = []): Promise<Browser> {
  const spki = trustedCertificates.map((pem) =>
    createHash('sha256')
      .update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64'),
  );
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...(spki.length > 0 ? [`--ignore-certificate-errors-spki-list=${spki.join(',')}`] : []),
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

const require = createRequire(import.meta.url);

/** Serves `/player.html` (the given HTML) and `/lib.js` (a file from node_modules); over HTTPS when given a certificate. */
export async function servePlayerPage(
  html: string,
  libraryModulePath: string,
  tls?: { cert: string; key: string },
): Promise<{ url: string; close: () => Promise<void> }> {
  const library = readFileSync(require.resolve(libraryModulePath));
  const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === '/lib.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(library);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    }
  };
  const server = tls ? https.createServer(tls, answer) : http.createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}/player.html`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
