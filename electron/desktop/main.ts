/**
 * The Electron main process: one instance per user, the engine started from the per-user
 * config, one sandboxed window showing the built operator page, and the operator API over
 * IPC. This file and the preload are the only ones that import `electron`.
 *
 * Live status goes to a tray icon (streams, viewers, Mbit/s) with a menu to show the window,
 * pause or resume the relay, and quit; with app.closeToTray on, closing the window hides it
 * and the relay keeps running. Engine events reach the window on one fixed IPC channel
 * (desktop/event-forwarder.ts). Quitting stops the engine once, letting streams end
 * within relay.shutdownGraceMs.
 *
 * The page is served from disk on app://relaydeck/ (desktop/app-protocol.ts), not from the
 * admin URL: it then talks to the engine through IPC only, with no admin token to type or
 * keep in the renderer, and it does not depend on the admin port. Not from file:// either:
 * Electron's checklist advises against it (file:// pages get extra privileges, which are
 * also the only reason module scripts load from file:// at all; Chromium refuses them).
 * The protocol handler sends the same CSP header as the admin port; the <meta> CSP in
 * renderer/index.html applies on top.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, protocol, session, Tray, type IpcMainInvokeEvent } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reloadOnSighup } from '../engine/config/reload.js';
import { loadOrCreateConfig } from '../engine/config/store.js';
import { APP_ORIGIN, APP_PAGE_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, createAppProtocolHandler } from './app-protocol.js';
import { closeAction } from './close-policy.js';
import { forwardEvents } from './event-forwarder.js';
import { isTrustedSender, senderFacts } from './sender-check.js';
import { TRAY_ICON_DATA_URL } from './tray-icon.js';
import { trayMenuTemplate, trayStatus } from './tray-status.js';
import { mainWindowOptions } from './window-options.js';
import type { SnapshotEvent } from '../../shared/events.js';
import { Engine } from '../engine/engine.js';
import { registerIpcHandlers } from './ipc.js';
import { createLogger } from '../engine/core/log.js';
import { tuneV8 } from '../engine/core/v8-tuning.js';

const log = createLogger('desktop');
const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The bundled preload (build/build-preload.mjs). */
const PRELOAD_PATH = path.join(HERE, 'preload.cjs');
/** The built renderer (vite → dist/renderer), served on app://relaydeck/ and on the admin port. */
const UI_DIR = path.resolve(HERE, '..', '..', 'renderer');

let engine: Engine | undefined;
let mainWindow: BrowserWindow | undefined;
let removeIpcHandlers: (() => void) | undefined;
let tray: Tray | undefined;
/** Set once a real quit starts: from then on closing the window closes it. */
let quitting = false;
/** Unsubscribe functions of the engine event listeners (window forwarder, tray). */
const unsubscribers: (() => void)[] = [];

/**
 * userData is <appData>/RelayDeck (or RELAYDECK_HOME), the folder `relaydeck serve` uses too
 * (electron/engine/config/store.ts userDataDir()), so desktop and headless share one config.
 * Set before the single-instance lock, which lives in userData.
 */
function setUserDataPath(): void {
  app.setName('RelayDeck');
  const home = process.env.RELAYDECK_HOME;
  app.setPath('userData', home ? path.resolve(home) : path.join(app.getPath('appData'), 'RelayDeck'));
}

/** Refuse navigation, new windows and <webview> in every web contents, ours included. */
function hardenAllWebContents(): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event) => {
      log.warn(`refused navigation to ${event.url}`);
      event.preventDefault();
    });
    contents.on('will-frame-navigate', (event) => {
      if (!event.isMainFrame) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      log.warn(`refused to open a window for ${url}`);
      return { action: 'deny' };
    });
  });
  // The operator page needs no camera, notifications, clipboard reads, ... It may write the
  // clipboard (the Settings page's "copy token"), and only our own page may.
  const allowed = (permission: string, origin: string | undefined) => permission === 'clipboard-sanitized-write' && origin === APP_ORIGIN;
  session.defaultSession.setPermissionRequestHandler((contents, permission, callback) => callback(allowed(permission, originOf(contents.getURL()))));
  session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) => allowed(permission, originOf(requestingOrigin)));
}

function originOf(url: string): string | undefined {
  return isTrustedSender({ url, isMainFrame: true }, APP_ORIGIN) ? APP_ORIGIN : undefined;
}

function isTrusted(event: IpcMainInvokeEvent): boolean {
  return isTrustedSender(senderFacts(event), APP_ORIGIN);
}

