/**
 * The desktop window's page comes from `app://relaydeck/`, a privileged custom scheme that
 * serves the built renderer folder and nothing else, not from file://. Electron's security
 * checklist asks for this: file:// pages get extra privileges in Electron (any local file is
 * "same origin"), and Chromium refuses module scripts from file:// (origin null) anyway.
 * A standard scheme gives the page a real origin, so the CSP's 'self' and the IPC sender
 * check both mean exactly "our page".
 *
 * The handler is a plain `(Request) => Promise<Response>` using only node:fs, so it is
 * tested under plain Node; electron/desktop/main.ts passes it to `protocol.handle`.
 */
import type { CustomScheme } from 'electron';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { uiContentSecurityPolicy, type PreviewSources } from '../engine/admin/csp.js';
import { CONTENT_TYPES } from '../engine/admin/static.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'relaydeck';
/** The page's origin; the IPC sender check trusts this origin only. */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
/** What the main window loads. */
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

/**
 * Registered before 'ready'. standard: relative URLs, a real origin and web storage;
 * secure: treated like https (no mixed-content downgrade); supportFetchAPI + corsEnabled:
 * module scripts and fetch() of our own files. No bypassCSP, no service workers.
 */
export const APP_SCHEME_PRIVILEGES: CustomScheme = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, bypassCSP: false, allowServiceWorkers: false, stream: false },
};

/** Headers on every answer: the same CSP as the admin port's UI, no sniffing, no referrer. */
function securityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
}

function plain(status: number, text: string, csp: string, extra: Record<string, string> = {}): Response {
  return new Response(text, { status, headers: { ...securityHeaders(csp), 'content-type': 'text/plain; charset=utf-8', ...extra } });
}

/**
 * The file a URL names inside `uiDir`, or undefined when it names none: another host,
 * bad percent-encoding, or a path that leaves the folder. A path that is not a file falls
 * back to index.html (client-side pages), as on the admin port.
 */
export async function resolveAppFile(uiDir: string, url: string): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.host !== APP_HOST) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(parsed.pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const root = path.resolve(uiDir);
  const candidate = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  if (candidate !== root && !candidate.startsWith(root + path.sep)) return undefined;
  const stat = await fs.stat(candidate).catch(() => undefined);
  if (stat?.isFile()) return candidate;
  return path.join(root, 'index.html');
}

/**
 * The `protocol.handle` handler serving `uiDir` on app://relaydeck/. `previewSources` (read
 * per answer, so config changes apply; absent until the engine runs) widens the CSP's
 * connect-src to the relay and the nodes, as on the admin port.
 */
export function createAppProtocolHandler(
  uiDir: string,
  previewSources?: () => Omit<PreviewSources, 'pageHost'> | undefined,
): (request: Request) => Promise<Response> {
  return async (request) => {
    const sources = previewSources?.();
    const csp = uiContentSecurityPolicy(sources && { ...sources, pageHost: '127.0.0.1' });
    if (request.method !== 'GET' && request.method !== 'HEAD') return plain(405, 'method not allowed', csp, { allow: 'GET, HEAD' });
    const file = await resolveAppFile(uiDir, request.url);
    if (!file) return plain(404, 'not found', csp);
    const body = await fs.readFile(file).catch(() => undefined);
    if (!body) return plain(404, 'the UI is not built (run npm run build)', csp);
    const headers = {
      ...securityHeaders(csp),
      'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': String(body.length),
    };
    return new Response(request.method === 'HEAD' ? null : body, { status: 200, headers });
  };
}
