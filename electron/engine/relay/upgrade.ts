/**
 * HTTP upgrades on the relay port (RelayServer.handleUpgrade). Node hands an upgrade request
 * over as a bare socket: no response object, no parser reading it, no error listener, no
 * timeouts. What the relay needs to answer it like any other request lives here:
 *
 * - a ServerResponse bound to the socket (responseOnSocket), so refusals, redirects and a
 *   plain request that merely asked for another protocol (`Upgrade: h2c`) are answered by
 *   the same code as every request, and the connection closes after the answer;
 * - the socket held readable until the WebSocket handshake completes (HeldSocket): a viewer
 *   that leaves while its stream connects is seen leaving, and the bytes it sent early are
 *   kept for the handshake, within a bound;
 * - the handshake's own checks (webSocketHandshakeError), run before admission, so a garbled
 *   handshake gets a 400 and never opens a session;
 * - the route's checks once it is known: does it serve WebSocket at all (webSocketRefusal), and
 *   does its corsOrigins allow the page that opens the socket (webSocketOriginRefusal).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RouteConfig } from '../../../shared/config.js';
import { allowedOrigin, type CorsPolicy } from './cors.js';

/** Most bytes a WebSocket viewer may send before its handshake completes (a conforming client sends none). */
export const WS_MAX_EARLY_BYTES = 4_096;
/** WebSocket versions the relay speaks (RFC 6455 is 13; 8 is the last draft, which `ws` accepts too). */
const WS_VERSIONS = ['13', '8'];
/** A Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 4.1). */
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;
/** One subprotocol name: an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Handshakes the relay took as WebSocket-FLV viewers, with their held sockets (markWebSocket); weak, so they go with their requests. */
const webSocketRequests = new WeakMap<IncomingMessage, HeldSocket>();

/** True when an upgrade request asks for WebSocket (`Upgrade: websocket`; other protocols, such as h2c, are served as plain HTTP). */
export function asksForWebSocket(req: IncomingMessage): boolean {
  return req.headers.upgrade?.toLowerCase() === 'websocket';
}

/** Note that `req` is a WebSocket handshake the relay serves as such, on `held` (then isWebSocket is true for it). */
export function markWebSocket(req: IncomingMessage, held: HeldSocket): void {
  webSocketRequests.set(req, held);
}

/** True for a WebSocket handshake taken by RelayServer.handleUpgrade: its session's transport is "ws". */
export function isWebSocket(req: IncomingMessage): boolean {
  return webSocketRequests.has(req);
}

/** The held socket of a WebSocket handshake (markWebSocket). */
export function heldSocketOf(req: IncomingMessage): HeldSocket | undefined {
  return webSocketRequests.get(req);
}

/**
 * Why `route` does not serve WebSocket, or undefined when it does: only an flv route in proxy
 * mode with fanout on (the fan-out is what speaks WebSocket-FLV). A redirect cannot be
 * followed by a WebSocket client; a route without fanout pipes one pull per viewer as HTTP;
 * files and HLS are HTTP only.
 */
export function webSocketRefusal(route: RouteConfig): string | undefined {
  if (route.kind !== 'flv') return `WebSocket is served on flv routes only; route "${route.id}" is ${route.kind}`;
  if (route.mode !== 'proxy') return `route "${route.id}" redirects, which a WebSocket client cannot follow; WebSocket-FLV needs mode "proxy"`;
  if (!route.fanout) return `route "${route.id}" has fanout off; WebSocket-FLV is served by the fan-out only`;
  return undefined;
}

/** Longest part of a refused Origin repeated in the answer. */
const MAX_QUOTED_ORIGIN_CHARS = 100;

/**
 * Why the page that opens a WebSocket may not use `route`, or undefined when it may. Browsers
 * apply no CORS to WebSocket: a page on any origin may open ws:// to the relay and read every
 * message, so the relay applies the route's corsOrigins to the handshake's Origin itself. A
 * handshake without Origin is no browser page's (ffplay, a native player) and passes, as an
 * HTTP request without Origin does; "*" allows every origin.
 */
export function webSocketOriginRefusal(route: CorsPolicy & Pick<RouteConfig, 'id'>, origin: string | undefined): string | undefined {
  if (origin === undefined || allowedOrigin({ ...route, corsCredentials: false }, origin) !== undefined) return undefined;
  return `origin ${origin.slice(0, MAX_QUOTED_ORIGIN_CHARS)} may not open a WebSocket on route "${route.id}" (not in its corsOrigins)`;
}

/** Why a WebSocket handshake is malformed (the checks `ws` runs, made before admission), or undefined when it is sound. */
export function webSocketHandshakeError(req: IncomingMessage): { message: string; headers?: Record<string, string> } | undefined {
  if (req.method !== 'GET') return { message: `a WebSocket handshake is a GET, not ${req.method}` };
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !WS_KEY.test(key)) return { message: 'missing or invalid Sec-WebSocket-Key header' };
  const version = req.headers['sec-websocket-version'];
  if (typeof version !== 'string' || !WS_VERSIONS.includes(version.trim())) {
    return { message: 'missing or unsupported Sec-WebSocket-Version header (13 is spoken)', headers: { 'sec-websocket-version': WS_VERSIONS.join(', ') } };
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols !== undefined) {
    const names = protocols.split(',').map((name) => name.trim());
    if (names.some((name) => !TOKEN.test(name)) || new Set(names).size !== names.length) return { message: 'invalid Sec-WebSocket-Protocol header' };
  }
  if (!req.complete) return { message: 'a WebSocket handshake carries no body' };
  return undefined;
}

/**
 * A response written straight to an upgrade's socket, as Node's server would write it:
 * `Connection: close`, and the socket ends once the answer is out. Detach it
 * (`res.detachSocket(socket)`) before the socket is handed to another protocol.
 */
export function responseOnSocket(req: IncomingMessage, socket: Socket): ServerResponse {
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.on('finish', () => {
    if (res.socket !== socket) return; // detached: the socket belongs to the WebSocket now
    res.detachSocket(socket);
    socket.destroySoon();
  });
  res.on('error', () => {});
  return res;
}

/**
 * An upgrade's socket kept readable until the relay completes the handshake or answers:
 * early bytes are kept (at most WS_MAX_EARLY_BYTES, else the socket is cut), and the viewer
 * half-closing (its FIN) ends the connection, as it would end an HTTP request.
 */
export class HeldSocket {
  private early: Buffer[] = [];
  private earlyBytes = 0;
  private readonly onData = (chunk: Buffer) => {
    this.earlyBytes += chunk.length;
    if (this.earlyBytes > WS_MAX_EARLY_BYTES) this.socket.destroy();
    else this.early.push(chunk);
  };
  private readonly onEnd = () => this.socket.destroy();

  constructor(
    readonly socket: Socket,
    head: Buffer,
  ) {
    this.onData(head);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
  }

  /** Stop holding: what the viewer sent so far, for the protocol that takes the socket over. */
  release(): Buffer {
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('end', this.onEnd);
    const head = Buffer.concat(this.early);
    this.early = [];
    return head;
  }
}
