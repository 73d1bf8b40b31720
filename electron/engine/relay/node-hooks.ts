/**
 * Node publish hooks on the relay port: the nodes tell the stream registry which streams
 * they publish. The reserved path prefix `/_relaydeck/hooks/<nodeId>/<kind>` is answered
 * before any route matches (a route under it is shadowed) and is never forwarded to a node.
 *
 * Kinds (the format each node's own hook sends):
 *   srs       SRS http_hooks: on_publish / on_unpublish (JSON: action, app, stream, vhost...); other actions are ignored
 *   zlm       ZLMediaKit: on_stream_changed (regist true/false; the "rtmp" schema, which carries HTTP-FLV; other schemas are ignored)
 *             and on_publish (a body without `regist`, or `?event=on_publish`)
 *   mediamtx  MediaMTX runOnReady / runOnNotReady through a small HTTP call:
 *             curl -X POST "http://relay:8090/_relaydeck/hooks/<node>/mediamtx?event=ready&path=$MTX_PATH&secret=..."
 *             (event "ready" or "notready"; the body is ignored)
 *   nms       node-media-server v4 `notify.url`: postPublish / donePublish (JSON: action, app, name); other actions are ignored
 *   json      the plain endpoint for anything else: POST {"event": "publish"|"unpublish"|"refresh", "streams": ["app/name", ...]};
 *             "refresh" is a heartbeat: it publishes or extends each listed stream (entries not listed expire by themselves)
 *
 * Every hook carries its node's `hookSecret` (query `secret` or `Authorization: Bearer`),
 * compared in constant time; a node without hookSecret refuses hooks (401 HOOK_UNAUTHORIZED).
 * Only POST; the body is at most HOOK_MAX_BODY_BYTES and must arrive within HOOK_BODY_TIMEOUT_MS.
 * A success is answered 200 {"code":0} (what SRS, ZLMediaKit and node-media-server take as
 * "go on"). When the registry cannot record it (the fleet's Redis is away) the `json` and
 * `mediamtx` kinds get 503 FLEET_UNAVAILABLE (a script may retry); the nodes' own publish
 * gates (srs, zlm, nms) still get 200 so a publish is never refused for it: the failure is
 * logged, and the entry comes with the node's next hook.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeConfig } from '../../../shared/config.js';
import { RelayError, toRelayError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { sendError } from './respond.js';

/** The reserved path prefix of node hooks on the relay port. */
export const HOOKS_PATH_PREFIX = '/_relaydeck/hooks/';
/** Largest hook body read, bytes; a larger one gets 413 BODY_TOO_LARGE. */
export const HOOK_MAX_BODY_BYTES = 64 * 1024;
/** A hook body must arrive within this, ms; else 408 REQUEST_TIMEOUT. */
export const HOOK_BODY_TIMEOUT_MS = 10_000;
/** Most streams one `json` hook may name. */
export const HOOK_MAX_STREAMS = 1_000;
/** Longest stream key a hook may name, characters. */
export const HOOK_MAX_KEY_CHARS = 256;

