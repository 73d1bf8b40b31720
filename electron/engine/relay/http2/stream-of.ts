/**
 * The HTTP/2 stream behind a response, told without loading `node:http2` (the HTTP/2 listener
 * and its module load only when tls.http2 is on: server.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, Http2Stream } from 'node:http2';

/** The HTTP/2 stream behind a response, or undefined for an HTTP/1.1 response (whose socket is the viewer's alone). */
export function http2StreamOf(res: ServerResponse): Http2Stream | undefined {
  // Only an HTTP/2 compatibility response has a `stream`; an HTTP/1.1 ServerResponse has no such member.
  return (res as unknown as Partial<Http2ServerResponse>).stream ?? undefined;
}
