/**
 * The ticker's view of a running relay: the same API calls the UI makes (so a field added
 * to a DTO shows up in the events too), plus the live session count and the relay state.
 * Built from the operator API and two functions, never from the engine itself.
 */
import type { RelayDeckApi } from '../../../shared/api.js';
import type { RelayStateDto } from '../../../shared/dto.js';
import type { LiveSources } from './ticker.js';

/** The API calls the ticker reads. */
export type TickerApi = Pick<
  RelayDeckApi,
  'getStats' | 'listStreams' | 'listHlsStreams' | 'getHlsCache' | 'listNodes' | 'listRoutes' | 'listSessions' | 'listRequestLog'
>;

/** What the ticker reads besides the API (synchronous, read every tick). */
export interface LiveCounters {
  /** Requests in flight now. */
  sessionCount(): number;
  relayState(): RelayStateDto;
}

export function engineSources(api: TickerApi, counters: LiveCounters): LiveSources {
  return {
    stats: () => api.getStats({}),
    streams: () => api.listStreams({}),
    hlsStreams: () => api.listHlsStreams({}),
    hlsCache: () => api.getHlsCache({}),
    nodes: () => api.listNodes({}),
    routes: () => api.listRoutes({}),
    sessions: () => api.listSessions({}),
    sessionCount: () => counters.sessionCount(),
    requestLog: () => api.listRequestLog({}),
    relayState: () => counters.relayState(),
  };
}
