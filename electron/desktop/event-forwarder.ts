/**
 * Engine events to the window: main subscribes once to the engine's ticker and sends each
 * event on the one fixed channel (IPC_EVENT_CHANNEL) to the main window, and only while
 * that window shows our own page (app://relaydeck): a window that somehow navigated
 * elsewhere gets nothing. Structurally typed, so it is tested under plain Node.
 */
import { IPC_EVENT_CHANNEL, type RelayDeckEvent, type RelayDeckEventListener } from '../../shared/events.js';
import { isTrustedSender } from './sender-check.js';

/** The part of Electron's WebContents this needs. */
export interface EventReceiver {
  isDestroyed(): boolean;
  getURL(): string;
  send(channel: string, payload: RelayDeckEvent): void;
}

export interface EventFeed {
  subscribe(listener: RelayDeckEventListener): () => void;
}

/** Forward every event to `receiver()` while it shows `trustedOrigin`; returns the unsubscribe function. */
export function forwardEvents(feed: EventFeed, receiver: () => EventReceiver | undefined, trustedOrigin: string): () => void {
  return feed.subscribe((event) => {
    const target = receiver();
    if (!target || target.isDestroyed()) return;
    if (!isTrustedSender({ url: target.getURL(), isMainFrame: true }, trustedOrigin)) return;
    target.send(IPC_EVENT_CHANNEL, event);
  });
}
