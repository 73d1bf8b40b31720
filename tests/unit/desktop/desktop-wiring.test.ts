/**
 * The main-process wiring that is not Electron itself, with fakes: events reach the window
 * on the one fixed channel only while it shows our page; the tray's status line and menu;
 * what closing the window does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IPC_EVENT_CHANNEL, type RelayDeckEvent, type RelayDeckEventListener, type SnapshotEvent } from '../../../shared/events.js';
import { APP_ORIGIN, APP_PAGE_URL } from '../../../electron/desktop/app-protocol.js';
import { closeAction } from '../../../electron/desktop/close-policy.js';
import { forwardEvents, type EventReceiver } from '../../../electron/desktop/event-forwarder.js';
import { formatMbps, trayMenuTemplate, trayStatus } from '../../../electron/desktop/tray-status.js';
import { statsOf } from '../../helpers/stats.js';

class FakeFeed {
  listeners = new Set<RelayDeckEventListener>();
  subscribe(listener: RelayDeckEventListener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: RelayDeckEvent) {
    this.listeners.forEach((l) => l(event));
  }
}

class FakeContents implements EventReceiver {
  sent: [string, RelayDeckEvent][] = [];
  constructor(
    public url: string,
    public destroyed = false,
  ) {}
  isDestroyed() {
    return this.destroyed;
  }
  getURL() {
    return this.url;
  }
  send(channel: string, payload: RelayDeckEvent) {
    this.sent.push([channel, payload]);
  }
}

const configEvent: RelayDeckEvent = { type: 'config', at: 1, routes: [], nodes: [] };

test('events go to our page on the one fixed channel', () => {
  const feed = new FakeFeed();
  const contents = new FakeContents(APP_PAGE_URL);
  forwardEvents(feed, () => contents, APP_ORIGIN);
  feed.emit(configEvent);
  assert.deepEqual(contents.sent, [[IPC_EVENT_CHANNEL, configEvent]]);
});

test('no events to a window that shows another page, is destroyed, or is gone', () => {
  const feed = new FakeFeed();
  let current: FakeContents | undefined;
  forwardEvents(feed, () => current, APP_ORIGIN);
  for (const url of ['https://evil.example/', 'file:///tmp/index.html', 'app://evil/index.html', 'http://127.0.0.1:8091/']) {
    current = new FakeContents(url);
    feed.emit(configEvent);
    assert.deepEqual(current.sent, [], url);
  }
  current = new FakeContents(APP_PAGE_URL, true);
  feed.emit(configEvent);
  assert.deepEqual(current.sent, []);
  current = undefined;
  assert.doesNotThrow(() => feed.emit(configEvent));
});

test('unsubscribing stops the forwarding', () => {
  const feed = new FakeFeed();
  const contents = new FakeContents(APP_PAGE_URL);
  const off = forwardEvents(feed, () => contents, APP_ORIGIN);
  off();
  feed.emit(configEvent);
  assert.equal(feed.listeners.size, 0);
  assert.deepEqual(contents.sent, []);
});

function snapshot(streams: number, sessions: number, bytesOut: number): SnapshotEvent {
  return {
    type: 'snapshot',
    at: 0,
    stats: statsOf(),
    streams: Array.from({ length: streams }) as SnapshotEvent['streams'],
    hlsStreams: [],
    hlsCache: {} as SnapshotEvent['hlsCache'],
    nodes: [],
    relay: { paused: false, demo: null, restartNeeded: false },
    savings: { bytes: 0, redirects: 0, unestimatedRedirects: 0, meanProxiedBytes: { flv: 0, hls: 0, file: 0 }, samples: { flv: 0, hls: 0, file: 0 } },
    sessions,
    point: { t: 0, bytesIn: 0, bytesOut, requests: 0, redirects: 0, errors: 0, viewers: sessions, streams, pulls: 0, savedBytes: 0 },
  };
}

test('tray status: streams, viewers and Mbit/s out, and whether the relay is paused', () => {
  assert.deepEqual(trayStatus(undefined, false), { tooltip: 'RelayDeck: starting', title: '' });
  assert.equal(trayStatus(snapshot(2, 14, 400_000), false).tooltip, 'RelayDeck: 2 streams, 14 viewers, 3.2 Mbit/s out');
  assert.equal(trayStatus(snapshot(1, 1, 0), true).tooltip, 'RelayDeck (paused): 1 stream, 1 viewer, 0.0 Mbit/s out');
  assert.equal(trayStatus(snapshot(1, 1, 0), true).title, '⏸ 1 · 0.0 Mbit/s');
  assert.equal(formatMbps(125_000_000), '1000 Mbit/s');
});

test('tray menu: show, pause or resume (never both), quit; each item runs its action', () => {
  const done: string[] = [];
  const actions = { show: () => done.push('show'), pause: () => done.push('pause'), resume: () => done.push('resume'), quit: () => done.push('quit') };
  const running = trayMenuTemplate(false, actions);
  assert.deepEqual(
    running.map((i) => i.label ?? i.type),
    ['Show RelayDeck', 'Pause relay (new requests get 503)', 'separator', 'Quit RelayDeck'],
  );
  const paused = trayMenuTemplate(true, actions);
  assert.deepEqual(
    paused.map((i) => i.label ?? i.type),
    ['Show RelayDeck', 'Resume relay', 'separator', 'Quit RelayDeck'],
  );
  for (const item of [...running, ...paused]) (item.click as (() => void) | undefined)?.();
  assert.deepEqual(done, ['show', 'pause', 'quit', 'show', 'resume', 'quit']);
});

test('closing the window hides it only with closeToTray on, a tray present, and no quit under way', () => {
  assert.equal(closeAction({ closeToTray: true, hasTray: true, quitting: false }), 'hide');
  assert.equal(closeAction({ closeToTray: false, hasTray: true, quitting: false }), 'close');
  assert.equal(closeAction({ closeToTray: true, hasTray: false, quitting: false }), 'close', 'no tray to come back from');
  assert.equal(closeAction({ closeToTray: true, hasTray: true, quitting: true }), 'close', 'quit really quits');
});
