/**
 * One POST of JSON to an operator's webhook (routes[].auth.webhook): the whole call (connect,
 * TLS, answer) within a deadline, the answer read up to WEBHOOK_MAX_ANSWER_BYTES, certificates
 * of https:// URLs verified unless webhooks.verifyTls is off. Webhooks are the operator's own
 * services, not nodes, so they do not go through the upstream transport; each origin keeps a
 * small keep-alive pool (WebhookAgents) so a burst of viewers does not open a connection each.
 */
import http from 'node:http';
import https from 'node:https';

/** Largest webhook answer read, bytes; a longer one is a failed call. */
export const WEBHOOK_MAX_ANSWER_BYTES = 65_536;
/** Most origins with a keep-alive pool at once (the least recently used pool is closed past it). */
export const MAX_WEBHOOK_ORIGINS = 256;

/** A webhook's answer: its status and body text (empty when it sent none). */
export interface WebhookAnswer {
  status: number;
  body: string;
}

export interface WebhookPost {
  url: URL;
  body: unknown;
  /** Sent as `Authorization: Bearer <token>` when set. */
  token?: string;
  /** The whole call, ms. */
  timeoutMs: number;
  verifyTls: boolean;
  /** Calls in flight to this origin at most (its pool's socket bound). */
  maxSockets: number;
}

/** Keep-alive agents per origin and TLS choice, bounded by MAX_WEBHOOK_ORIGINS. */
export class WebhookAgents {
  private readonly agents = new Map<string, http.Agent>();

  agentFor(url: URL, verifyTls: boolean, maxSockets: number): http.Agent {
    const key = `${url.origin}|${verifyTls}|${maxSockets}`;
    let agent = this.agents.get(key);
    if (agent) {
      this.agents.delete(key);
      this.agents.set(key, agent);
      return agent;
    }
    const options = { keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 16) };
    agent = url.protocol === 'https:' ? new https.Agent({ ...options, rejectUnauthorized: verifyTls }) : new http.Agent(options);
    this.agents.set(key, agent);
    if (this.agents.size > MAX_WEBHOOK_ORIGINS) {
      const [oldestKey, oldest] = this.agents.entries().next().value as [string, http.Agent];
      this.agents.delete(oldestKey);
      oldest.destroy();
    }
    return agent;
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

/** POST `body` as JSON; resolves with the answer, rejects with an Error saying what failed (timeout, connection, size). */
export function postJson(agents: WebhookAgents, post: WebhookPost): Promise<WebhookAnswer> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(post.body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
      accept: 'application/json',
      'user-agent': 'RelayDeck',
    };
    if (post.token) headers.authorization = `Bearer ${post.token}`;
    const send = post.url.protocol === 'https:' ? https.request : http.request;
    const req = send(post.url, { method: 'POST', headers, agent: agents.agentFor(post.url, post.verifyTls, post.maxSockets) });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${post.timeoutMs} ms`)), post.timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    req.on('error', fail);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > WEBHOOK_MAX_ANSWER_BYTES) req.destroy(new Error(`answer larger than ${WEBHOOK_MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end(payload);
  });
}
