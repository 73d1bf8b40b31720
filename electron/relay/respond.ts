/** Writing the relay's own answers: JSON errors and redirects. */
import type { ServerResponse } from 'node:http';
import { errorBody, type RelayError } from './errors.js';

/** Answer with the JSON error body and the status from the taxonomy. */
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
  // CORS on the redirect itself, so a browser player on another origin may follow it.
  res.writeHead(status, { location, 'content-length': 0, 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
  res.end();
}
