/** The WebSocket handshake checks made before admission, which routes serve WebSocket-FLV, and which pages may open one (relay/upgrade.ts). */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import type { RouteConfig } from '../../../shared/config.js';
import { asksForWebSocket, webSocketHandshakeError, webSocketOriginRefusal, webSocketRefusal } from '../../../electron/engine/relay/upgrade.js';

const SOUND = { upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' };

function handshake(headers: Record<string, string | undefined>, method = 'GET', complete = true): IncomingMessage {
  return { method, complete, headers: { ...SOUND, ...headers } } as unknown as IncomingMessage;
}

describe('WebSocket handshake checks', () => {
  it('passes a sound handshake, with or without subprotocols', () => {
    assert.equal(webSocketHandshakeError(handshake({})), undefined);
    assert.equal(webSocketHandshakeError(handshake({ 'sec-websocket-version': '8' })), undefined);
    assert.equal(webSocketHandshakeError(handshake({ 'sec-websocket-protocol': 'flv, chat.v2' })), undefined);
  });

  it('names what is wrong in a garbled one', () => {
    assert.match(webSocketHandshakeError(handshake({}, 'HEAD'))!.message, /GET/);
    assert.match(webSocketHandshakeError(handshake({ 'sec-websocket-key': undefined }))!.message, /Sec-WebSocket-Key/);
    assert.match(webSocketHandshakeError(handshake({ 'sec-websocket-key': 'not base64 of 16 bytes' }))!.message, /Sec-WebSocket-Key/);
    const version = webSocketHandshakeError(handshake({ 'sec-websocket-version': '12' }))!;
    assert.match(version.message, /Sec-WebSocket-Version/);
    assert.deepEqual(version.headers, { 'sec-websocket-version': '13, 8' });
    assert.match(webSocketHandshakeError(handshake({ 'sec-websocket-protocol': 'a, a' }))!.message, /Protocol/);
    assert.match(webSocketHandshakeError(handshake({ 'sec-websocket-protocol': 'a b' }))!.message, /Protocol/);
    assert.match(webSocketHandshakeError(handshake({}, 'GET', false))!.message, /body/);
  });

  it('takes only `Upgrade: websocket` as a WebSocket request (h2c and others are plain HTTP)', () => {
    assert.equal(asksForWebSocket(handshake({ upgrade: 'WebSocket' })), true);
    assert.equal(asksForWebSocket(handshake({ upgrade: 'h2c' })), false);
  });
});

describe('routes that serve WebSocket-FLV', () => {
  const route = (patch: Partial<RouteConfig>) => ({ id: 'r', kind: 'flv', mode: 'proxy', fanout: true, ...patch }) as RouteConfig;

  it('is an flv route in proxy mode with fanout on, and no other', () => {
    assert.equal(webSocketRefusal(route({})), undefined);
    assert.match(webSocketRefusal(route({ kind: 'file' }))!, /flv routes only/);
    assert.match(webSocketRefusal(route({ kind: 'hls' }))!, /flv routes only/);
    assert.match(webSocketRefusal(route({ mode: 'redirect' }))!, /redirects/);
    assert.match(webSocketRefusal(route({ fanout: false }))!, /fanout/);
  });
});

describe('which pages may open a WebSocket on a route (its corsOrigins)', () => {
  const route = (corsOrigins: string[]) => ({ id: 'r', corsOrigins, corsCredentials: false, corsExposeHeaders: [] });

  it('passes a handshake without Origin (no browser page), a listed origin, and any origin on "*"', () => {
    assert.equal(webSocketOriginRefusal(route([]), undefined), undefined);
    assert.equal(webSocketOriginRefusal(route(['https://player.example.com']), 'https://player.example.com'), undefined);
    assert.equal(webSocketOriginRefusal(route(['*']), 'https://anywhere.example.net'), undefined);
  });

  it('refuses an origin the list does not name, naming the origin and the route', () => {
    assert.match(webSocketOriginRefusal(route(['https://player.example.com']), 'https://evil.example.net')!, /https:\/\/evil\.example\.net.*"r".*corsOrigins/);
    assert.match(webSocketOriginRefusal(route([]), 'null')!, /null/);
    assert.ok(webSocketOriginRefusal(route(['https://player.example.com']), 'https://player.example.com:8443'), 'another port is another origin');
  });
});
