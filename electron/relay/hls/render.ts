/**
 * A fetched playlist as each viewer gets it: parsed once per fetch, turned into a template
 * once per (route table, route, mode, stream), rendered once per distinct set of carried
 * auth parameters. All three are memoized on the fetch (which is the cache entry), so 500
 * viewers of a cached playlist cost one parse, one rewrite and a string join each. The memo
 * is bounded (fetch.ts: MEMO_BUDGET_FACTOR), and the playlist cache accounts for it.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { HlsSettings, RouteConfig } from '../../../shared/config.js';
import { RelayError } from '../errors.js';
import type { RouteTable } from '../route-table.js';
import type { RenderedPlaylist } from './delivery.js';
import type { SharedFetch } from './fetch.js';
import { parsePlaylist, PlaylistError, type Playlist } from './playlist.js';
import { buildTemplate, renderTemplate, type TemplatePart } from './rewrite.js';

/** Most memo entries (templates and renderings) kept per fetched playlist. */
export const MAX_RENDERINGS_PER_PLAYLIST = 64;
const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';
/** Headers of the node's answer that describe its bytes, not the rewritten ones. */
const BODY_HEADERS = ['content-length', 'etag', 'last-modified', 'content-md5', 'content-encoding', 'accept-ranges', 'content-range', 'digest'];

const tableIds = new WeakMap<RouteTable, number>();
let nextTableId = 1;
function tableId(table: RouteTable): number {
  let id = tableIds.get(table);
  if (id === undefined) {
    id = nextTableId++;
    tableIds.set(table, id);
  }
  return id;
}

/** Keep `value` for later viewers, oldest entries making room; within the fetch's memo budget (else it is simply not kept). */
function remember(fetch: SharedFetch, key: string, value: unknown, chars: number): void {
  const memo = fetch.memo;
  if (chars > fetch.memoBudget) return;
  for (const [old, entry] of memo) {
    if (memo.size < MAX_RENDERINGS_PER_PLAYLIST && fetch.memoChars + chars <= fetch.memoBudget) break;
    memo.delete(old);
    fetch.memoChars -= entry.chars;
  }
  memo.set(key, { value, chars });
  fetch.memoChars += chars;
}

function recall<T>(fetch: SharedFetch, key: string): T | undefined {
  return fetch.memo.get(key)?.value as T | undefined;
}

function templateChars(template: TemplatePart[]): number {
  let chars = 0;
  for (const part of template) chars += typeof part === 'string' ? part.length : part.path.length + part.params.reduce((n, p) => n + p.length + 1, 0);
  return chars;
}

/** The parsed playlist of a complete 2xx fetch (memoized); throws RelayError HLS_BAD_PLAYLIST. */
export function parsedPlaylist(fetch: SharedFetch): Playlist {
  let parsed = fetch.parsed as Playlist | RelayError | undefined;
  if (!parsed) {
    try {
      parsed = parsePlaylist(fetch.body());
    } catch (error) {
      if (!(error instanceof PlaylistError)) throw error;
      parsed = new RelayError('HLS_BAD_PLAYLIST', `the node's playlist is malformed: ${error.message}`, { cause: error });
    }
    fetch.parsed = parsed;
  }
  if (parsed instanceof RelayError) throw parsed;
  return parsed;
}

/** How long a complete 2xx playlist fetch stays cached, ms. */
export function playlistTtlMs(fetch: SharedFetch, settings: HlsSettings): number {
  let playlist: Playlist;
  try {
    playlist = parsedPlaylist(fetch);
  } catch {
    return settings.errorCacheMs;
  }
  if (playlist.kind === 'master' || playlist.ended) return settings.staticPlaylistCacheMs;
  const seconds = playlist.partTargetS ?? playlist.targetDurationS ?? 0;
  return Math.floor((seconds * 1000 * settings.playlistCachePercent) / 100);
}

export interface ViewerContext {
  table: RouteTable;
  route: RouteConfig;
  streamId: string;
  /** The viewer's carried auth pieces ("token=abc"), made safe for quoted values. */
  carry: string[];
  carryNames: ReadonlySet<string>;
  foreignUris: 'keep' | 'reject';
}

/** This viewer's copy of a complete 2xx playlist fetch. Throws RelayError. */
export function renderPlaylist(fetch: SharedFetch, ctx: ViewerContext): RenderedPlaylist {
  const playlist = parsedPlaylist(fetch);
  const templateKey = `t\n${tableId(ctx.table)}\n${ctx.route.id}\n${ctx.route.mode}\n${ctx.streamId}`;
  let template = recall<TemplatePart[] | RelayError>(fetch, templateKey);
  if (!template) {
    try {
      const base = new URL(fetch.spec.endpoint.origin + fetch.spec.path);
      template = buildTemplate(playlist, { table: ctx.table, route: ctx.route, mode: ctx.route.mode, base, streamId: ctx.streamId, foreignUris: ctx.foreignUris });
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      template = error;
    }
    remember(fetch, templateKey, template, template instanceof RelayError ? 0 : templateChars(template));
  }
  if (template instanceof RelayError) throw template;
  const renderKey = `r\n${templateKey}\n${ctx.carry.join('&')}`;
  let body = recall<string>(fetch, renderKey);
  if (body === undefined) {
    body = renderTemplate(template, ctx.carry, ctx.carryNames);
    remember(fetch, renderKey, body, body.length);
  }
  return { body, headers: playlistHeaders(fetch.headers, ctx.carry.length > 0) };
}

function playlistHeaders(nodeHeaders: OutgoingHttpHeaders, personal: boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...nodeHeaders };
  for (const name of BODY_HEADERS) delete headers[name];
  const type = String(headers['content-type'] ?? '');
  if (!/mpegurl/i.test(type)) headers['content-type'] = PLAYLIST_CONTENT_TYPE;
  // A copy with a viewer's credentials in it must not be served to anyone else by a shared cache.
  if (personal) headers['cache-control'] = 'private, no-cache';
  else if (headers['cache-control'] === undefined) headers['cache-control'] = 'no-cache';
  return headers;
}
