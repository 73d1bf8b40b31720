/**
 * The bundled preload exposes exactly one method per API call, plus `onEvent` (the one
 * subscription to main's pushed events), and nothing raw. The bundle is
 * built fresh (build/build-preload.mjs, the same options `npm run build` uses) and run in a
 * `vm` context whose only module is a recording stand-in for `electron`: it records what is
 * exposed and which channel each method invokes. It says nothing about real Electron beyond
 * that surface; anything but `electron` is refused, as a sandboxed preload's require would.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import vm from 'node:vm';
import { API_CALL_NAMES, ipcChannel } from '../../../shared/api.js';
import { IPC_EVENT_CHANNEL } from '../../../shared/events.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildPreload } from '../../../build/build-preload.mjs';

interface Invocation {
  channel: string;
  args: unknown[];
}

type ExposedApi = Record<string, (input?: unknown) => Promise<unknown>>;

let tempDir: string;
let bundle: string;

before(async () => {
  tempDir = await mkdtemp(path.join(os.tmpdir(), 'relaydeck-preload-'));
  const outfile = await buildPreload(path.join(tempDir, 'preload.cjs'));
  bundle = await readFile(outfile, 'utf8');
});

after(() => rm(tempDir, { recursive: true, force: true }));

/** Run the bundle once; `answer` plays the main process for each invoke. */
function loadPreload(answer: (channel: string, input: unknown) => unknown = () => ({ ok: true, value: null })) {
  const exposed: { key: string; api: unknown }[] = [];
  const invocations: Invocation[] = [];
  const required: string[] = [];
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const electron = {
    contextBridge: {
      exposeInMainWorld: (key: string, api: unknown) => exposed.push({ key, api }),
    },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        invocations.push({ channel, args });
        return answer(channel, args[0]);
      },
      on: (channel: string, listener: (...args: unknown[]) => void) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(listener);
      },
      removeListener: (channel: string, listener: (...args: unknown[]) => void) => listeners.get(channel)?.delete(listener),
    },
  };
  const module = { exports: {} };
  const sandboxRequire = (id: string) => {
    required.push(id);
    if (id === 'electron') return electron;
    throw new Error(`a sandboxed preload cannot require "${id}"`);
  };
  vm.runInContext(bundle, vm.createContext({ module, exports: module.exports, require: sandboxRequire }), { filename: 'preload.cjs' });
  /** Play main sending `payload` on `channel` (with Electron's event object first). */
  const emit = (channel: string, payload: unknown) => listeners.get(channel)?.forEach((l) => l({ sender: 'ipc-event-object', ports: [] }, payload));
  return { exposed, invocations, required, listeners, emit };
}

test('the bundle requires nothing but electron', () => {
  const { required } = loadPreload();
  assert.deepEqual([...new Set(required)], ['electron']);
});

test('it exposes one object, window.relaydeck, once', () => {
  const { exposed } = loadPreload();
  assert.equal(exposed.length, 1);
  assert.equal(exposed[0].key, 'relaydeck');
});

test('the exposed surface is exactly API_CALL_NAMES plus onEvent, all functions, nothing raw', () => {
  const api = loadPreload().exposed[0].api as ExposedApi;
  assert.deepEqual(Object.keys(api).sort(), [...API_CALL_NAMES, 'onEvent'].sort());
  for (const name of API_CALL_NAMES) assert.equal(typeof api[name], 'function', name);
  for (const raw of ['invoke', 'send', 'on', 'ipcRenderer', 'sendSync', 'postMessage']) assert.equal(raw in api, false, raw);
});

test('each method invokes its own channel with the input, once', async () => {
  const { exposed, invocations } = loadPreload();
  const api = exposed[0].api as ExposedApi;
  for (const name of API_CALL_NAMES) {
    const input = { id: `id-${name}`, body: { marker: name } };
    await api[name](input);
    const last = invocations.at(-1);
    assert.equal(last?.channel, ipcChannel(name));
    assert.deepEqual(last?.args, [input]);
  }
  assert.equal(invocations.length, API_CALL_NAMES.length);
});

test('a call without input sends an empty object', async () => {
  const { exposed, invocations } = loadPreload();
  await (exposed[0].api as ExposedApi).listRoutes();
  // The {} is made inside the vm context (another realm), so compare its JSON.
  assert.equal(JSON.stringify(invocations[0].args), '[{}]');
});

test('an ok answer resolves to its value', async () => {
  const { exposed } = loadPreload(() => ({ ok: true, value: [{ id: 'live' }] }));
  const routes = await (exposed[0].api as ExposedApi).listRoutes({});
  assert.equal(JSON.stringify(routes), '[{"id":"live"}]');
});

test('an error answer is rethrown as an ApiError with code, message and status', async () => {
  const { exposed } = loadPreload(() => ({ ok: false, error: { code: 'BAD_CONFIG', message: 'body.mode: expected "redirect" or "proxy"', status: 400 } }));
  await assert.rejects((exposed[0].api as ExposedApi).updateRoute({ id: 'live', body: { mode: 'x' } }), (error: Error & { code?: string; status?: number }) => {
    assert.equal(error.name, 'ApiError');
    assert.equal(error.code, 'BAD_CONFIG');
    assert.equal(error.status, 400);
    assert.equal(error.message, 'body.mode: expected "redirect" or "proxy"');
    return true;
  });
});

test('an answer of an unknown shape is an ApiError, not a value', async () => {
  const { exposed } = loadPreload(() => 'surprise');
  await assert.rejects(
    (exposed[0].api as ExposedApi).getStats({}),
    (error: Error & { code?: string }) => error.name === 'ApiError' && error.code === 'BAD_IPC_ANSWER',
  );
});

test('onEvent listens on the one event channel and hands the page the event only', () => {
  const { exposed, listeners, emit } = loadPreload();
  const onEvent = (exposed[0].api as { onEvent: (listener: (event: unknown) => void) => () => void }).onEvent;
  const received: unknown[] = [];
  const unsubscribe = onEvent((event) => received.push(event));
  assert.deepEqual([...listeners.keys()], [IPC_EVENT_CHANNEL], 'no other channel is listened to');
  const snapshot = { type: 'config', at: 1, routes: [], nodes: [] };
  emit(IPC_EVENT_CHANNEL, snapshot);
  assert.equal(received.length, 1);
  assert.equal(JSON.stringify(received[0]), JSON.stringify(snapshot), 'the payload, not the IPC event object');
  emit(IPC_EVENT_CHANNEL, { type: 'not-an-event' });
  emit(IPC_EVENT_CHANNEL, 'junk');
  assert.equal(received.length, 1, 'payloads that are not events are dropped');
  unsubscribe();
  unsubscribe();
  assert.equal(listeners.get(IPC_EVENT_CHANNEL)?.size, 0, 'unsubscribing removes the IPC listener (once)');
  emit(IPC_EVENT_CHANNEL, snapshot);
  assert.equal(received.length, 1);
});

test('onEvent refuses a listener that is not a function', () => {
  const onEvent = (loadPreload().exposed[0].api as { onEvent: (listener: unknown) => unknown }).onEvent;
  assert.throws(() => onEvent('relaydeck:listRoutes'), /listener must be a function/);
});
