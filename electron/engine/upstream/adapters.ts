/**
 * Stream-list adapters: ask a media node which live streams it holds, through its own API.
 * Each returns stream keys ("app/name"). Supported: node-media-server v4 (JWT login, then
 * /api/v1/streams), SRS (/api/v1/streams/), MediaMTX (/v3/paths/list), ZLMediaKit
 * (/index/api/getMediaList), a parent RelayDeck relay (/api/tier/streams on its admin port:
 * relay tiers). The "head" probe asks per stream instead (HEAD the stream URL).
 */
import type { NodeApiConfig, NodeConfig } from '../../../shared/config.js';
import { headStatus, requestJson } from './http-json.js';
import type { UpstreamTransport } from './transport.js';

/** A node API answer that could not be used. */
export class NodeApiError extends Error {}

type ListFn = (base: URL, api: NodeApiConfig, timeoutMs: number, nodeId: string, transport: UpstreamTransport) => Promise<Set<string>>;

function apiBase(node: NodeConfig): URL {
  const base = node.api?.url ?? node.url;
  return new URL(base.endsWith('/') ? base : `${base}/`);
}

function asArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new NodeApiError(`${what}: expected a list`);
  return value;
}

function field(record: unknown, name: string): unknown {
  return typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[name] : undefined;
}

/** node-media-server v4 tokens per node (one login reused until it is refused). */
const nmsTokens = new Map<string, string>();

async function nmsLogin(base: URL, api: NodeApiConfig, timeoutMs: number, nodeId: string, transport: UpstreamTransport): Promise<string> {
  const answer = await requestJson(new URL('api/v1/login', base), {
    method: 'POST',
    body: { username: api.username, password: api.password },
    timeoutMs,
    transport,
  });
  const token = field(field(answer.json, 'data'), 'token');
  if (answer.status !== 200 || typeof token !== 'string') throw new NodeApiError(`node-media-server login failed (HTTP ${answer.status})`);
  nmsTokens.set(nodeId, token);
  return token;
}

const listNms: ListFn = async (base, api, timeoutMs, nodeId, transport) => {
  let token = nmsTokens.get(nodeId) ?? (await nmsLogin(base, api, timeoutMs, nodeId, transport));
  let answer = await requestJson(new URL('api/v1/streams', base), { headers: { authorization: `Bearer ${token}` }, timeoutMs, transport });
  if (answer.status === 401) {
    token = await nmsLogin(base, api, timeoutMs, nodeId, transport);
    answer = await requestJson(new URL('api/v1/streams', base), { headers: { authorization: `Bearer ${token}` }, timeoutMs, transport });
  }
  if (answer.status !== 200) throw new NodeApiError(`node-media-server streams: HTTP ${answer.status}`);
  const keys = new Set<string>();
  for (const stream of asArray(field(field(answer.json, 'data'), 'streams'), 'node-media-server streams')) {
    if (field(stream, 'status') === 'publishing') keys.add(`${field(stream, 'app')}/${field(stream, 'name')}`);
  }
  return keys;
};

const listSrs: ListFn = async (base, _api, timeoutMs, _nodeId, transport) => {
  const answer = await requestJson(new URL('api/v1/streams/?count=1000', base), { timeoutMs, transport });
  if (answer.status !== 200) throw new NodeApiError(`SRS streams: HTTP ${answer.status}`);
  const keys = new Set<string>();
  for (const stream of asArray(field(answer.json, 'streams'), 'SRS streams')) {
    const active = field(field(stream, 'publish'), 'active');
    if (active !== false) keys.add(`${field(stream, 'app')}/${field(stream, 'name')}`);
  }
  return keys;
};

const listMediaMtx: ListFn = async (base, _api, timeoutMs, _nodeId, transport) => {
  const answer = await requestJson(new URL('v3/paths/list?itemsPerPage=1000', base), { timeoutMs, transport });
  if (answer.status !== 200) throw new NodeApiError(`MediaMTX paths: HTTP ${answer.status}`);
  const keys = new Set<string>();
  for (const path of asArray(field(answer.json, 'items'), 'MediaMTX paths')) {
    if (field(path, 'ready') === true) keys.add(String(field(path, 'name')));
  }
  return keys;
};

const listZlm: ListFn = async (base, api, timeoutMs, _nodeId, transport) => {
  const url = new URL('index/api/getMediaList', base);
  if (api.secret) url.searchParams.set('secret', api.secret);
  const answer = await requestJson(url, { timeoutMs, transport });
  if (answer.status !== 200 || field(answer.json, 'code') !== 0)
    throw new NodeApiError(`ZLMediaKit media list: HTTP ${answer.status}, code ${String(field(answer.json, 'code'))}`);
  const keys = new Set<string>();
  for (const media of asArray(field(answer.json, 'data') ?? [], 'ZLMediaKit media')) keys.add(`${field(media, 'app')}/${field(media, 'stream')}`);
  return keys;
};

/**
 * A parent relay (relay tiers): its listTierStreams answer (GET /api/tier/streams on its admin
 * port, `api.url`, with its admin token, `api.token`): the keys it serves or knows its own
 * nodes hold, as this relay computes them for the paths it asks the parent for.
 */
const listRelayDeck: ListFn = async (base, api, timeoutMs, nodeId, transport) => {
  if (!api.url) throw new NodeApiError(`node ${nodeId}: nodes[].api.url must be the parent relay's admin URL for api type "relaydeck"`);
  const headers: Record<string, string> = api.token ? { authorization: `Bearer ${api.token}` } : {};
  const answer = await requestJson(new URL('api/tier/streams', base), { headers, timeoutMs, transport });
  if (answer.status === 401 || answer.status === 429)
    throw new NodeApiError(`node ${nodeId}: the parent relay refused nodes[].api.token (HTTP ${answer.status})`);
  if (answer.status !== 200) throw new NodeApiError(`parent relay tier streams: HTTP ${answer.status}`);
  const keys = new Set<string>();
  for (const key of asArray(field(answer.json, 'keys'), 'parent relay tier streams')) if (typeof key === 'string') keys.add(key);
  return keys;
};

const LISTERS: Record<Exclude<NodeApiConfig['type'], 'head'>, ListFn> = {
  nms: listNms,
  srs: listSrs,
  mediamtx: listMediaMtx,
  zlm: listZlm,
  relaydeck: listRelayDeck,
};

/** True when the node has a stream-list API (not the per-stream HEAD probe). */
export function canListStreams(node: NodeConfig): boolean {
  return node.api !== undefined && node.api.type !== 'head';
}

/** The node's live stream keys, through its API. */
export async function listStreams(node: NodeConfig, timeoutMs: number, transport: UpstreamTransport): Promise<Set<string>> {
  if (!node.api || node.api.type === 'head') throw new NodeApiError(`node ${node.id} has no stream-list API`);
  return LISTERS[node.api.type](apiBase(node), node.api, timeoutMs, node.id, transport);
}

/** Whether the node serves `nodePath` (HEAD, 2xx = yes). Used for nodes without a list API. */
export async function holdsByHead(node: NodeConfig, nodePathWithQuery: string, timeoutMs: number, transport: UpstreamTransport): Promise<boolean> {
  const base = node.url.endsWith('/') ? node.url.slice(0, -1) : node.url;
  const status = await headStatus(new URL(base + nodePathWithQuery), timeoutMs, transport);
  return status >= 200 && status < 300;
}
