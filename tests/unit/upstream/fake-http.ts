/**
 * An in-memory stand-in for Node's http client under the upstream transport (no sockets):
 * the test decides when the socket is handed out and connects, when the node takes request
 * bytes, and what it answers.
 */
import { EventEmitter } from 'node:events';
import type { ClientRequest } from 'node:http';
import { Readable, Writable } from 'node:stream';
import type { BaseRequestOptions, HttpBase } from '../../../electron/engine/upstream/transport.js';

export class FakeSocket extends EventEmitter {
  connecting = true;
  noDelay = false;
  setNoDelay(on: boolean): void {
    this.noDelay = on;
  }
}

export class FakeResponse extends Readable {
  statusCode: number;
  statusMessage = 'OK';
  complete = false;
  constructor(
    status: number,
    readonly headers: Record<string, string> = {},
  ) {
    super({ read() {} });
    this.statusCode = status;
  }
  /** The node sends body bytes. */
  send(bytes: string): void {
    this.push(Buffer.from(bytes));
  }
  /** The node ends the body. */
  finish(): void {
    this.complete = true;
    this.push(null);
  }
}

/** The request the transport writes; `takeBytes` false makes the node stop taking them (its socket full). */
export class FakeRequest extends Writable {
  socket: FakeSocket | undefined;
  readonly written: Buffer[] = [];
  takeBytes = true;
  private held: (() => void)[] = [];
  response: FakeResponse | undefined;

  constructor(readonly options: BaseRequestOptions) {
    super({ highWaterMark: 4, autoDestroy: false });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.written.push(chunk);
    if (this.takeBytes) callback();
    else this.held.push(callback);
  }

  /** A socket is handed out: a new one still connecting, or a pooled one already connected. */
  assignSocket(connecting = true): FakeSocket {
    const socket = new FakeSocket();
    socket.connecting = connecting;
    this.socket = socket;
    this.emit('socket', socket);
    return socket;
  }

  connect(): void {
    this.socket!.connecting = false;
    this.socket!.emit('connect');
  }

  respond(status: number, headers: Record<string, string> = {}): FakeResponse {
    this.response = new FakeResponse(status, headers);
    this.emit('response', this.response);
    return this.response;
  }

  /** A socket or parser error on the request. */
  failWith(code: string): void {
    this.emit('error', Object.assign(new Error(code), { code }));
  }
}

/** The base the tests hand the transport: it keeps every request made. */
export class FakeBase implements HttpBase {
  readonly requests: FakeRequest[] = [];
  request(options: BaseRequestOptions): ClientRequest {
    const request = new FakeRequest(options);
    this.requests.push(request);
    return request as unknown as ClientRequest;
  }
  get last(): FakeRequest {
    return this.requests[this.requests.length - 1];
  }
}

/** Let queued stream events (nextTick, microtasks) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
