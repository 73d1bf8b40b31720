/**
 * Who may call the operator API over IPC: only a top-level frame showing a page of our own
 * origin, app://relaydeck (desktop/app-protocol.ts), which serves the built renderer and
 * nothing else. Every IPC handler checks the sender with `isTrustedSender` before it
 * touches the engine, so an iframe, or a page that somehow got loaded despite the refused
 * navigations, cannot drive the relay. Pure functions: nothing from `electron` at runtime.
 */
import type { IpcMainInvokeEvent } from 'electron';

/** What the check needs to know about the frame that sent a message. */
export interface SenderFacts {
  /** The sending frame's URL; undefined when the frame is gone (navigated or destroyed). */
  url: string | undefined;
  /** True for the top-level frame of its window, false for iframes. */
  isMainFrame: boolean;
}

/** Read the facts from an Electron invoke event (structurally typed, so tests need no Electron). */
export function senderFacts(event: Pick<IpcMainInvokeEvent, 'senderFrame'>): SenderFacts {
  const frame = event.senderFrame;
  if (!frame) return { url: undefined, isMainFrame: false };
  return { url: frame.url, isMainFrame: frame.parent === null };
}

/**
 * `scheme://host` of a URL, or undefined when it has none (file:, data:, about:, opaque URLs,
 * or credentials in the URL). WHATWG `URL.origin` is "null" for custom schemes, hence this.
 */
function originOf(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (!url.host || url.username || url.password) return undefined;
  // Chromium lowercases hosts of standard schemes; WHATWG URL keeps a custom scheme's host as written.
  return `${url.protocol}//${url.host.toLowerCase()}`;
}

/**
 * True when the sender is a top-level frame of `trustedOrigin` (e.g. "app://relaydeck").
 * file:// can never be trusted: it has no host, so every local file would share one "origin".
 */
export function isTrustedSender(sender: SenderFacts, trustedOrigin: string): boolean {
  if (!sender.isMainFrame || !sender.url) return false;
  const expected = originOf(trustedOrigin);
  return expected !== undefined && originOf(sender.url) === expected;
}
