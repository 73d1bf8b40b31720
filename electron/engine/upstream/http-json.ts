/** A small bounded JSON-over-HTTP client for node APIs, on the upstream transport: its timeouts, a size cap, never hangs. */
import { RelayError } from '../core/errors.js';
import { addressOf, pathOf, type UpstreamResponse, type UpstreamTransport } from './transport.js';

/** Largest node API answer read, bytes. */
export const NODE_API_MAX_BYTES = 4 * 1_048_576;

export interface JsonRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Each of connect, response headers and the body's silence, ms. */
  timeoutMs: number;
  /** Aborting it ends the request at once (rejected with CLIENT_CLOSED). */
  signal?: AbortSignal;
  /** The engine's upstream transport (upstream/transport.ts). */
  transport: UpstreamTransport;
}

export interface HttpAnswer {
  status: number;
  json: unknown;
}

/** Every clock of a one-off request to a node at `timeoutMs` (node API calls, probes, health checks). */
export function oneTimeout(timeoutMs: number): { connectTimeoutMs: number; headerTimeoutMs: number; idleStreamTimeoutMs: number } {
  return { connectTimeoutMs: timeoutMs, headerTimeoutMs: timeoutMs, idleStreamTimeoutMs: timeoutMs };
}

export function requestJson(url: URL, request: JsonRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'RelayDeck', ...(request.headers ?? {}) };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    let answer: UpstreamResponse | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const call = request.transport.request(
      {
        to: addressOf(url),
        path: pathOf(url),
        method: request.method ?? 'GET',
        headers,
        timeouts: oneTimeout(request.timeoutMs),
        pooled: false,
        signal: request.signal,
        body: payload,
      },
      {
        onResponse: (response) => {
          answer = response;
          response.body.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= NODE_API_MAX_BYTES) chunks.push(chunk);
            else {
              const error = new RelayError('UPSTREAM_PROTOCOL', `answer larger than ${NODE_API_MAX_BYTES} bytes`);
              call.abort(error);
              reject(error);
            }
          });
        },
        onEnd: (error) => {
          if (error || !answer) reject(error ?? new RelayError('INTERNAL', 'the node API call ended without an answer'));
          else resolve({ status: answer.status, json: parseJson(Buffer.concat(chunks).toString('utf8')) });
        },
      },
    );
  });
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** HEAD a URL; resolves with the status (0 on failure). */
export function headStatus(url: URL, timeoutMs: number, transport: UpstreamTransport): Promise<number> {
  return new Promise((resolve) => {
    const call = transport.request(
      { to: addressOf(url), path: pathOf(url), method: 'HEAD', headers: { 'user-agent': 'RelayDeck probe' }, timeouts: oneTimeout(timeoutMs), pooled: false },
      {
        onResponse: (response) => {
          call.abort();
          resolve(response.status);
        },
        onEnd: () => resolve(0),
      },
    );
  });
}