export const HOOK_KINDS = ['srs', 'zlm', 'mediamtx', 'nms', 'json'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

/** What a hook tells the registry. "ignore": a hook event that is not about publishing (answered as a success). */
export interface HookEvent {
  event: 'publish' | 'unpublish' | 'refresh' | 'ignore';
  streams: string[];
}

/** Where hooks go: the stream registry (the fleet's, or the relay's own when alone), injected by the engine. */
export interface StreamRegistrySink {
  publish(nodeId: string, streamKeys: readonly string[]): Promise<void>;
  unpublish(nodeId: string, streamKeys: readonly string[]): Promise<void>;
  refresh(nodeId: string, streamKeys: readonly string[]): Promise<void>;
}

export interface NodeHooksDeps {
  /** The configured nodes (read per hook: a config change applies to the next one). */
  nodes: () => readonly NodeConfig[];
  /** The registry, or undefined when there is none (hooks then get 503). */
  sink: () => StreamRegistrySink | undefined;
  log: Logger;
}

/** Counters of hooks answered, for the logs and tests. */
export interface HookCounters {
  accepted: number;
  refused: number;
  failed: number;
}

const SEGMENT = /^[^/\s?#%\\]+$/;
const CONTROL = /[\x00-\x1f\x7f]/;

function bad(field: string, message: string): RelayError {
  return new RelayError('BAD_REQUEST', `${field}: ${message}`);
}

/** One or two path segments ("app/name", or "name" for a single-segment MediaMTX path), as the relay's stream keys are. */
export function checkStreamKey(value: unknown, field: string): string {
  if (typeof value !== 'string') throw bad(field, `expected a stream key "app/name", got ${value === null ? 'null' : typeof value}`);
  const key = value.replace(/^\/+|\/+$/g, '');
  if (key.length === 0 || key.length > HOOK_MAX_KEY_CHARS) throw bad(field, `expected a stream key of 1 to ${HOOK_MAX_KEY_CHARS} characters`);
  if (CONTROL.test(key)) throw bad(field, 'control characters are not allowed in a stream key');
  const segments = key.split('/');
  if (segments.length > 2 || !segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..'))
    throw bad(field, `expected "app/name" (at most two segments, no spaces, "?", "#", "%" or "\\"), got "${key.slice(0, 80)}"`);
  return key;
}

function record(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('body', `expected a JSON object (${what})`);
  return body as Record<string, unknown>;
}

function text(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0)
    throw bad(field, `expected a non-empty string, got ${value === undefined ? 'nothing' : JSON.stringify(value).slice(0, 40)}`);
  return value;
}

function keyOf(app: string, name: string, appField: string, nameField: string): string {
  checkStreamKey(app, appField);
  checkStreamKey(name, nameField);
  if (app.includes('/')) throw bad(appField, 'expected one path segment');
  if (name.includes('/')) throw bad(nameField, 'expected one path segment');
  return checkStreamKey(`${app}/${name}`, `${appField}/${nameField}`);
}

/** SRS http_hooks (on_publish / on_unpublish). */
export function parseSrs(body: unknown): HookEvent {
  const hook = record(body, 'SRS http_hooks');
  const action = text(hook, 'action');
  if (action !== 'on_publish' && action !== 'on_unpublish') return { event: 'ignore', streams: [] };
  const stream = keyOf(text(hook, 'app'), text(hook, 'stream'), 'app', 'stream');
  return { event: action === 'on_publish' ? 'publish' : 'unpublish', streams: [stream] };
}

/** ZLMediaKit on_publish and on_stream_changed. */
export function parseZlm(body: unknown, query: URLSearchParams): HookEvent {
  const hook = record(body, 'ZLMediaKit hook');
  const named = query.get('event');
  const changed = named === null ? hook.regist !== undefined : named === 'on_stream_changed';
  if (named !== null && named !== 'on_publish' && named !== 'on_stream_changed') return { event: 'ignore', streams: [] };
  const stream = () => keyOf(text(hook, 'app'), text(hook, 'stream'), 'app', 'stream');
  if (!changed) return { event: 'publish', streams: [stream()] };
  if (typeof hook.regist !== 'boolean') throw bad('regist', `expected true or false, got ${JSON.stringify(hook.regist) ?? 'nothing'}`);
  // One registration per protocol; the rtmp one carries HTTP-FLV and lives as long as the publish.
  if (text(hook, 'schema') !== 'rtmp') return { event: 'ignore', streams: [] };
  return { event: hook.regist ? 'publish' : 'unpublish', streams: [stream()] };
}

/** MediaMTX runOnReady / runOnNotReady, by query: event=ready|notready, path=$MTX_PATH. */
export function parseMediaMtx(query: URLSearchParams): HookEvent {
  const event = query.get('event');
  const ready = event === 'ready';
  if (!ready && event !== 'notready' && event !== 'not-ready')
    throw bad('event', `expected "ready" or "notready", got ${event === null ? 'nothing' : `"${event.slice(0, 40)}"`}`);
  return { event: ready ? 'publish' : 'unpublish', streams: [checkStreamKey(query.get('path') ?? undefined, 'path')] };
}

/** node-media-server v4 notify (postPublish / donePublish). */
export function parseNms(body: unknown): HookEvent {
  const hook = record(body, 'node-media-server notify');
  const action = text(hook, 'action');
  if (action !== 'postPublish' && action !== 'donePublish') return { event: 'ignore', streams: [] };
  return { event: action === 'postPublish' ? 'publish' : 'unpublish', streams: [keyOf(text(hook, 'app'), text(hook, 'name'), 'app', 'name')] };
}

const JSON_EVENTS = ['publish', 'unpublish', 'refresh'] as const;

/** The plain JSON endpoint: {"event": "publish"|"unpublish"|"refresh", "streams": [...]}, nothing else. */
export function parseJsonHook(body: unknown): HookEvent {
  const hook = record(body, '{"event": ..., "streams": [...]}');
  for (const field of Object.keys(hook)) if (field !== 'event' && field !== 'streams') throw bad(field, 'unknown field (expected only "event" and "streams")');
  const event = hook.event;
  if (typeof event !== 'string' || !(JSON_EVENTS as readonly string[]).includes(event))
    throw bad('event', `expected "publish", "unpublish" or "refresh", got ${JSON.stringify(event) ?? 'nothing'}`);
  if (!Array.isArray(hook.streams)) throw bad('streams', 'expected a list of stream keys');
  if (hook.streams.length > HOOK_MAX_STREAMS) throw bad('streams', `at most ${HOOK_MAX_STREAMS} streams per hook, got ${hook.streams.length}`);
  const streams = hook.streams.map((s, i) => checkStreamKey(s, `streams[${i}]`));
  return { event: event as HookEvent['event'], streams: [...new Set(streams)] };
}

/** Parse one hook of `kind` (body already read: undefined when empty). */
export function parseHook(kind: HookKind, body: unknown, query: URLSearchParams): HookEvent {
  switch (kind) {
    case 'srs':
      return parseSrs(body);
    case 'zlm':
      return parseZlm(body, query);
    case 'mediamtx':
      return parseMediaMtx(query);
    case 'nms':
      return parseNms(body);
    case 'json':
      return parseJsonHook(body);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The secret a hook carries: `Authorization: Bearer <secret>`, else the `secret` query parameter. */
export function hookSecretOf(authorization: string | undefined, query: URLSearchParams): string | undefined {
  const bearer = authorization !== undefined ? /^Bearer +(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  return bearer ?? query.get('secret') ?? undefined;
}

/** Check a hook's secret against its node's (constant time); throws HOOK_UNAUTHORIZED. */
export function checkHookSecret(node: NodeConfig | undefined, nodeId: string, given: string | undefined): void {
  if (!node?.hookSecret) throw new RelayError('HOOK_UNAUTHORIZED', `hooks of node "${nodeId.slice(0, 64)}" are refused: no such node, or it has no hookSecret`);
  if (given === undefined || given === '')
    throw new RelayError('HOOK_UNAUTHORIZED', `hook of node "${node.id}": no secret (query "secret" or Authorization: Bearer)`);
  if (!timingSafeEqual(digest(given), digest(node.hookSecret))) throw new RelayError('HOOK_UNAUTHORIZED', `hook of node "${node.id}": wrong secret`);
}

/** True when `url` is under the reserved hooks prefix. */
export function isHookPath(url: string | undefined): boolean {
  return url !== undefined && url.startsWith(HOOKS_PATH_PREFIX);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > HOOK_MAX_BODY_BYTES) return reject(new RelayError('BODY_TOO_LARGE', `body: at most ${HOOK_MAX_BODY_BYTES} bytes, declared ${declared}`));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new RelayError('REQUEST_TIMEOUT', `body: not received within ${HOOK_BODY_TIMEOUT_MS} ms`)), HOOK_BODY_TIMEOUT_MS);
    const fail = (error: RelayError) => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > HOOK_MAX_BODY_BYTES) return fail(new RelayError('BODY_TOO_LARGE', `body: at most ${HOOK_MAX_BODY_BYTES} bytes`));
      chunks.push(chunk);
    });
    req.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    req.once('error', (error) => fail(toRelayError(error)));
  });
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw bad('nodeId', 'bad percent-encoding in the path');
  }
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw bad('body', `not valid JSON: ${(error as Error).message.slice(0, 120)}`);
  }
}

