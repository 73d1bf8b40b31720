/**
 * Writing the relay's own answers: JSON errors and redirects. Both carry the route's CORS
 * headers, set on the response beforehand by the relay server (cors.ts applyCors).
 */
import type { ServerResponse } from 'node:http';
import { errorBody, type RelayError } from '../core/errors.js';

/** Answer with the JSON error body and the status from the taxonomy; CORS headers let a player on another origin read it. */
export function sendError(res: ServerResponse, error: RelayError): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(error.code, error.message));
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** Answer with a redirect; `location` must come from configuration, never from request headers. */
export function sendRedirect(res: ServerResponse, status: 302 | 307, location: string): void {
  // The route's CORS headers (already on `res`) ride on the redirect itself, so a browser player on another origin may follow it.
  res.writeHead(status, { location, 'content-length': 0, 'cache-control': 'no-store' });
  res.end();
}
