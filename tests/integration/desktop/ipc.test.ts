/**
 * The IPC handlers as registered by electron/desktop/ipc.ts, driven under plain Node: `ipcMain` is a
 * recorder (it keeps the handler per channel), the engine is real, and invoke events carry
 * a `senderFrame` like Electron's. What real Electron adds (delivery, structured clone) is
 * not exercised here; the answers are checked to survive structuredClone.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { IpcMainInvokeEvent } from 'electron';
import { API_CALL_NAMES, ipcChannel } from '../../../shared/api.js';
import type { SettingsDto } from '../../../shared/dto.js';
import { APP_ORIGIN, APP_PAGE_URL } from '../../../electron/desktop/app-protocol.js';
import { isTrustedSender, senderFacts } from '../../../electron/desktop/sender-check.js';
import type { IpcResult } from '../../../electron/desktop/ipc-result.js';
import type { Engine } from '../../../electron/engine/engine.js';
import { registerIpcHandlers } from '../../../electron/desktop/ipc.js';
import { createLogger } from '../../../electron/engine/core/log.js';
import { startEngine } from '../../helpers/engine-fixtures.js';

type Handler = (event: IpcMainInvokeEvent, ...args: unknown[]) => Promise<IpcResult<unknown>>;

const handlers = new Map<string, Handler>();
const ipcMain = {
  handle(channel: string, handler: Handler) {
    assert.equal(handlers.has(channel), false, `second handler for ${channel}`);
    handlers.set(channel, handler);
  },
  removeHandler(channel: string) {
    handlers.delete(channel);
  },
};

let engine: Engine;
let unregister: () => void;

before(async () => {
  engine = await startEngine();
  unregister = registerIpcHandlers({
    ipcMain: ipcMain as never,
    api: engine.api,
    isTrusted: (event) => isTrustedSender(senderFacts(event), APP_ORIGIN),
    log: createLogger('test ipc'),
  });
});

after(() => engine.stop());

const fromFrame = (url: string, parent: unknown = null) => ({ senderFrame: { url, parent } }) as unknown as IpcMainInvokeEvent;
const ourPage = fromFrame(APP_PAGE_URL);

function invoke(name: (typeof API_CALL_NAMES)[number], event: IpcMainInvokeEvent, input?: unknown) {
  const handler = handlers.get(ipcChannel(name));
  assert.ok(handler, `no handler for ${name}`);
  return handler(event, input);
}

test('exactly one handler per API call, each on its own channel', () => {
  assert.deepEqual([...handlers.keys()].sort(), API_CALL_NAMES.map(ipcChannel).sort());
});

test('our page gets the engine answer as { ok, value }', async () => {
  const answer = await invoke('listRoutes', ourPage, {});
  assert.equal(answer.ok, true);
  assert.deepEqual(answer.ok && (answer.value as { id: string }[]).map((r) => r.id), ['live', 'hls']);
  assert.deepEqual(structuredClone(answer), answer);
});

test('a message from another origin is refused before it reaches the engine', async () => {
  for (const url of ['https://evil.example/', `${engine.adminUrl}/`, 'file:///tmp/index.html', 'app://evil/index.html']) {
    const answer = await invoke('updateRoute', fromFrame(url), { id: 'live', body: { mode: 'proxy' } });
    assert.deepEqual(answer, { ok: false, error: { code: 'UNTRUSTED_SENDER', message: 'IPC is accepted from the RelayDeck window only', status: 403 } }, url);
  }
  assert.equal(engine.config.routes.find((r) => r.id === 'live')?.mode, 'redirect');
});

test('an iframe showing our page is refused, and so is a frame that is gone', async () => {
  const iframe = await invoke('listRoutes', fromFrame(APP_PAGE_URL, { url: APP_PAGE_URL }), {});
  assert.equal(!iframe.ok && iframe.error.code, 'UNTRUSTED_SENDER');
  const gone = await invoke('listRoutes', { senderFrame: null } as unknown as IpcMainInvokeEvent, {});
  assert.equal(!gone.ok && gone.error.code, 'UNTRUSTED_SENDER');
});

test('a bad update comes back as plain { code, message, status } naming the field', async () => {
  const answer = await invoke('updateRoute', ourPage, { id: 'live', body: { mode: 'teleport' } });
  assert.equal(answer.ok, false);
  if (answer.ok) return;
  assert.equal(answer.error.code, 'BAD_CONFIG');
  assert.equal(answer.error.status, 400);
  assert.match(answer.error.message, /^body\.mode: /);
  assert.equal(Object.getPrototypeOf(answer.error), Object.prototype, 'plain object, not an Error');
  assert.deepEqual(Object.keys(answer.error).sort(), ['code', 'message', 'status']);
  assert.deepEqual(structuredClone(answer), answer);
});

test('an unknown id is NOT_FOUND 404; a missing input is treated as {}', async () => {
  const unknown = await invoke('deleteRoute', ourPage, { id: 'nope' });
  assert.deepEqual(!unknown.ok && [unknown.error.code, unknown.error.status], ['NOT_FOUND', 404]);
  const noInput = await invoke('getStats', ourPage);
  assert.equal(noInput.ok, true);
});

test('a good update through IPC changes the running config', async () => {
  const answer = await invoke('updateRoute', ourPage, { id: 'hls', body: { mode: 'redirect' } });
  assert.equal(answer.ok, true);
  assert.equal(engine.config.routes.find((r) => r.id === 'hls')?.mode, 'redirect');
});

test('the hls settings are read and patched over IPC like the other sections; a bad value names the field', async () => {
  const read = await invoke('getSettings', ourPage, {});
  assert.equal(read.ok && (read.value as SettingsDto).hls.foreignUris, 'keep');
  const bad = await invoke('updateSettings', ourPage, { body: { hls: { segmentTtlMs: 1 } } });
  assert.deepEqual(!bad.ok && [bad.error.code, bad.error.status], ['BAD_CONFIG', 400]);
  assert.match(!bad.ok ? bad.error.message : '', /^body\.hls\.segmentTtlMs: /);
  const good = await invoke('updateSettings', ourPage, { body: { hls: { segmentTtlMs: 20_000, foreignUris: 'reject' } } });
  assert.equal(good.ok && (good.value as SettingsDto).hls.segmentTtlMs, 20_000);
  assert.deepEqual(structuredClone(good), good);
  assert.equal(engine.config.hls.foreignUris, 'reject');
});

test('unregistering removes every handler', () => {
  unregister();
  assert.equal(handlers.size, 0);
});
