/**
 * The relay's own query parameter in the URIs it writes into playlists. It says which
 * stream a child request belongs to (for per-stream stats) and which node served the
 * playlist that listed it, so a stream's segments go to the node of its playlist even
 * when the locator would choose per request ("least-load") or cannot place a segment path
 * ("probe", "static" on the segment's own stream key). The node is named by its id, never
 * its address. The parameter is removed before anything is sent to a node.
 *
 * Value: `<stream id>.<node id>`, or `<stream id>.<node id>~<mac>` when the node wrote a
 * query of its own on the URI (a segment token: `seg1.ts?t=abc`). The MAC (HMAC-SHA256
 * under a random key of this process, truncated) covers the node id, the relay path and
 * those node pieces; a request whose hint verifies sends exactly them to the node, any
 * other request sends only its route's streamParams (upstream-query.ts), so a viewer cannot
 * invent node queries, nor move the node's query of one URI onto another (say a segment's
 * token onto its playlist, which would make one playlist fetch per token). A template build
 * computes one MAC per URI that has node pieces (about 2 us each). After a restart old MACs fail until the player's next playlist
 * reload. The stream id is base64url (no "."), node ids never hold "~", and all three are
 * URL-safe as they are.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { HmacSha256 } from './hmac-sha256.js';
import { queryValue } from './query.js';

/** The hint's query parameter name. The config refuses it in hls.carryParams (HLS_RESERVED_PARAMS in shared/config/hls.ts). */
export const HLS_HINT_PARAM = '_rdh';

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
  /** The MAC over the node's own query pieces, when the URI had any. */
  mac?: string;
}

/** Characters of the truncated, base64url MAC (96 bits). */
export const HINT_MAC_CHARS = 16;
/** Key of the hint MACs: random per process, never stored or shown. */
const MAC_KEY = randomBytes(32);
/** HMAC-SHA256 under MAC_KEY, its key states computed once (hmac-sha256.ts: a build signs thousands of URIs). */
const HINT_HMAC = new HmacSha256(MAC_KEY);
const MAC = /^[A-Za-z0-9_-]{16}$/;

const STREAM_ID = /^[A-Za-z0-9_-]{1,32}$/;
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The opaque id of a stream: route id + stream key, hashed (URL-safe, fixed length). */
export function hlsStreamId(routeId: string, streamKey: string): string {
  return createHash('sha256').update(`${routeId}\n${streamKey}`).digest('base64url').slice(0, 12);
}

/** The MAC of the node pieces a relay URI at `path` on node `nodeId` carries. */
export function hintMac(nodeId: string, path: string, nodePieces: readonly string[]): string {
  // The first 12 bytes are the first 16 base64url characters (HINT_MAC_CHARS).
  return HINT_HMAC.mac(`${nodeId}\n${path}\n${nodePieces.join('&')}`).toString('base64url', 0, (HINT_MAC_CHARS * 3) / 4);
}

/** Whether `hint` vouches for `nodePieces` on a request for `path`. */
export function hintVouches(hint: StreamHint, path: string, nodePieces: readonly string[]): boolean {
  if (!hint.mac) return false;
  return timingSafeEqual(Buffer.from(hint.mac), Buffer.from(hintMac(hint.nodeId, path, nodePieces)));
}

/** The hint as a raw query piece. */
export function hintPiece(hint: StreamHint): string {
  return `${HLS_HINT_PARAM}=${hint.streamId}.${hint.nodeId}${hint.mac ? `~${hint.mac}` : ''}`;
}

/** The hint of a request query, when present and well formed (a forged one is only a wish). */
export function readHint(query: string): StreamHint | undefined {
  const value = query ? queryValue(query, HLS_HINT_PARAM) : undefined;
  if (!value) return undefined;
  const dot = value.indexOf('.');
  if (dot < 0) return undefined;
  const streamId = value.slice(0, dot);
  const tilde = value.indexOf('~', dot);
  const nodeId = tilde < 0 ? value.slice(dot + 1) : value.slice(dot + 1, tilde);
  const mac = tilde < 0 ? undefined : value.slice(tilde + 1);
  if (!STREAM_ID.test(streamId) || !NODE_ID.test(nodeId)) return undefined;
  return mac !== undefined && MAC.test(mac) ? { streamId, nodeId, mac } : { streamId, nodeId };
}
