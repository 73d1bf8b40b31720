/**
 * What the operator API (admin/api-service.ts) needs from a running relay, and nothing
 * more: small interfaces grouped by concern, as MediaMTX's api package depends on
 * `defs.APIPathManager` rather than on its core. The engine implements them by delegating
 * to its parts; unit tests implement them with plain objects (no sockets, no processes).
 * The API validates every input before it calls any of these.
 */
import type { NodeConfig, RelayDeckConfig, TlsCertificateConfig } from '../../../shared/config.js';
import type { HistoryDto, HlsCacheDto, HlsStreamDto, NodeDto, RequestLogEntry, SessionDto, StatsDto, StreamDto, TlsStatusDto } from '../../../shared/dto.js';
import type { FleetDto, LogRecordsDto, LogsStatusDto, TierStreamsDto } from '../../../shared/dto.js';
import type { RecordQuery } from '../logs/record-query.js';
import type { ResolveContext } from './resolve.js';

/** Where the servers listen, as started, and since when. */
export interface ServerInfo {
  /** Base URL of the relay port (empty before it listens). */
  relayUrl(): string;
  /** Base URL of the admin port (empty before it listens). */
  adminUrl(): string;
  /** Epoch ms when the counters started. */
  startedAt(): number;
}

/** The running config and the one way to change it. */
export interface ConfigAccess {
  /** The config in force now. */
  current(): RelayDeckConfig;
  /**
   * The config transaction: `edit` changes a copy, which is validated whole, saved and then
   * swapped in; it resolves to the new config. When `edit` throws or the draft is invalid,
   * it rejects and the running config is unchanged.
   */
  change(edit: (draft: RelayDeckConfig) => void): Promise<RelayDeckConfig>;
  /** True when a saved host or port differs from what the servers were started with. */
  restartNeeded(): boolean;
}

/** The relay-wide switches an operator flips. */
export interface RelayControls {
  /** True while new requests are refused with 503; requests in flight continue. */
  isPaused(): boolean;
  setPaused(paused: boolean): void;
  /** Take the built-in demo node and its routes out of the config. */
  removeDemo(): Promise<void>;
}

/** Upstream nodes with their live state. */
export interface NodeViews {
  /** `nodes` (all configured nodes when omitted) with live health, traffic and streams. */
  list(nodes?: readonly NodeConfig[]): NodeDto[];
}

/** Requests in flight and the bounded log of finished ones. */
export interface SessionControls {
  list(): SessionDto[];
  /** Finished requests, oldest first. */
  recent(): RequestLogEntry[];
  /** End the request `id` with `reason`; false when no such request is in flight. */
  kick(id: string, reason: string): boolean;
}

/** Live FLV fan-out streams and HLS through the relay. */
export interface StreamControls {
  listFlv(): StreamDto[];
  /** End one live FLV stream, its viewers included (an unknown id is ignored). */
  closeFlv(id: string): void;
  listHls(): HlsStreamDto[];
  hlsCache(): HlsCacheDto;
  /** Relay tiers: the stream keys this relay can serve to a relay below it (admin/tier-streams.ts). */
  tierStreams(): TierStreamsDto;
}

/** Counters and their history. */
export interface TrafficFigures {
  stats(): StatsDto;
  history(): HistoryDto;
}

/** Route lookup as the relay server does it, for the "where would this URL go?" check. */
export interface RouteLookup {
  /** The running table, its locator, and a match that ignores a pause (the check reports the pause itself). */
  lookup(): Omit<ResolveContext, 'paused'>;
}

/** The HTTPS listener and its certificates. */
export interface TlsControls {
  status(): TlsStatusDto;
  /** Throws BAD_CONFIG naming the first certificate of the list whose files do not load (checked before a settings change is saved). */
  verify(certificates: readonly TlsCertificateConfig[]): Promise<void>;
  /** Read the certificate files again now (a change is also picked up every tls.reloadCheckMs). */
  reload(): Promise<TlsStatusDto>;
  /** Order the ACME certificate now (CONFLICT when ACME is off); a failure shows in the status' acme.lastError, the certificate in use stays. */
  renew(): Promise<TlsStatusDto>;
}

/** The access log and session records on disk (logs/log-book.ts). */
export interface LogControls {
  /** Where the files are written and their counters (written, dropped, queued, rotations, errors). */
  status(): LogsStatusDto;
  /** A page of past records, newest first, across the rotated files (the query validated by the API). */
  read(query: RecordQuery): Promise<LogRecordsDto>;
}

/** The fleet this relay belongs to (fleet/): relays, streams across them, the Redis link. */
export interface FleetView {
  /** The fleet as this relay sees it now; `enabled` false when it runs alone. */
  describe(): Promise<FleetDto>;
}

/** Everything the operator API calls, by concern. */
export interface ApiOperations {
  server: ServerInfo;
  config: ConfigAccess;
  relay: RelayControls;
  nodes: NodeViews;
  sessions: SessionControls;
  streams: StreamControls;
  traffic: TrafficFigures;
  routing: RouteLookup;
  tls: TlsControls;
  logs: LogControls;
  fleet: FleetView;
}
