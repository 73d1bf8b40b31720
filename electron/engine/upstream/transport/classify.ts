/**
 * The one place an outgoing request's failure becomes a code of the taxonomy (core/errors.ts):
 * socket and parser errors, each timer's expiry, and the node dropping a response midway.
 * Whether the code then counts against the node is errors.ts isNodeFault, asked by the caller.
 */
import { classifyUpstreamError, RelayError } from '../../core/errors.js';

/** Which clock ran out: the node's connect, its response headers, its silence mid-body, or the viewer's side of either body. */
export type Expiry = 'connect' | 'headers' | 'idle' | 'reader-stalled' | 'body-viewer' | 'body-node';

/** The error a clock's expiry stands for, after `ms` ms. */
export function expiryError(expiry: Expiry, ms: number): RelayError {
  switch (expiry) {
    case 'connect':
      return new RelayError('DIAL', `connect to node timed out after ${ms} ms`);
    case 'headers':
      return new RelayError('UPSTREAM_TIMEOUT', `node sent no response headers within ${ms} ms`);
    case 'idle':
      return new RelayError('IDLE_TIMEOUT', `node sent no bytes for ${ms} ms`);
    case 'reader-stalled':
      // The node is paused because the viewer's socket is full: the silence is the viewer's.
      return new RelayError('CLIENT_STALLED', `viewer made no room for the node's bytes for ${ms} ms`);
    case 'body-viewer':
      return new RelayError('REQUEST_TIMEOUT', `viewer sent no request body bytes for ${ms} ms`);
    case 'body-node':
      return new RelayError('UPSTREAM_TIMEOUT', `node took no request body bytes for ${ms} ms`);
  }
}

/** Any failure of an outgoing request, classified once: a RelayError stays as it is, a socket/parser error is mapped. */
export function classifyFailure(error: unknown, responseStarted: boolean): RelayError {
  if (error instanceof RelayError) return error;
  if (error instanceof Error) return classifyUpstreamError(error as NodeJS.ErrnoException, responseStarted);
  return new RelayError('INTERNAL', String(error));
}

/** The node dropped the connection before the body ended (no error event came with it). */
export function lostMidResponse(): RelayError {
  return new RelayError('UPSTREAM_RESET', 'node connection lost mid-response');
}

/** The caller (its viewer, or an AbortSignal) ended the call: never the node's fault. */
export function callerClosed(reason = 'the caller ended the request'): RelayError {
  return new RelayError('CLIENT_CLOSED', reason);
}
