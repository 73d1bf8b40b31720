/**
 * HTTP/2 requests in HTTP/1.1 clothes: the HTTPS listener hands RelayServer.handle the
 * compatibility API's request and response (Http2ServerRequest/Response), built from these
 * subclasses so the code written for HTTP/1.1 works on them unchanged:
 *  - the request's headers and raw headers hold no pseudo-headers (`:path`, `:method`, ...,
 *    which must never be forwarded to a node), and `:authority` is the Host header when the
 *    client sent none (RFC 9113 §8.3.1), so framing.ts, admission and the proxy read it as Host;
 *  - the response drops connection-specific headers (RFC 9113 §8.2.2), which HTTP/2 forbids and
 *    Node refuses with ERR_HTTP2_INVALID_CONNECTION_HEADERS, in this one place, whoever sets
 *    them (the FLV fan-out's `connection: close`, a node's headers passed on);
 *  - the response says when its stream's buffer is full (`writableNeedDrain`), as an HTTP/1.1
 *    response does for its socket: the proxy's backpressure and CLIENT_STALLED rule read it.
 * The request's `socket` is Node's per-stream proxy of the connection: its address, its
 * `encrypted` flag and its `destroyed` state are the stream's, which is what the relay reads.
 */
import http2 from 'node:http2';
import type { IncomingHttpHeaders, OutgoingHttpHeader, OutgoingHttpHeaders } from 'node:http';

/** Header fields HTTP/2 forbids (RFC 9113 §8.2.2): they describe one HTTP/1.1 connection. `te` is allowed only as "trailers". */
export const CONNECTION_SPECIFIC_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

function forbiddenInHttp2(name: string, value: unknown): boolean {
  const lower = name.toLowerCase();
  return CONNECTION_SPECIFIC_HEADERS.has(lower) || (lower === 'te' && String(value).trim().toLowerCase() !== 'trailers');
}

/** A copy of `headers` without the connection-specific ones (an object, or Node's flat [name, value, ...] list). */
function allowedHeaders(headers: OutgoingHttpHeaders | OutgoingHttpHeader[]): OutgoingHttpHeaders | OutgoingHttpHeader[] {
  if (Array.isArray(headers)) {
    const kept: OutgoingHttpHeader[] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) if (!forbiddenInHttp2(String(headers[i]), headers[i + 1])) kept.push(headers[i], headers[i + 1]);
    return kept;
  }
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!forbiddenInHttp2(name, value)) kept[name] = value;
  return kept;
}

const PLAIN_HEADERS = Symbol('relaydeck.plainHeaders');
const PLAIN_RAW_HEADERS = Symbol('relaydeck.plainRawHeaders');

export class RelayHttp2Request extends http2.Http2ServerRequest {
  /** The header fields without pseudo-headers, made on first read (or assigned). */
  declare [PLAIN_HEADERS]?: IncomingHttpHeaders;
  /** The raw header list without pseudo-headers, made on first read. */
  declare [PLAIN_RAW_HEADERS]?: string[];
}

/** A getter of Node's Http2ServerRequest (its headers and raw headers, pseudo-headers included). */
function nodeGetter(name: 'headers' | 'rawHeaders'): (this: http2.Http2ServerRequest) => unknown {
  const getter = Object.getOwnPropertyDescriptor(http2.Http2ServerRequest.prototype, name)?.get;
  if (!getter) throw new Error(`node:http2: Http2ServerRequest has no "${name}" getter`);
  return getter;
}
const nodeHeaders = nodeGetter('headers');
const nodeRawHeaders = nodeGetter('rawHeaders');

// These shadow the prototype's getters, which keep reading the pseudo-headers for url and method. `headers` is writable, as
// an HTTP/1.1 request's is: the http-proxy-3 engine hands http-proxy the cleaned set by assigning it.
Object.defineProperties(RelayHttp2Request.prototype, {
  headers: {
    get(this: RelayHttp2Request): IncomingHttpHeaders {
      return (this[PLAIN_HEADERS] ??= plainHeaders(nodeHeaders.call(this) as http2.IncomingHttpHeaders));
    },
    set(this: RelayHttp2Request, headers: IncomingHttpHeaders) {
      this[PLAIN_HEADERS] = headers;
    },
    enumerable: true,
    configurable: true,
  },
  rawHeaders: {
    get(this: RelayHttp2Request): string[] {
      return (this[PLAIN_RAW_HEADERS] ??= plainRawHeaders(nodeRawHeaders.call(this) as string[]));
    },
    enumerable: true,
    configurable: true,
  },
});

function plainHeaders(headers: http2.IncomingHttpHeaders): IncomingHttpHeaders {
  const plain: IncomingHttpHeaders = {};
  for (const name in headers) if (name.charCodeAt(0) !== 0x3a) plain[name] = headers[name];
  const authority = headers[':authority'];
  if (plain.host === undefined && typeof authority === 'string') plain.host = authority;
  return plain;
}

function plainRawHeaders(raw: string[]): string[] {
  const plain: string[] = [];
  let authority: string | undefined;
  let hasHost = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i] === ':authority') authority = raw[i + 1];
    if (raw[i].startsWith(':')) continue;
    if (raw[i].toLowerCase() === 'host') hasHost = true;
    plain.push(raw[i], raw[i + 1]);
  }
  if (!hasHost && authority !== undefined) plain.push('host', authority);
  return plain;
}

