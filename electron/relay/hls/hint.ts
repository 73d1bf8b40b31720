/**
 * The relay's own query parameter in the URIs it writes into playlists. It says which
 * stream a child request belongs to (for per-stream stats) and which node served the
 * playlist that listed it, so a stream's segments go to the node of its playlist even
 * when the locator would choose per request ("least-load") or cannot place a segment path
 * ("probe", "static" on the segment's own stream key). The node is named by its id, never
 * its address. The parameter is removed before anything is sent to a node.
 *
 * Value: `<stream id>.<node id>`; the stream id is base64url (no "."), node ids never
 * hold "~", and both are URL-safe as they are.
 */
import { createHash } from 'node:crypto';
import { HLS_HINT_PARAM } from '../../../shared/config.js';
import { queryValue } from './query.js';

export { HLS_HINT_PARAM };

/** LL-HLS blocking playlist reload parameters (RFC 8216bis §6.2.5.2): such requests pass uncached. */
export const HLS_BLOCKING_PARAMS: readonly string[] = ['_HLS_msn', '_HLS_part'];
/**
 * A node may hold an LL-HLS blocking reload for up to three target durations before it
 * answers (RFC 8216bis §6.2.5.2): such a request waits at least this long for the node's
 * response headers, whatever relay.headerTimeoutMs says, in ms.
 */
export const HLS_BLOCKING_HEADER_TIMEOUT_MS = 30_000;

export interface StreamHint {
  streamId: string;
  nodeId: string;
}

const STREAM_ID = /^[A-Za-z0-9_-]{1,32}$/;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The opaque id of a stream: route id + stream key, hashed (URL-safe, fixed length). */
export function hlsStreamId(routeId: string, streamKey: string): string {
  return createHash('sha256').update(`${routeId}\n${streamKey}`).digest('base64url').slice(0, 12);
}

/** The hint as a raw query piece. */
export function hintPiece(hint: StreamHint): string {
  return `${HLS_HINT_PARAM}=${hint.streamId}.${hint.nodeId}`;
}

/** The hint of a request query, when present and well formed (a forged one is only a wish). */
export function readHint(query: string): StreamHint | undefined {
  const value = query ? queryValue(query, HLS_HINT_PARAM) : undefined;
  if (!value) return undefined;
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  const streamId = value.slice(0, dot);
  const nodeId = value.slice(dot + 1);
  return STREAM_ID.test(streamId) && NODE_ID.test(nodeId) ? { streamId, nodeId } : undefined;
}
