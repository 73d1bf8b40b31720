/**
 * Request framing rules (issue 11): every request forwarded to a node carries exactly one
 * framing, written by the relay itself, so a node can never read a viewer's body as a second
 * request (request smuggling). RelayServer.handle calls checkFraming before any routing work;
 * the proxy engines forward a body only when requestFraming says it was allowed.
 *
 * Node's parser (llhttp) already refuses CL + TE together, duplicate or malformed
 * Content-Length, and most Transfer-Encoding tricks (answered by answerClientError in
 * server.ts). What it lets through, and these rules refuse with 400 BAD_REQUEST:
 *  - a body (chunked, or Content-Length > 0) on a method that takes none: only POST, PUT
 *    and PATCH carry bodies (stream routes allow GET/HEAD only, so they never get one);
 *  - Transfer-Encoding other than exactly one "chunked" ("gzip, chunked", "Chunked",
 *    ", chunked", two fields), or on an HTTP/1.0 request;
 *  - Content-Length, Transfer-Encoding or Host named in Connection / Proxy-Connection;
 *  - two Host fields, or none on HTTP/1.1 (Node's own answer to that has no JSON body).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { RelayError } from '../core/errors.js';

/** How an accepted request's body is forwarded: the relay writes this framing itself. */
export type BodyFraming =
  /** No body: nothing is piped; a GET goes without framing headers. */
  | { kind: 'none' }
  /** Content-Length as parsed by Node (leading zeros dropped). */
  | { kind: 'length'; bytes: number }
  /** Chunked, re-encoded by Node's client (the viewer's chunk extensions and trailers are dropped). */
  | { kind: 'chunked' };

/**
 * Methods whose requests may carry a body (on file routes; stream routes allow only GET and
 * HEAD). Fixed rather than a route setting: RFC 9110 gives a body on GET, HEAD, DELETE or
 * OPTIONS no meaning, and no player or node API behind the relay sends one.
 */
export const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

/** Headers that decide where a request ends, which a Connection header may not name. */
const FRAMING_HEADERS: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host']);

const NO_BODY: BodyFraming = { kind: 'none' };
const framings = new WeakMap<IncomingMessage, BodyFraming>();
/** Connections that sent a refused request: requests pipelined behind it are refused too (the connection is closing). */
const refusedConnections = new WeakSet<Socket>();

/** The header fields the framing rules read, gathered in one pass over the raw headers. */
interface FramingFields {
  hosts: number;
  /** Connection and Proxy-Connection values, with the field name. */
  connection: [name: string, value: string][];
  transferEncodings: string[];
  lengths: string[];
}

function framingFields(req: IncomingMessage): FramingFields {
  const fields: FramingFields = { hosts: 0, connection: [], transferEncodings: [], lengths: [] };
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    // Only these lengths can be a field the rules read: skip the rest without lowercasing.
    if (name.length !== 4 && name.length !== 10 && name.length !== 14 && name.length !== 16 && name.length !== 17) continue;
    const lower = name.toLowerCase();
    if (lower === 'host') fields.hosts += 1;
    else if (lower === 'connection' || lower === 'proxy-connection') fields.connection.push([lower, raw[i + 1]]);
    else if (lower === 'transfer-encoding') fields.transferEncodings.push(raw[i + 1]);
    else if (lower === 'content-length') fields.lengths.push(raw[i + 1]);
  }
  return fields;
}

function refuse(message: string): never {
  throw new RelayError('BAD_REQUEST', message);
}

function checkHost(req: IncomingMessage, fields: FramingFields): void {
  if (fields.hosts > 1) refuse(`${fields.hosts} Host header fields (exactly one is allowed)`);
  if (fields.hosts === 0 && req.httpVersion === '1.1') refuse('an HTTP/1.1 request needs a Host header');
}

function checkConnection(fields: FramingFields): void {
  for (const [name, value] of fields.connection) {
    for (const token of value.split(',')) {
      const listed = token.trim().toLowerCase();
      if (FRAMING_HEADERS.has(listed)) refuse(`${name} names ${listed}, which decides where the request ends`);
    }
  }
}

/** The body framing the viewer sent, validated; throws BAD_REQUEST. */
function viewerFraming(req: IncomingMessage, fields: FramingFields): BodyFraming {
  const { transferEncodings, lengths } = fields;
  if (transferEncodings.length > 0) {
    if (req.httpVersion !== '1.1') refuse(`Transfer-Encoding on an HTTP/${req.httpVersion} request`);
    if (lengths.length > 0) refuse('Content-Length and Transfer-Encoding together');
    if (transferEncodings.length !== 1 || transferEncodings[0] !== 'chunked') {
      refuse(`Transfer-Encoding must be exactly "chunked", got ${JSON.stringify(transferEncodings.join(', ').slice(0, 64))}`);
    }
    return { kind: 'chunked' };
  }
  if (lengths.length > 1) refuse('more than one Content-Length');
  if (lengths.length === 0) return NO_BODY;
  const bytes = /^\d{1,15}$/.test(lengths[0]) ? Number(lengths[0]) : NaN;
  if (!Number.isSafeInteger(bytes)) refuse(`Content-Length ${JSON.stringify(lengths[0].slice(0, 32))} is not a byte count`);
  return { kind: 'length', bytes };
}

/**
 * Check the request's framing before routing; throws RelayError BAD_REQUEST, and the caller
 * closes the connection. Remembers how the body may be forwarded (requestFraming).
 */
export function checkFraming(req: IncomingMessage): void {
  try {
    if (refusedConnections.has(req.socket)) refuse('an earlier request on this connection was refused for its framing');
    const fields = framingFields(req);
    checkHost(req, fields);
    checkConnection(fields);
    const framing = viewerFraming(req, fields);
    const method = req.method ?? '';
    const hasBody = framing.kind === 'chunked' || (framing.kind === 'length' && framing.bytes > 0);
    if (hasBody && !BODY_METHODS.has(method)) refuse(`a ${method} request may not carry a body (only ${[...BODY_METHODS].join(', ')} may)`);
    // Nothing to remember for a request without a body (requestFraming's answer when none is kept).
    if (framing !== NO_BODY && BODY_METHODS.has(method)) framings.set(req, framing);
  } catch (error) {
    refusedConnections.add(req.socket);
    throw error;
  }
}

/** How to forward the request's body: as checkFraming allowed, else no body at all (fail safe). */
export function requestFraming(req: IncomingMessage): BodyFraming {
  return framings.get(req) ?? NO_BODY;
}
