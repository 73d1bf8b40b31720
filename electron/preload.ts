/**
 * The preload: exposes `window.relaydeck`, one method per operator call in `API_CALL_NAMES`,
 * each invoking that call's own channel. Nothing raw crosses the bridge: no `ipcRenderer`,
 * no generic invoke, no channel names chosen by the page.
 *
 * The window is sandboxed, so this file cannot `require` local files at run time; it is
 * bundled with esbuild into ONE CommonJS file, dist/electron/preload.cjs
 * (build/build-preload.mjs), where only `electron` stays external. tsc type-checks it
 * with the rest of the Node project; its tsc output (preload.js) is not used or packaged.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { API_CALL_NAMES, ipcChannel, type ApiError, type RelayDeckApi } from '../shared/api.js';
import { unwrapIpcResult } from './desktop/ipc-result.js';

/** The name of the API on `window`. The renderer declares the same name in renderer/src/env.d.ts. */
const BRIDGE_KEY = 'relaydeck';

function buildBridgeApi(): RelayDeckApi {
  const api: Record<string, (input?: unknown) => Promise<unknown>> = {};
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
  return api as unknown as RelayDeckApi;
}

contextBridge.exposeInMainWorld(BRIDGE_KEY, buildBridgeApi());