function createMainWindow(): BrowserWindow {
  const window = new BrowserWindow(mainWindowOptions({ preloadPath: PRELOAD_PATH }));
  window.once('ready-to-show', () => window.show());
  // Show the window even when the page fails, so the failure is visible rather than silent.
  window.webContents.once('did-fail-load', () => window.show());
  window.on('close', (event) => {
    const closeToTray = engine?.config.app.closeToTray ?? false;
    if (closeAction({ closeToTray, quitting, hasTray: tray !== undefined }) === 'hide') {
      event.preventDefault();
      window.hide();
    }
  });
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  window.loadURL(APP_PAGE_URL).catch((error: Error) => log.error(`cannot load ${APP_PAGE_URL}: ${error.message}`));
  return window;
}

function focusMainWindow(): void {
  if (!mainWindow) {
    mainWindow = createMainWindow();
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  if (!mainWindow.isVisible()) mainWindow.show();
  mainWindow.focus();
}

/**
 * The tray icon with live status and its menu. Some Linux desktops have no tray: then
 * there is none, and closing the window quits as it did before.
 */
function createTray(running: Engine): void {
  try {
    tray = new Tray(nativeImage.createFromDataURL(TRAY_ICON_DATA_URL));
  } catch (error) {
    log.warn(`no tray icon: ${(error as Error).message}`);
    return;
  }
  const actions = {
    show: focusMainWindow,
    pause: () => refreshTray(running.setPaused(true).paused),
    resume: () => refreshTray(running.setPaused(false).paused),
    quit: () => app.quit(),
  };
  let last: SnapshotEvent | undefined;
  let menuPaused: boolean | undefined;
  const refreshTray = (paused: boolean) => {
    if (!tray || tray.isDestroyed()) return;
    const status = trayStatus(last, paused);
    tray.setToolTip(status.tooltip);
    if (process.platform === 'darwin') tray.setTitle(status.title);
    // The menu is rebuilt only when its items change, not every second.
    if (menuPaused !== paused) {
      menuPaused = paused;
      tray.setContextMenu(Menu.buildFromTemplate(trayMenuTemplate(paused, actions)));
    }
  };
  tray.on('click', focusMainWindow);
  refreshTray(running.paused);
  unsubscribers.push(
    running.ticker.subscribe((event) => {
      if (event.type !== 'snapshot') return;
      last = event;
      refreshTray(event.relay.paused);
    }),
  );
}

async function startEngine(): Promise<Engine> {
  tuneV8();
  const configPath = path.join(app.getPath('userData'), 'config.json');
  const { config, written } = await loadOrCreateConfig(configPath);
  if (written) log.info(`wrote ${configPath} (admin token generated)`);
  const started = await Engine.start({ config, configPath, uiDir: UI_DIR });
  log.info(`relay listening on ${started.relayUrl}; admin API and UI on ${started.adminUrl}`);
  // SIGHUP (forwarded by `npm start`'s launcher) reloads the config file, as in `relaydeck serve`.
  unsubscribers.push(reloadOnSighup(started, configPath, log.child('config')));
  return started;
}

/** Stop the engine once before quitting; later quit requests go straight through. */
function stopEngineOnQuit(): void {
  let stopped = false;
  app.on('will-quit', (event) => {
    if (stopped || !engine) return;
    event.preventDefault();
    removeIpcHandlers?.();
    for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
    tray?.destroy();
    tray = undefined;
    const running = engine;
    engine = undefined;
    running
      .stop()
      .catch((error: Error) => log.error(`engine stop failed: ${error.message}`))
      .finally(() => {
        stopped = true;
        app.quit();
      });
  });
  app.on('before-quit', () => {
    quitting = true;
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
}

async function run(): Promise<void> {
  await app.whenReady();
  hardenAllWebContents();
  protocol.handle(
    APP_SCHEME,
    createAppProtocolHandler(UI_DIR, () => engine?.previewSources()),
  );
  try {
    engine = await startEngine();
  } catch (error) {
    const message = (error as Error).message;
    log.error(`cannot start: ${message}`);
    dialog.showErrorBox('RelayDeck cannot start', message);
    app.exit(1);
    return;
  }
  removeIpcHandlers = registerIpcHandlers({ ipcMain, api: engine.api, isTrusted, log: log.child('ipc'), audit: engine.audit });
  unsubscribers.push(forwardEvents(engine.ticker, () => mainWindow?.webContents, APP_ORIGIN));
  mainWindow = createMainWindow();
  createTray(engine);
  app.on('second-instance', focusMainWindow);
  app.on('activate', focusMainWindow);
}

setUserDataPath();
// Must happen before 'ready'.
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
if (!app.requestSingleInstanceLock()) {
  // Another RelayDeck owns the ports and the config; it focuses its window ('second-instance').
  app.quit();
} else {
  stopEngineOnQuit();
  // macOS keeps the app (and the relay) running with no window, as its apps do; elsewhere
  // the tray does (app.closeToTray), and without a tray the last window quits.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin' && !(tray && engine?.config.app.closeToTray)) app.quit();
  });
  run().catch((error: Error) => {
    log.error(`startup failed: ${error.stack ?? error.message}`);
    app.exit(1);
  });
}