export class RelayHttp2Response extends http2.Http2ServerResponse {
  /** HTTP/2 has one connection for many requests: a refused request resets its own stream, never the connection. */
  set shouldKeepAlive(_keep: boolean) {}

  override setHeader(name: string, value: number | string | readonly string[]): void {
    if (!forbiddenInHttp2(name, value)) super.setHeader(name, value);
  }

  override appendHeader(name: string, value: string | string[]): void {
    if (!forbiddenInHttp2(name, value)) super.appendHeader(name, value);
  }

  /** The relay's HTTP/2 answers carry no trailers (their streams end without waiting for any): refused, never dropped. */
  setTrailer(name: string): void {
    throw new Error(`HTTP/2 answers of the relay carry no trailers (trailer "${name}")`);
  }

  override writeHead(statusCode: number, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(statusCode: number, statusMessage: string, headers?: OutgoingHttpHeaders | OutgoingHttpHeader[]): this;
  override writeHead(
    statusCode: number,
    second?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    third?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    // HTTP/2 has no status message (RFC 9113 §8.3.2): it is dropped here rather than warned about by Node.
    const headers = typeof second === 'string' ? third : second;
    return super.writeHead(statusCode, headers === undefined ? undefined : (allowedHeaders(headers) as OutgoingHttpHeaders));
  }
}

// True while the stream's buffer is over its high-water mark (the viewer is not taking bytes, or its flow-control window is
// shut), as an HTTP/1.1 response says of its socket. Node's Http2ServerResponse lacks it (its type declares it, as a field).
Object.defineProperty(RelayHttp2Response.prototype, 'writableNeedDrain', {
  get(this: RelayHttp2Response): boolean {
    return this.stream?.writableNeedDrain ?? false;
  },
});

// Node's compatibility response opens every stream "waiting for trailers" (respond's waitForTrailers), and then, having
// none to send, ends it with one more, empty, DATA frame: a frame on the wire and a round trip from nghttp2 through JS per
// answer, about a tenth of the relay's CPU for a cached playlist over h2. The relay sends no trailers (setTrailer refuses
// them, below), so its answers end with their last DATA frame (or their HEADERS, when bodiless), as nginx's do. This
// replaces Node's private "begin send" step (found by its description) with one that asks for no trailers, built from
// the response's public getters and its own header fields object (headerFieldsOf), only where that step is the one it
// was written against (its source reads that object and names exactly the options passed here plus waitForTrailers): a
// Node whose step differs keeps its own, correct with one frame more.
const BEGIN_SEND = Object.getOwnPropertySymbols(http2.Http2ServerResponse.prototype).find((key) => key.description === 'begin-send');

/**
 * The key of the header fields object a compatibility response keeps as its own (Node's private
 * kHeaders, found by its description on the first response): the step below passes that object
 * to respond as Node's own step does, where getHeaders() would copy it for every answer.
 * Null when a response has no such field (getHeaders() is used then).
 */
let headersKey: symbol | null | undefined;

/** The response's own header fields object (not a copy), or a copy where it cannot be found. */
function headerFieldsOf(res: RelayHttp2Response): OutgoingHttpHeaders {
  if (headersKey === undefined) {
    const key = Object.getOwnPropertySymbols(res).find((symbol) => symbol.description === 'headers');
    const fields: unknown = key && (res as unknown as Record<symbol, unknown>)[key];
    headersKey = fields && typeof fields === 'object' && Object.getPrototypeOf(fields) === null ? key! : null;
  }
  return headersKey ? ((res as unknown as Record<symbol, OutgoingHttpHeaders>)[headersKey] ?? res.getHeaders()) : res.getHeaders();
}

/** True when Node's begin-send step is the known one: its own header fields, status from the state, respond with endStream, waitForTrailers and sendDate only. */
function knownBeginSend(step: unknown): boolean {
  if (typeof step !== 'function') return false;
  const source = Function.prototype.toString.call(step).replace(/\s+/g, ' ');
  const options = /const options = \{([^}]*)\}/
    .exec(source)?.[1]
    .split(',')
    .map((field) => field.trim())
    .filter(Boolean);
  return (
    JSON.stringify(options) === JSON.stringify(['endStream: state.ending', 'waitForTrailers: true', 'sendDate: state.sendDate']) &&
    source.includes('const headers = this[kHeaders];') &&
    source.includes('headers[HTTP2_HEADER_STATUS] = state.statusCode;') &&
    source.includes('.respond(headers, options);')
  );
}

if (BEGIN_SEND && knownBeginSend((http2.Http2ServerResponse.prototype as unknown as Record<symbol, unknown>)[BEGIN_SEND])) {
  Object.defineProperty(RelayHttp2Response.prototype, BEGIN_SEND, {
    value(this: RelayHttp2Response): void {
      const headers = headerFieldsOf(this);
      headers[':status'] = this.statusCode;
      // sendDate: respond's option for the Date header, which its type does not declare.
      const options: http2.ServerStreamResponseOptions & { sendDate: boolean } = { endStream: this.writableEnded, sendDate: this.sendDate };
      this.stream.respond(headers, options);
    },
  });
}
