/**
 * The ticker's view of a running engine: the same API calls the UI makes (so a field
 * added to a DTO shows up in the events too), plus the live session count.
 */
import type { Engine } from '../engine.js';
import type { LiveSources } from './ticker.js';

export function engineSources(engine: Engine): LiveSources {
  return {
    stats: () => engine.api.getStats({}),
    streams: () => engine.api.listStreams({}),
    hlsStreams: () => engine.api.listHlsStreams({}),
    hlsCache: () => engine.api.getHlsCache({}),
    nodes: () => engine.api.listNodes({}),
    routes: () => engine.api.listRoutes({}),
    sessions: () => engine.api.listSessions({}),
    sessionCount: () => engine.sessions.size,
    requestLog: () => engine.api.listRequestLog({}),
    relayState: () => engine.relayState(),
  };
}
