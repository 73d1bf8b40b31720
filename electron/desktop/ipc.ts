/**
 * The operator API over Electron IPC: one `ipcMain.handle` per call in `API_CALL_NAMES`, on
 * the call's own channel (`ipcChannel(name)`), nothing generic. Each handler first checks
 * that the sender is our own page, then calls the same `RelayDeckApi` object the admin HTTP
 * API uses, so both transports behave the same. Handlers never throw: errors go back as
 * plain `{ code, message, status }` (see desktop/ipc-result.ts).
 *
 * `ipcMain` is passed in (only electron/desktop/main.ts imports `electron`), which also lets the
 * tests register the handlers on a recorder under plain Node.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { API_CALL_NAMES, API_CALLS, ipcChannel, type ApiCallName, type RelayDeckApi } from '../../shared/api.js';
import type { AuditLog } from '../engine/admin/audit-log.js';
import { UNTRUSTED_SENDER_CODE, UNTRUSTED_SENDER_STATUS, type IpcErrorData, type IpcResult } from './ipc-result.js';
import type { Logger } from '../engine/core/log.js';
import { toRelayError } from '../engine/core/errors.js';

export interface IpcDeps {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  api: RelayDeckApi;
  /** Decides whether the event comes from our own page (see desktop/sender-check.ts). */
  isTrusted: (event: IpcMainInvokeEvent) => boolean;
  log: Logger;
  /** Where changing calls are recorded (who: "desktop", from: "ipc"). */
  audit?: Pick<AuditLog, 'write'>;
}

/** Copy an error field by field into plain data; unknown faults become INTERNAL (500). */
export function toIpcErrorData(error: unknown): IpcErrorData {
  const coded = error as { code?: unknown; status?: unknown; message?: unknown } | null;
  if (error instanceof Error && typeof coded?.code === 'string' && typeof coded.status === 'number') {
    return { code: coded.code, message: error.message, status: coded.status };
  }
  const relay = toRelayError(error);
  return { code: relay.code, message: relay.message, status: relay.status };
}

/** Register one handler per API call; returns a function that removes them all. */
export function registerIpcHandlers(deps: IpcDeps): () => void {
  const { ipcMain, api, isTrusted, log } = deps;
  const handle = async (name: ApiCallName, event: IpcMainInvokeEvent, input: unknown): Promise<IpcResult<unknown>> => {
    if (!isTrusted(event)) {
      log.warn(`refused ${name} from an untrusted frame (${event.senderFrame?.url ?? 'frame gone'})`);
      return { ok: false, error: { code: UNTRUSTED_SENDER_CODE, message: 'IPC is accepted from the RelayDeck window only', status: UNTRUSTED_SENDER_STATUS } };
    }
    const changes = API_CALLS[name].method !== 'GET';
    const fields = (input ?? {}) as { id?: string; body?: unknown };
    const audit = (outcome: string) =>
      changes && void deps.audit?.write({ who: 'desktop', from: 'ipc', call: name, id: fields.id, body: fields.body, outcome });
    try {
      const method = api[name] as (input: unknown) => Promise<unknown>;
      const value = await method(input ?? {});
      audit('ok');
      return { ok: true, value };
    } catch (error) {
      const data = toIpcErrorData(error);
      audit(data.code);
      if (data.code === 'INTERNAL') log.error(`${name}: ${data.message}`);
      return { ok: false, error: data };
    }
  };
  for (const name of API_CALL_NAMES) {
    ipcMain.handle(ipcChannel(name), (event, input: unknown) => handle(name, event, input));
  }
  return () => {
    for (const name of API_CALL_NAMES) ipcMain.removeHandler(ipcChannel(name));
  };
}
