/**
 * What closing the main window does. With app.closeToTray on (the default) and a tray
 * icon present, the window hides and the relay keeps running; quitting from the tray or
 * the app menu really closes it. Without a tray (some Linux desktops have none) closing
 * the window closes it, and the app quits with its last window as before.
 */
export interface CloseFacts {
  /** The app.closeToTray setting. */
  closeToTray: boolean;
  /** True once a real quit has started (tray "Quit", Cmd+Q, a signal). */
  quitting: boolean;
  /** True when a tray icon exists to bring the window back. */
  hasTray: boolean;
}

export type CloseAction = 'hide' | 'close';

export function closeAction(facts: CloseFacts): CloseAction {
  return facts.closeToTray && facts.hasTray && !facts.quitting ? 'hide' : 'close';
}
