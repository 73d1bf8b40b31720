/**
 * An HTTP-FLV viewer's output: the response. Once the headers are out every body byte goes
 * straight to the socket (no chunked framing: the body ends with the connection), so the
 * socket's write buffer is the viewer's queue.
 */
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { RelayError } from '../../core/errors.js';
import { http2StreamOf } from '../http2/stream-of.js';
import { sendError } from '../respond.js';
import { FLV_RESPONSE_HEADERS, type FlvOutput, type ViewerEnd } from './viewer.js';
import type { Corkable } from './write-merge.js';

export class HttpFlvOutput implements FlvOutput {
  readonly transport = 'http';
  /**
   * The viewer's socket once the headers are out (body bytes go straight to it); over HTTP/2 the
   * response's own stream, since the socket carries every stream of the connection: its buffer
   * fills when the viewer's flow-control window shuts, so it bounds the viewer alike.
   */
  private socket: Writable | undefined;

  constructor(private readonly res: ServerResponse) {
    res.on('error', () => {});
  }

  once(event: 'close', listener: () => void): this {
    this.res.once(event, listener);
    return this;
  }

  get writableFinished(): boolean {
    return this.res.writableFinished;
  }

  get writableEnded(): boolean {
    return this.res.writableEnded;
  }

  get statusCode(): number {
    return this.res.statusCode;
  }

  destroy(): void {
    this.res.destroy();
  }

  begin(): number {
    this.res.removeHeader('transfer-encoding'); // no chunked framing: the body ends with the connection
    this.res.writeHead(200, FLV_RESPONSE_HEADERS);
    this.res.flushHeaders();
    this.socket = http2StreamOf(this.res) ?? this.res.socket ?? undefined;
    return 200;
  }

  write(buffer: Buffer): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(buffer);
  }

  /** The socket over TLS (HTTPS/1.1), or the HTTP/2 stream (HTTP/2 runs over TLS only); undefined over plain TCP. */
  mergeTarget(): Corkable | undefined {
    const encrypted = (this.res.socket as Partial<TLSSocket> | null)?.encrypted === true;
    return encrypted || http2StreamOf(this.res) ? this.socket : undefined;
  }

  /** The socket's count once the headers are out (cheaper to read than the response's, which adds the socket's to its own). */
  queuedBytes(): number {
    return this.socket ? this.socket.writableLength : this.res.writableLength;
  }

  end(reason: ViewerEnd): void {
    if (reason === 'SLOW_VIEWER' || reason === 'KICKED' || reason === 'SESSION_TIME_LIMIT') this.res.destroy();
    else this.res.end();
  }

  refuse(error: RelayError): void {
    sendError(this.res, error);
  }

  setHeader(name: string, value: string): void {
    this.res.setHeader(name, value);
  }
}
