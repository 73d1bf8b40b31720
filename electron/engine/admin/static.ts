/**
 * Serving the built renderer on the admin port (headless mode). Only files inside the UI
 * folder are served; unknown paths fall back to index.html (client-side pages).
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { RelayError } from '../core/errors.js';

/** Content types of the files the built UI holds (shared with the desktop app:// handler). */
export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

async function resolveFile(uiDir: string, urlPath: string): Promise<string> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new RelayError('BAD_REQUEST', 'malformed percent-encoding in path');
  }
  const root = path.resolve(uiDir);
  const candidate = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  if (candidate !== root && !candidate.startsWith(root + path.sep)) throw new RelayError('BAD_REQUEST', 'path leaves the UI folder');
  const stat = await fs.stat(candidate).catch(() => undefined);
  if (stat?.isFile()) return candidate;
  return path.join(root, 'index.html');
}

/** Serve a file of the built UI (index.html for client-side pages) with `csp` as its policy (admin/csp.ts). */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, uiDir: string, urlPath: string, csp: string): Promise<void> {
  const file = await resolveFile(uiDir, urlPath);
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat) throw new RelayError('NOT_FOUND', 'the UI is not built (run npm run build)');
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': stat.size,
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': file.endsWith('index.html') ? 'no-cache' : 'public, max-age=3600',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file).pipe(res);
}
