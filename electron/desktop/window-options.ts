/**
 * The main window's options, kept apart from electron/desktop/main.ts so the security flags can be
 * checked under plain Node (this file imports nothing from `electron` at runtime).
 * Every flag follows Electron's security checklist; none may be relaxed for convenience.
 */
import type { BrowserWindowConstructorOptions } from 'electron';

/** Initial window size, in CSS pixels. */
export const MAIN_WINDOW_WIDTH_PX = 1_200;
export const MAIN_WINDOW_HEIGHT_PX = 800;
/** Smallest window size the operator page is laid out for, in CSS pixels. */
export const MAIN_WINDOW_MIN_WIDTH_PX = 720;
export const MAIN_WINDOW_MIN_HEIGHT_PX = 480;

export interface MainWindowInput {
  /** Absolute path of the bundled preload (dist/electron/desktop/preload.cjs). */
  preloadPath: string;
}

export function mainWindowOptions(input: MainWindowInput): BrowserWindowConstructorOptions {
  return {
    title: 'RelayDeck',
    width: MAIN_WINDOW_WIDTH_PX,
    height: MAIN_WINDOW_HEIGHT_PX,
    minWidth: MAIN_WINDOW_MIN_WIDTH_PX,
    minHeight: MAIN_WINDOW_MIN_HEIGHT_PX,
    /** Shown on 'ready-to-show', so no blank frame flashes. */
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: input.preloadPath,
      /** The preload runs in its own world; the page sees only what contextBridge exposes. */
      contextIsolation: true,
      /** The renderer (and the preload) run in Chromium's OS sandbox without Node. */
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      /** No <webview>: it would be a second, unchecked page. */
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}
