/**
 * What an IPC handler sends back. An `Error` does not survive IPC (only its message is
 * kept), so a handler never throws: it answers `{ ok: false, error: { code, message, status } }`
 * with the fields copied one by one, and the preload turns that back into an `ApiError`.
 * Bundled into the preload: imports nothing but shared/api.ts.
 */
import { ApiError } from '../../shared/api.js';

/** An API error as plain data (survives structured clone). */
export interface IpcErrorData {
  code: string;
  message: string;
  status: number;
}

export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: IpcErrorData };

/** Code answered to a message from a frame that is not our page. */
export const UNTRUSTED_SENDER_CODE = 'UNTRUSTED_SENDER';
export const UNTRUSTED_SENDER_STATUS = 403;

/** Code used when the answer is not an `IpcResult` (a handler bug or a foreign handler). */
export const BAD_IPC_ANSWER_CODE = 'BAD_IPC_ANSWER';

function isErrorData(value: unknown): value is IpcErrorData {
  const data = value as IpcErrorData | null;
  return typeof data === 'object' && data !== null && typeof data.code === 'string' && typeof data.message === 'string' && typeof data.status === 'number';
}

/** Return the value of an answer, or throw its error as an `ApiError`. */
export function unwrapIpcResult<T>(result: unknown): T {
  const answer = result as IpcResult<T> | null;
  if (typeof answer === 'object' && answer !== null) {
    if (answer.ok === true) return answer.value;
    if (answer.ok === false && isErrorData(answer.error)) throw new ApiError(answer.error.code, answer.error.message, answer.error.status);
  }
  throw new ApiError(BAD_IPC_ANSWER_CODE, 'the main process sent an answer of an unknown shape', 500);
}
