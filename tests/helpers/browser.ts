/**
 * Headless Debian Chromium driven by Playwright (never `playwright install`), and a tiny
 * page server that hands the browser a player page plus the player library from node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { chromium, type Browser } from 'playwright';

export const CHROMIUM = '/usr/bin/chromium';

/** Why a browser suite must skip, or false. */
export const noChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} not found: install the Debian package "chromium" (npm test installs it when run as root)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
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

/** Serves `/player.html` (the given HTML) and `/lib.js` (a file from node_modules). */
export async function servePlayerPage(html: string, libraryModulePath: string): Promise<{ url: string; close: () => Promise<void> }> {
  const library = readFileSync(require.resolve(libraryModulePath));
  const server = http.createServer((req, res) => {
    if (req.url === '/lib.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(library);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/player.html`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
