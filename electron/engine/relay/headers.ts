/**
 * Header rules for proxying, in both directions: hop-by-hop headers and the headers a
 * `Connection` header names are removed; the client's X-Forwarded-* are replaced by ours.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Hop-by-hop headers, RFC 9110 §7.6.1 (plus the legacy Proxy-Connection and Keep-Alive). */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function connectionListed(headers: IncomingHttpHeaders): Set<string> {
  const listed = new Set<string>();
  for (const name of ['connection', 'proxy-connection']) {
    const value = headers[name];
    const text = Array.isArray(value) ? value.join(',') : value;
    if (!text) continue;
    for (const token of text.split(',')) {
      const trimmed = token.trim().toLowerCase();
      if (trimmed) listed.add(trimmed);
    }
  }
  return listed;
}

/** A copy of `headers` without hop-by-hop headers and without those named in Connection. */
export function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP_HEADERS.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

export interface ForwardedFacts {
  clientAddress: string;
  /** "http" or "https": how the viewer reached the relay. */
  protocol: string;
  /** The Host the viewer asked for (kept as X-Forwarded-Host, never used to build a URL). */
  originalHost: string | undefined;
  /** host[:port] of the node, sent as Host. */
  nodeHost: string;
  /** The body length the relay forwards (framing.ts); absent = no body, or chunked as Node's client writes it. */
  contentLength?: number;
}

/**
 * Headers for the upstream request: hop-by-hop stripped, X-Forwarded-* replaced, Host set to
 * the node, and the framing set by the relay (the viewer's Content-Length is replaced by
 * `contentLength`; Expect was answered by the relay's server, so it is not passed on).
 */
export function upstreamRequestHeaders(headers: IncomingHttpHeaders, facts: ForwardedFacts): OutgoingHttpHeaders {
  const out = withoutHopByHop(headers);
  for (const name of Object.keys(out)) {
    if (name.startsWith('x-forwarded-') || name === 'forwarded' || name === 'content-length' || name === 'expect') delete out[name];
  }
  if (facts.contentLength !== undefined) out['content-length'] = String(facts.contentLength);
  out.host = facts.nodeHost;
  out['x-forwarded-for'] = facts.clientAddress;
  out['x-forwarded-proto'] = facts.protocol;
  if (facts.originalHost) out['x-forwarded-host'] = facts.originalHost;
  return out;
}

/**
 * A copy of `headers` without the fields in `names` (lower case). Used instead of `delete` on
 * headers read per request: an object that had a field deleted is slow to read and to copy.
 */
export function withoutFields(headers: OutgoingHttpHeaders, names: ReadonlySet<string>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) if (!names.has(name)) out[name] = headers[name];
  return out;
}

/** Headers for the viewer's response: hop-by-hop stripped. */
export function viewerResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  return withoutHopByHop(headers);
}
