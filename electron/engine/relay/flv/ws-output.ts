/**
 * A WebSocket-FLV viewer's output: the same FLV bytes as an HTTP-FLV viewer gets (header,
 * start-up tags, then every batch), each write one binary WebSocket message (players such
 * as mpegts.js take any chunking).
 *
 * Life cycle: the handshake was checked and the viewer admitted like an HTTP-FLV request
 * (RelayServer.handleUpgrade); until its stream starts for it the socket is held (HeldSocket)
 * and an error is answered as HTTP (JSON body, then the connection closes), so an offline
 * stream is a 404 before any upgrade, as for HTTP-FLV. begin() completes the handshake (101).
 * The queue is the socket's write buffer plus anything `ws` holds (bufferedAmount), bounded
 * by flv.viewerQueueMaxBytes exactly as for HTTP. What the viewer sends is ignored; a message
 * over WS_MAX_PAYLOAD_BYTES closes the connection (1009). The relay closes it with 1000
 * (stream over, kicked), 1001 (relay stopping) or 1011 (upstream lost or malformed, node
 * drained); a slow viewer is cut without a close frame, which could not get through its
 * full buffer. A close handshake the viewer does not answer is cut after WS_CLOSE_TIMEOUT_MS.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ServerOptions, WebSocket, WebSocketServer } from 'ws';
import type { RelayError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { sendError } from '../respond.js';
import type { HeldSocket } from '../upgrade.js';
import type { FlvOutput, ViewerEnd } from './viewer.js';
import type { Corkable } from './write-merge.js';

/** Largest message a WebSocket-FLV viewer may send (messages are ignored; a control frame holds at most 125 bytes); a larger one closes the connection with 1009. */
export const WS_MAX_PAYLOAD_BYTES = 1_024;
/** How long the relay waits for the viewer's answer to its close frame before cutting the socket, ms. */
export const WS_CLOSE_TIMEOUT_MS = 2_000;

/** RFC 6455 7.4.1 close codes the relay sends. */
const WS_CLOSE = { normal: 1000, goingAway: 1001, policy: 1008, serverError: 1011 } as const;

/** What the relay sends on its way out, by the viewer's end. */
const CLOSE_FRAMES: Record<Exclude<ViewerEnd, 'SLOW_VIEWER'>, { code: number; reason: string }> = {
  END: { code: WS_CLOSE.normal, reason: 'stream ended' },
  KICKED: { code: WS_CLOSE.normal, reason: 'disconnected by the operator' },
  SESSION_TIME_LIMIT: { code: WS_CLOSE.policy, reason: 'the session reached its maximum duration' },
  STOPPING: { code: WS_CLOSE.goingAway, reason: 'relay stopping' },
  UPSTREAM_LOST: { code: WS_CLOSE.serverError, reason: 'UPSTREAM_LOST' },
  UPSTREAM_FORMAT: { code: WS_CLOSE.serverError, reason: 'UPSTREAM_FORMAT' },
  DRAINED: { code: WS_CLOSE.serverError, reason: 'DRAINED' },
};

const SEND_BINARY = { binary: true } as const;
/** RFC 6455's OPEN ready state (ws's WebSocket.OPEN), stated here so that `ws` loads on first use only. */
const WS_OPEN = 1;

/**
 * The relay's one WebSocket server: no listener of its own (RelayServer.handleUpgrade hands
 * it each admitted handshake), no compression (FLV does not shrink, and deflate would buffer
 * outside the queue bound), no client list (the sessions are the list). It is made on the
 * first WebSocket handshake: loading `ws` costs 5 to 10 MB of RSS, which a relay without
 * WebSocket viewers does not pay.
 */
export class FlvWebSockets {
  private server: WebSocketServer | undefined;
  private loading: Promise<WebSocketServer> | undefined;

  /** The server once loaded (handleUpgrade waits for load() before admitting a handshake). */
  get ready(): WebSocketServer | undefined {
    return this.server;
  }

  load(): Promise<WebSocketServer> {
    this.loading ??= import('ws').then(({ WebSocketServer }) => {
      const options: ServerOptions & { closeTimeout: number } = {
        noServer: true,
        maxPayload: WS_MAX_PAYLOAD_BYTES,
        perMessageDeflate: false,
        clientTracking: false,
        closeTimeout: WS_CLOSE_TIMEOUT_MS,
      };
      this.server = new WebSocketServer(options);
      return this.server;
    });
    return this.loading;
  }
}

export class WsFlvOutput implements FlvOutput {
  readonly transport = 'ws';
  private ws: WebSocket | undefined;
  private ended = false;
  private endedCleanly = false;

  constructor(
    private readonly webSockets: FlvWebSockets,
    private readonly req: IncomingMessage,
    /** The response bound to the socket until the handshake (upgrade.ts responseOnSocket): error answers. */
    private readonly res: ServerResponse,
    private readonly held: HeldSocket,
    private readonly log: Logger,
  ) {}

  private get socket(): Socket {
    return this.held.socket;
  }

  /** The viewer's connection closed (any cause): the socket's own event, before and after the handshake. */
  once(event: 'close', listener: () => void): this {
    this.socket.once(event, listener);
    return this;
  }

  /** Only an end the relay chose cleanly counts as finished: the viewer closing first is CLIENT_CLOSED. */
  get writableFinished(): boolean {
    return this.endedCleanly;
  }

  get writableEnded(): boolean {
    return this.ended;
  }

  get statusCode(): number {
    return this.ws ? 101 : this.res.statusCode;
  }

  destroy(): void {
    this.socket.destroy();
  }

  begin(): number {
    const server = this.webSockets.ready;
    if (!server) {
      // Not reached: the handshake was admitted only once `ws` was loaded (RelayServer.handleWebSocket).
      this.socket.destroy();
      return 500;
    }
    const head = this.held.release();
    this.res.detachSocket(this.socket);
    // Synchronous: the handshake was checked before admission (upgrade.ts), and no verifyClient is set.
    server.handleUpgrade(this.req, this.socket, head, (ws) => {
      this.ws = ws;
      ws.on('error', (error) => this.log.debug(`WebSocket viewer ${this.socket.remoteAddress ?? ''}: ${error.message}`));
    });
    return 101;
  }

  write(buffer: Buffer): void {
    if (this.ws?.readyState === WS_OPEN) this.ws.send(buffer, SEND_BINARY);
  }

  queuedBytes(): number {
    return this.ws ? this.ws.bufferedAmount : 0;
  }

  /** The TLS socket of a wss:// viewer once the handshake is done (`ws` writes each message to it); undefined over plain TCP. */
  mergeTarget(): Corkable | undefined {
    return this.ws && (this.socket as Partial<TLSSocket>).encrypted === true ? this.socket : undefined;
  }

  end(reason: ViewerEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.endedCleanly = reason === 'END' || reason === 'STOPPING';
    if (!this.ws || reason === 'SLOW_VIEWER') {
      this.socket.destroy();
      return;
    }
    const frame = CLOSE_FRAMES[reason];
    this.ws.close(frame.code, frame.reason);
  }

  refuse(error: RelayError): void {
    this.ended = true;
    sendError(this.res, error);
  }

  setHeader(name: string, value: string): void {
    this.res.setHeader(name, value);
  }
}
