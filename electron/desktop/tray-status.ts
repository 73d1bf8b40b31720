/**
 * What the tray shows: a one-line live status (streams, viewers, Mbit/s out) in the
 * tooltip (and as the title next to the icon on macOS), and a menu to show the window,
 * pause or resume the relay, and quit. Pure functions of the latest snapshot, so they are
 * tested under plain Node; electron/desktop/main.ts applies them to the real Tray.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { SnapshotEvent } from '../../shared/events.js';

export interface TrayStatus {
  /** Tooltip text, e.g. "RelayDeck: 2 streams, 14 viewers, 3.2 Mbit/s out". */
  tooltip: string;
  /** Short text next to the icon (macOS only), e.g. "14 · 3.2 Mbit/s". */
  title: string;
}

/** bytes in one second → "3.2 Mbit/s" (one decimal below 100). */
export function formatMbps(bytesPerSecond: number): string {
  const mbps = (bytesPerSecond * 8) / 1_000_000;
  return `${mbps < 100 ? mbps.toFixed(1) : Math.round(mbps)} Mbit/s`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The status for the latest snapshot (undefined before the first one). */
export function trayStatus(snapshot: SnapshotEvent | undefined, paused: boolean): TrayStatus {
  const state = paused ? ' (paused)' : '';
  if (!snapshot) return { tooltip: `RelayDeck${state}: starting`, title: '' };
  const rate = formatMbps(snapshot.point.bytesOut);
  return {
    tooltip: `RelayDeck${state}: ${plural(snapshot.streams.length, 'stream')}, ${plural(snapshot.sessions, 'viewer')}, ${rate} out`,
    title: `${paused ? '⏸ ' : ''}${snapshot.sessions} · ${rate}`,
  };
}

export interface TrayActions {
  show: () => void;
  pause: () => void;
  resume: () => void;
  quit: () => void;
}

/**
 * The tray menu: show, pause or resume, quit. The live numbers stay in the tooltip: the
 * menu is rebuilt only when pause changes (rebuilding it every second flickers on Linux).
 */
export function trayMenuTemplate(paused: boolean, actions: TrayActions): MenuItemConstructorOptions[] {
  return [
    { label: 'Show RelayDeck', click: actions.show },
    paused ? { label: 'Resume relay', click: actions.resume } : { label: 'Pause relay (new requests get 503)', click: actions.pause },
    { type: 'separator' },
    { label: 'Quit RelayDeck', click: actions.quit },
  ];
}
