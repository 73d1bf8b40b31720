/** A small bounded JSON-over-HTTP client for node APIs: timeout, size cap, never hangs. */
import http from 'node:http';
import https from 'node:https';

/** Largest node API answer read, bytes. */
export const NODE_API_MAX_BYTES = 4 * 1_048_576;

export interface JsonRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  timeoutMs: number;
}

export interface HttpAnswer {
  status: number;
  json: unknown;
}

export function requestJson(url: URL, request: JsonRequest): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const lib = url.protocol === 'https:' ? https : http;
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'RelayDeck', ...(request.headers ?? {}) };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = lib.request(url, { method: request.method ?? 'GET', headers, agent: false, timeout: request.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > NODE_API_MAX_BYTES) req.destroy(new Error(`answer larger than ${NODE_API_MAX_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** HEAD a URL; resolves with the status (0 on failure). */
export function headStatus(url: URL, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const lib = url.protocol === 'https:' ? https : http;
    const req = lib.request(url, { method: 'HEAD', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'RelayDeck probe' } }, (res) => {
      res.resume();
      req.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}
