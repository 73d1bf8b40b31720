/**
 * Everything a page needs from the engine: the API client, the live store (snapshot,
 * routes, history) and the traffic store, loaded once and kept current by the pushed
 * events (SSE in a browser, IPC in the desktop app). Pages read with `useLive()` and
 * `useTraffic()`; neither re-renders a page that does not use it.
 */
import { createContext, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from 'react';
import type { ApiError, RelayDeckClient } from '../../../shared/api.js';
import type { ServerInfoDto } from '../../../shared/dto.js';
import type { RelayDeckEvent } from '../../../shared/events.js';
import { reloadOnConflict } from '../fleet-errors.js';
import { asApiError } from '../transport.js';
import { LiveStore, type LiveState } from './live-store.js';
import { TrafficStore } from './traffic-store.js';

/** Most events held while the first load is in flight (two per second arrive). */
const MAX_HELD_EVENTS = 64;

/** "ipc" in the desktop app, "http" in a browser. */
export type TransportKind = 'ipc' | 'http';

export interface LiveContextValue {
  api: RelayDeckClient;
  transport: TransportKind;
  live: LiveStore;
  traffic: TrafficStore;
}

const Context = createContext<LiveContextValue | undefined>(undefined);

export function useLiveContext(): LiveContextValue {
  const value = useContext(Context);
  if (!value) throw new Error('useLiveContext outside <LiveProvider>');
  return value;
}

export function useApi(): RelayDeckClient {
  return useLiveContext().api;
}

/** The live state; re-renders on every snapshot or config event. */
export function useLive(): LiveState {
  const { live } = useLiveContext();
  useSyncExternalStore(live.subscribe, live.getVersion);
  return live.getState();
}

/** The traffic store and its version (changes on every traffic event). */
export function useTraffic(): { traffic: TrafficStore; version: number } {
  const { traffic } = useLiveContext();
  const version = useSyncExternalStore(traffic.subscribe, traffic.getVersion);
  return { traffic, version };
}

/** Load everything once, then follow the events. */
async function initialLoad(api: RelayDeckClient, live: LiveStore, traffic: TrafficStore, info: ServerInfoDto): Promise<void> {
  const [stats, streams, hlsStreams, hlsCache, nodes, routes, relay, history, log, sessions, settings] = await Promise.all([
    api.getStats({}),
    api.listStreams({}),
    api.listHlsStreams({}),
    api.getHlsCache({}),
    api.listNodes({}),
    api.listRoutes({}),
    api.getRelayState({}),
    api.getHistory({}),
    api.listRequestLog({}),
    api.listSessions({}),
    api.getSettings({}),
  ]);
  traffic.resize(settings.app.trafficLogEntries);
  traffic.load(log, sessions);
  live.load({ info, stats, streams, hlsStreams, hlsCache, nodes, routes, relay, history, sessions: sessions.length, updatedAt: Date.now() });
}

/**
 * Fleet mode: a change refused because another relay changed the shared config first
 * reloads the routes and nodes (as a config event would), so the operator retries on them.
 */
async function reloadConfig(api: RelayDeckClient, live: LiveStore): Promise<void> {
  const [routes, nodes] = await Promise.all([api.listRoutes({}), api.listNodes({})]);
  live.apply({ type: 'config', at: Date.now(), routes, nodes });
}

export interface LiveProviderProps {
  api: RelayDeckClient;
  transport: TransportKind;
  children: ReactNode;
  /** Called when the first load fails (e.g. 401: ask for the token again). */
  onLoadError: (error: ApiError) => void;
}

export function LiveProvider({ api, transport, children, onLoadError }: LiveProviderProps) {
  const value = useMemo<LiveContextValue>(() => {
    const live = new LiveStore();
    return { api: reloadOnConflict(api, () => reloadConfig(api, live)), transport, live, traffic: new TrafficStore() };
  }, [api, transport]);
  const [ready, setReady] = useState(false);

  useEffect(() => {
    let cancelled = false;
    // Events that arrive before the first load are held (a few seconds' worth at most) and
    // applied after it, so the traffic log stays in order.
    let held: RelayDeckEvent[] | undefined = [];
    const apply = (event: RelayDeckEvent) => {
      if (event.type === 'traffic') value.traffic.apply(event);
      else value.live.apply(event);
    };
    let unsubscribe = () => {};
    const load = async () => {
      // One call first: a wrong token then costs one refused request, not one per call
      // (the admin port limits failed logins per address).
      const info = await api.getServerInfo({});
      if (cancelled) return;
      unsubscribe = api.onEvent((event) => {
        if (!held) apply(event);
        else if (held.length < MAX_HELD_EVENTS) held.push(event);
      });
      await initialLoad(api, value.live, value.traffic, info);
    };
    load().then(
      () => {
        const pending = held ?? [];
        held = undefined;
        pending.forEach(apply);
        value.traffic.settled();
        if (!cancelled) setReady(true);
      },
      (error: unknown) => !cancelled && onLoadError(asApiError(error)),
    );
    return () => {
      cancelled = true;
      unsubscribe();
    };
  }, [api, value, onLoadError]);

  if (!ready) return <p className="loading">Connecting to the engine…</p>;
  return <Context.Provider value={value}>{children}</Context.Provider>;
}
