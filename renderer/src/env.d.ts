/// <reference types="vite/client" />
import type { RelayDeckClient } from '../../shared/api.js';

declare global {
  interface Window {
    /** The operator API exposed by the Electron preload (electron/desktop/preload.ts); absent in a browser. */
    readonly relaydeck?: RelayDeckClient;
  }
}
