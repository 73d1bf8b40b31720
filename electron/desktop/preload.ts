/**
 * The preload: exposes `window.relaydeck`, one method per operator call in `API_CALL_NAMES`,
 * each invoking that call's own channel, plus `onEvent(listener)`, the one subscription to
 * the events main pushes on IPC_EVENT_CHANNEL. Nothing raw crosses the bridge: no
 * `ipcRenderer`, no generic invoke or send, no channel names chosen by the page, and the
 * listener gets the event data only (never Electron's IPC event object).
 *
 * The window is sandboxed, so this file cannot `require` local files at run time; it is
 * bundled with esbuild into ONE CommonJS file, dist/electron/desktop/preload.cjs
 * (build/build-preload.mjs), where only `electron` stays external. tsc type-checks it
 * with the rest of the Node project; its tsc output (preload.js) is not used or packaged.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_CALL_NAMES, ipcChannel, type ApiError, type RelayDeckClient } from '../../shared/api.js';
import { IPC_EVENT_CHANNEL, isRelayDeckEvent, type RelayDeckEventListener } from '../../shared/events.js';
import { unwrapIpcResult } from './ipc-result.js';

/** The name of the API on `window`. The renderer declares the same name in renderer/src/env.d.ts. */
const BRIDGE_KEY = 'relaydeck';

/** Most listeners the page may add at once (each is one ipcRenderer listener). */
const MAX_EVENT_LISTENERS = 32;

function buildCalls(api: Record<string, unknown>): void {
  for (const name of API_CALL_NAMES) {
    const channel = ipcChannel(name);
    // Electron's contextBridge re-creates a thrown Error in the page with its message only,
    // so the rejection is a plain object with every field; renderer/src/transport.ts turns
    // it back into an ApiError.
    api[name] = async (input?: unknown) => {
      try {
        return unwrapIpcResult(await ipcRenderer.invoke(channel, input ?? {}));
      } catch (error) {
        const { code, message, status } = error as ApiError;
        return Promise.reject({ name: 'ApiError', code, message, status });
      }
    };
  }
}

/** `onEvent(listener)`: listen on the one event channel; returns the unsubscribe function. */
function buildOnEvent(): (listener: RelayDeckEventListener) => () => void {
  let count = 0;
  return (listener) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent: listener must be a function');
    if (count >= MAX_EVENT_LISTENERS) throw new Error(`onEvent: at most ${MAX_EVENT_LISTENERS} listeners`);
    const handler = (_event: IpcRendererEvent, payload: unknown) => {
      if (isRelayDeckEvent(payload)) listener(payload);
    };
    ipcRenderer.on(IPC_EVENT_CHANNEL, handler);
    count += 1;
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      count -= 1;
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, handler);
    };
  };
}

function buildBridgeApi(): RelayDeckClient {
  const api: Record<string, unknown> = {};
  buildCalls(api);
  api.onEvent = buildOnEvent();
  return api as unknown as RelayDeckClient;
}

contextBridge.exposeInMainWorld(BRIDGE_KEY, buildBridgeApi());