function sendOk(res: ServerResponse, extra: object = {}): void {
  const body = JSON.stringify({ code: 0, ...extra });
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Answers the reserved hooks path on the relay port (see the file's header). */
export class NodeHooks {
  readonly counters: HookCounters = { accepted: 0, refused: 0, failed: 0 };

  constructor(private readonly deps: NodeHooksDeps) {}

  /** Answer `req` when it is a hook; false (nothing written) otherwise. */
  answer(req: IncomingMessage, res: ServerResponse): boolean {
    if (!isHookPath(req.url)) return false;
    this.serve(req, res).catch((error: unknown) => this.refuse(req, res, toRelayError(error)));
    return true;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://relay');
    const parts = url.pathname.slice(HOOKS_PATH_PREFIX.length).split('/');
    if (parts.length !== 2 || parts[0] === '' || !(HOOK_KINDS as readonly string[]).includes(parts[1]))
      throw new RelayError('NOT_FOUND', `hooks are ${HOOKS_PATH_PREFIX}<nodeId>/<kind>, kind one of ${HOOK_KINDS.join(', ')}`);
    const [nodeId, kind] = [decodeSegment(parts[0]), parts[1] as HookKind];
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new RelayError('METHOD_NOT_ALLOWED', `hooks take POST, not ${req.method}`);
    }
    const node = this.deps.nodes().find((n) => n.id === nodeId);
    checkHookSecret(node, nodeId, hookSecretOf(req.headers.authorization, url.searchParams));
    const event = parseHook(kind, parseBody(await readBody(req)), url.searchParams);
    if (event.event === 'ignore' || event.streams.length === 0) {
      this.counters.accepted += 1;
      return sendOk(res, { event: event.event });
    }
    const sink = this.deps.sink();
    try {
      if (!sink) throw new RelayError('FLEET_UNAVAILABLE', 'this relay has no stream registry');
      await sink[event.event](nodeId, event.streams);
    } catch (error) {
      const failure = toRelayError(error);
      this.counters.failed += 1;
      this.deps.log.warn(`hook ${kind} of node ${nodeId} (${event.event} ${event.streams.slice(0, 3).join(', ')}): not recorded: ${failure.message}`);
      if (kind === 'json' || kind === 'mediamtx') throw failure;
      return sendOk(res, { event: event.event, recorded: false });
    }
    this.counters.accepted += 1;
    this.deps.log.debug(`hook ${kind} of node ${nodeId}: ${event.event} ${event.streams.length} stream(s)`);
    sendOk(res, { event: event.event, streams: event.streams.length });
  }

  private refuse(req: IncomingMessage, res: ServerResponse, error: RelayError): void {
    if (error.code !== 'FLEET_UNAVAILABLE') this.counters.refused += 1;
    // A body left unread (refused before reading, or too large) would be parsed as the next request: the connection closes.
    if (!req.complete) res.shouldKeepAlive = false;
    sendError(res, error);
    if (!req.complete) req.resume();
  }
}
