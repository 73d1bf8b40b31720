/**
 * What one HLS request asks a node for, and under which cache key: the node URL (its query
 * as upstream-query.ts keys it: never arbitrary viewer parameters), plus any Range. The request headers are the viewer's, less every
 * header that would make the node's answer unfit for the other viewers sharing the fetch.
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { NodeConfig, RouteConfig } from '../../../../shared/config.js';
import { upstreamRequestHeaders } from '../headers.js';
import type { UpstreamTransport } from '../../upstream/transport.js';
import type { RouteTable } from '../../routing/route-table.js';
import { nodeEndpoint } from '../../routing/target.js';
import type { FetchSpec } from './fetch.js';
import { HLS_BLOCKING_HEADER_TIMEOUT_MS } from './hint.js';

/** Request headers never sent on a shared fetch: its answer must suit every viewer (Range is keyed and set again). */
const UNSHARED_HEADERS = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'range',
  'accept-encoding',
  'cache-control',
  'pragma',
];
/** Longest Range header that is passed on (and keyed), characters. */
const MAX_RANGE_CHARS = 200;

/** The request as the handler holds it. */
export interface SpecRequest {
  req: IncomingMessage;
  route: RouteConfig;
  table: RouteTable;
  /** The query sent to the node (upstream-query.ts). */
  upstreamQuery: string;
  /** The part of it the fetch is keyed by. */
  keyQuery: string;
}

/** What the handler worked out about the request, the same on every node it tries. */
export interface SpecShape {
  /** The path on the node (the route prefix stripped when the route says so). */
  pathOnNode: string;
  isPlaylist: boolean;
  /** An LL-HLS blocking reload (waits longer for the node's headers). */
  blocking: boolean;
  streamId?: string;
  clientAddress: string;
}

/** What to ask `node` for this request, and under which cache key. */
export function fetchSpec(request: SpecRequest, node: NodeConfig, shape: SpecShape, transport: UpstreamTransport): FetchSpec {
  const { req, route, table, upstreamQuery, keyQuery } = request;
  const relay = table.config.relay;
  const endpoint = nodeEndpoint(node);
  const range = rangeOf(req);
  return {
    key: `${endpoint.origin}${endpoint.basePath}${shape.pathOnNode}${keyQuery}${range ? `\nrange=${range}` : ''}`,
    kind: shape.isPlaylist ? 'playlist' : 'segment',
    endpoint,
    nodeId: node.id,
    path: endpoint.basePath + shape.pathOnNode + upstreamQuery,
    headers: () => sharedFetchHeaders(req, endpoint.host, shape.clientAddress, range),
    timeouts: shape.blocking ? { ...relay, headerTimeoutMs: Math.max(relay.headerTimeoutMs, HLS_BLOCKING_HEADER_TIMEOUT_MS) } : relay,
    transport,
    playlistMaxBytes: table.config.hls.playlistMaxBytes,
    objectMaxBytes: table.config.hls.segmentMaxBytes,
    streamId: shape.streamId,
    routeId: route.id,
  };
}

/** A single Range header, when short enough to key on. */
function rangeOf(req: IncomingMessage): string | undefined {
  const range = req.headers.range;
  return typeof range === 'string' && range.length <= MAX_RANGE_CHARS ? range : undefined;
}

function sharedFetchHeaders(req: IncomingMessage, nodeHost: string, address: string, range: string | undefined): OutgoingHttpHeaders {
  const headers = upstreamRequestHeaders(req.headers, { clientAddress: address, protocol: 'http', originalHost: req.headers.host, nodeHost });
  for (const name of UNSHARED_HEADERS) delete headers[name];
  headers['accept-encoding'] = 'identity';
  if (range) headers.range = range;
  return headers;
}
