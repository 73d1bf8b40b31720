/**
 * The pushed half of the operator contract: events the engine sends to every subscribed
 * UI, over SSE on the admin port (`GET /api/events`, bearer token in the Authorization
 * header) and over Electron IPC (one fixed channel, `IPC_EVENT_CHANNEL`, exposed by the
 * preload as a single `onEvent(listener)`).
 *
 * Every event is a throttled snapshot or a bounded batch, sent at most once per
 * `EVENT_INTERVAL_MS`; nothing is sent per chunk or per request.
 */
import type {
  HistoryPointDto,
  HlsCacheDto,
  HlsStreamDto,
  NodeDto,
  RelayStateDto,
  RequestLogEntry,
  RouteDto,
  SavingsDto,
  SessionDto,
  StatsDto,
  StreamDto,
} from './dto.js';

/** How often the engine publishes `snapshot` and `traffic` events, in ms. */
export const EVENT_INTERVAL_MS = 1_000;

/** Path of the SSE event stream on the admin port (same bearer token as the API). */
export const EVENTS_PATH = '/api/events';

/** The one IPC channel main uses to push events to the window (main → renderer only). */
export const IPC_EVENT_CHANNEL = 'relaydeck:event';

/** Most live sessions carried by one `traffic` event; `liveTotal` tells how many there were. */
export const EVENT_MAX_LIVE_SESSIONS = 2_000;

/** The whole live state once per second: totals, streams, nodes, relay state, the new history point. */
export interface SnapshotEvent {
  type: 'snapshot';
  /** Epoch ms when the snapshot was taken. */
  at: number;
  stats: StatsDto;
  /** Live FLV fan-out streams. */
  streams: StreamDto[];
  /** HLS streams seen recently, with their cache figures. */
  hlsStreams: HlsStreamDto[];
  hlsCache: HlsCacheDto;
  nodes: NodeDto[];
  relay: RelayStateDto;
  savings: SavingsDto;
  /** Requests in flight on the relay port now (viewers and proxied requests). */
  sessions: number;
  /** The 1 s history point that closed with this snapshot. */
  point: HistoryPointDto;
  /** Present when a 1 min history point closed with this snapshot. */
  minutePoint?: HistoryPointDto;
}

/** The request log since the previous traffic event, and the requests in flight now. */
export interface TrafficEvent {
  type: 'traffic';
  at: number;
  /** Requests that finished since the last traffic event, oldest first. */
  finished: RequestLogEntry[];
  /** Requests in flight now with their bytes so far (at most EVENT_MAX_LIVE_SESSIONS). */
  live: SessionDto[];
  /** How many requests were in flight (live may be cut short). */
  liveTotal: number;
  /**
   * True when the engine's bounded log (relay.requestLogEntries) rolled over between two
   * events, so some finished requests were never sent.
   */
  gap: boolean;
}

/** Routes or nodes changed (any transport, or a file reload): UIs refresh what they show. */
export interface ConfigEvent {
  type: 'config';
  at: number;
  routes: RouteDto[];
  nodes: NodeDto[];
}

/** A node changed status (up, down, draining, disabled), pushed when it happens (not throttled: rare). */
export interface NodeStatusEvent {
  type: 'node';
  at: number;
  nodeId: string;
  from: NodeDto['status'];
  to: NodeDto['status'];
  /** Why, in words ("3 check(s) failed: ECONNREFUSED", "configuration changed", ...). */
  reason: string;
  node: NodeDto;
}

/** Every event the engine pushes. */
export type RelayDeckEvent = SnapshotEvent | TrafficEvent | ConfigEvent | NodeStatusEvent;

export type RelayDeckEventType = RelayDeckEvent['type'];

export const EVENT_TYPES: readonly RelayDeckEventType[] = ['snapshot', 'traffic', 'config', 'node'];

export type RelayDeckEventListener = (event: RelayDeckEvent) => void;

/** What a client offers to receive events: `onEvent` returns the function that unsubscribes. */
export interface RelayDeckEventSource {
  onEvent(listener: RelayDeckEventListener): () => void;
}

/** True when `value` looks like one of our events (the type is known; fields are trusted from our own engine). */
export function isRelayDeckEvent(value: unknown): value is RelayDeckEvent {
  const type = (value as { type?: unknown } | null)?.type;
  return typeof value === 'object' && value !== null && EVENT_TYPES.includes(type as RelayDeckEventType);
}
