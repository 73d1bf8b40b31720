/**
 * Plain data objects that cross a process boundary (IPC, HTTP, the browser).
 * No classes, no functions: each survives structured clone and JSON.
 */
import type { NodeConfig, RouteConfig, RouteMode } from './config.js';

/** The JSON error body every transport returns: `{ "error": { "code", "message" } }`. */
export interface ErrorBody {
  error: {
    /** Stable machine code, e.g. NO_ROUTE, BAD_CONFIG. */
    code: string;
    /** Human text; for validation errors it starts with the field path. */
    message: string;
  };
}

/** A request in flight on the relay port. */
export interface SessionDto {
  id: string;
  routeId: string;
  mode: RouteMode;
  method: string;
  /** Request path without the query (the query may carry credentials). */
  path: string;
  nodeId: string;
  clientAddress: string;
  userAgent: string;
  /** Epoch ms when the request arrived. */
  startedAt: number;
  /** Bytes read from the node so far. */
  bytesIn: number;
  /** Bytes written to the viewer so far. */
  bytesOut: number;
  /** Upstream status once known, else 0. */
  status: number;
  /** FLV fan-out viewers: the stream this viewer watches. */
  streamId?: string;
  /** FLV fan-out viewers: ms from request to the first byte written (headers). */
  firstByteMs?: number;
  /** FLV fan-out viewers: ms from request to the first keyframe written. */
  firstKeyframeMs?: number;
  /** FLV fan-out viewers: frames (tags) dropped because the viewer fell behind. */
  framesDropped?: number;
  /** FLV fan-out viewers: bytes waiting in the relay for the viewer's socket (bounded by flv.viewerQueueMaxBytes). */
  queuedBytes?: number;
}

/** A finished request, as kept in the bounded request log. */
export interface RequestLogEntry extends SessionDto {
  /** Status logged for the request: 499 when the viewer left first. */
  status: number;
  /** Error code when the relay produced or logged an error. */
  errorCode?: string;
  durationMs: number;
}

/** Counters for one route (or the totals over all routes). */
export interface RouteStatsDto {
  requests: number;
  redirects: number;
  proxied: number;
  /** Bytes read from nodes. */
  bytesIn: number;
  /** Bytes written to viewers. */
  bytesOut: number;
  /** Errors by code, e.g. { "DIAL": 2, "CLIENT_CLOSED": 5 }. */
  errors: Record<string, number>;
  /** Proxied requests in flight now. */
  active: number;
}

export interface StatsDto {
  /** Epoch ms when the engine started. */
  startedAt: number;
  totals: RouteStatsDto;
  routes: Record<string, RouteStatsDto>;
}

/** A node as the API shows it: its configuration plus live state. */
export interface NodeDto extends NodeConfig {
  /** Proxied requests to this node in flight now. */
  activeSessions: number;
}

export type RouteDto = RouteConfig;

/** Addresses the servers really listen on (ports resolved when configured as 0). */
export interface ServerInfoDto {
  relayUrl: string;
  adminUrl: string;
  version: string;
  startedAt: number;
}

/** A live FLV stream shared by its viewers (one upstream pull). */
export interface StreamDto {
  /** Stable id: route id + upstream path, e.g. "live:/live/cam1.flv". */
  id: string;
  routeId: string;
  /** Upstream path (with query) requested from the node. */
  path: string;
  /** Node currently pulled from ("" while none). */
  nodeId: string;
  /** "connecting", "live", "reconnecting" or "closing". */
  state: string;
  viewers: number;
  /** Upstream bitrate over the last few seconds, kbit/s. */
  bitrateKbps: number;
  bytesIn: number;
  bytesOut: number;
  videoCodec: string;
  audioCodec: string;
  width: number;
  height: number;
  /** Frames per second (metadata, else measured). */
  fps: number;
  /** Frames between the last two keyframes. */
  gopFrames: number;
  /** ms between the last two keyframes. */
  gopMs: number;
  /** Upstream connections opened over the stream's life, and open now (0 or 1). */
  upstreamOpened: number;
  upstreamOpen: number;
  reconnects: number;
  framesDropped: number;
  gopCacheBytes: number;
  startedAt: number;
}
