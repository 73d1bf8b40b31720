/**
 * The live picture of the engine in the page: the latest snapshot (totals, streams, nodes,
 * relay state, savings), the routes, and the throughput history. Loaded once through API
 * calls, then kept current by pushed events; history points are appended to fixed-size
 * columns (the engine's own capacities), so a long session does not grow memory.
 */
import type {
  HistoryDto,
  HistoryPointDto,
  HistorySeriesDto,
  HlsCacheDto,
  HlsStreamDto,
  NodeDto,
  RelayStateDto,
  RouteDto,
  SavingsDto,
  ServerInfoDto,
  StatsDto,
  StreamDto,
} from '../../../shared/dto.js';
import type { RelayDeckEvent, SnapshotEvent } from '../../../shared/events.js';
import { ExternalStore } from './external-store.js';

export interface LiveState {
  info?: ServerInfoDto;
  stats?: StatsDto;
  streams: StreamDto[];
  hlsStreams: HlsStreamDto[];
  hlsCache?: HlsCacheDto;
  nodes: NodeDto[];
  routes: RouteDto[];
  relay?: RelayStateDto;
  savings?: SavingsDto;
  /** Requests in flight now. */
  sessions: number;
  history?: HistoryDto;
  /** The newest second point (its counts are per second: a rate). */
  lastPoint?: HistoryPointDto;
  /** Epoch ms of the last snapshot. */
  updatedAt: number;
  /** Bumped on every config event (pages reload what they show). */
  configVersion: number;
}

const FIELDS = ['t', 'bytesIn', 'bytesOut', 'requests', 'redirects', 'errors', 'viewers', 'streams', 'pulls', 'savedBytes'] as const;

/** A copy of `series` with `point` appended and the oldest point dropped past the capacity. */
export function appendPoint(series: HistorySeriesDto, point: HistoryPointDto): HistorySeriesDto {
  const next = { stepMs: series.stepMs, capacity: series.capacity } as HistorySeriesDto;
  const drop = series.t.length + 1 > series.capacity ? series.t.length + 1 - series.capacity : 0;
  for (const field of FIELDS) {
    const column = series[field].slice(drop);
    column.push(point[field]);
    next[field] = column;
  }
  return next;
}

export class LiveStore extends ExternalStore {
  private state: LiveState = { streams: [], hlsStreams: [], nodes: [], routes: [], sessions: 0, updatedAt: 0, configVersion: 0 };

  readonly getState = (): LiveState => this.state;

  /** Merge in what the initial API calls returned. */
  load(partial: Partial<LiveState>): void {
    this.state = { ...this.state, ...partial };
    this.changed();
  }

  apply(event: RelayDeckEvent): void {
    if (event.type === 'snapshot') this.applySnapshot(event);
    else if (event.type === 'config') {
      this.state = { ...this.state, routes: event.routes, nodes: event.nodes, configVersion: this.state.configVersion + 1 };
      this.changed();
    }
  }

  private applySnapshot(event: SnapshotEvent): void {
    let history = this.state.history;
    if (history) {
      history = {
        seconds: appendPoint(history.seconds, event.point),
        minutes: event.minutePoint ? appendPoint(history.minutes, event.minutePoint) : history.minutes,
      };
    }
    this.state = {
      ...this.state,
      stats: event.stats,
      streams: event.streams,
      hlsStreams: event.hlsStreams,
      hlsCache: event.hlsCache,
      nodes: event.nodes,
      relay: event.relay,
      savings: event.savings,
      sessions: event.sessions,
      history,
      lastPoint: event.point,
      updatedAt: event.at,
    };
    this.changed();
  }

  /** A local change the API answered (pause, remove demo) shown before the next snapshot. */
  setRelay(relay: RelayStateDto): void {
    this.state = { ...this.state, relay };
    this.changed();
  }

  setRoutes(routes: RouteDto[]): void {
    this.state = { ...this.state, routes };
    this.changed();
  }

  setNodes(nodes: NodeDto[]): void {
    this.state = { ...this.state, nodes };
    this.changed();
  }
}
