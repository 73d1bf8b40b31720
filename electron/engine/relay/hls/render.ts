/**
 * A fetched playlist as each viewer gets it: parsed once per fetch, turned into a template
 * once per (route table, route, mode), rendered (and UTF-8 encoded) once per stream id and
 * distinct set of carried auth parameters. All three are memoized on the fetch (which is the cache
 * entry), so 500 viewers of a cached playlist cost one parse, one rewrite and one write each. The memo
 * is bounded (playlist-state.ts: MEMO_BUDGET_FACTOR), and the playlist cache accounts for it.
 * A playlist over SLICED_PLAYLIST_MIN_BYTES is parsed, rewritten and rendered in slices
 * (slices.ts), the event loop serving other viewers in between; every viewer asking for the
 * same step while it runs waits for that one run.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { HlsSettings, RouteConfig } from '../../../../shared/config.js';
import { RelayError } from '../../core/errors.js';
import { withoutFields } from '../headers.js';
import type { RouteTable } from '../../routing/route-table.js';
import type { RenderedPlaylist } from './delivery.js';
import type { SharedFetch } from './fetch.js';
import { playlistState } from './playlist-state.js';
import { parsePlaylist, parseSteps, PlaylistError, type Playlist } from './playlist.js';
import { buildTemplate, buildTemplateSteps, renderSteps, type RewriteContext } from './rewrite.js';
import { drain, runSliced } from './slices.js';
import { templateBytes, type Template } from './template.js';

/** Playlists at least this large are parsed, rewritten and rendered in slices, bytes (smaller ones take a few ms at once). */
export const SLICED_PLAYLIST_MIN_BYTES = 256 * 1_024;
/** Most memo entries (templates and renderings) kept per fetched playlist. */
export const MAX_RENDERINGS_PER_PLAYLIST = 64;
const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';
/** Headers of the node's answer that describe its bytes, not the rewritten ones. */
const BODY_HEADERS: ReadonlySet<string> = new Set([
  'content-length',
  'etag',
  'last-modified',
  'content-md5',
  'content-encoding',
  'accept-ranges',
  'content-range',
  'digest',
]);

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
  const state = playlistState(fetch);
  const memo = state.memo;
  if (chars > state.memoBudget) return;
  for (const [old, entry] of memo) {
    if (memo.size < MAX_RENDERINGS_PER_PLAYLIST && state.memoChars + chars <= state.memoBudget) break;
    memo.delete(old);
    state.memoChars -= entry.chars;
  }
  memo.set(key, { value, chars });
  state.memoChars += chars;
}

function recall<T>(fetch: SharedFetch, key: string): T | undefined {
  return playlistState(fetch).memo.get(key)?.value as T | undefined;
}

/** What a template adds to the fetch's memory, bytes (its body is the fetch's own when the parse kept it). */
function templateChars(template: Template, fetch: SharedFetch): number {
  return templateBytes(template, template.body === fetch.body());
}

/** The parsed playlist of a complete 2xx fetch (memoized); throws RelayError HLS_BAD_PLAYLIST. */
export function parsedPlaylist(fetch: SharedFetch): Playlist {
  const state = playlistState(fetch);
  let parsed = state.parsed;
  if (!parsed) {
    try {
      parsed = parsePlaylist(fetch.body());
    } catch (error) {
      if (!(error instanceof PlaylistError)) throw error;
      parsed = new RelayError('HLS_BAD_PLAYLIST', `the node's playlist is malformed: ${error.message}`, { cause: error });
    }
    state.parsed = parsed;
  }
  if (parsed instanceof RelayError) throw parsed;
  return parsed;
}

/** How long a complete 2xx playlist fetch stays cached, ms. */
export function playlistTtlMs(fetch: SharedFetch, settings: HlsSettings): number {
  let playlist: Pick<Playlist, 'kind' | 'ended' | 'partTargetS' | 'targetDurationS'>;
  if (playlistState(fetch).parsed === undefined && fetch.received >= SLICED_PLAYLIST_MIN_BYTES) {
    playlist = scanTags(fetch.body()); // not parsed yet, and too large to parse here at once
  } else {
    try {
      playlist = parsedPlaylist(fetch);
    } catch {
      return settings.errorCacheMs;
    }
  }
  if (playlist.kind === 'master' || playlist.ended) return settings.staticPlaylistCacheMs;
  const seconds = playlist.partTargetS ?? playlist.targetDurationS ?? 0;
  return Math.floor((seconds * 1000 * settings.playlistCachePercent) / 100);
}

/** Bytes of a playlist's head searched for the target durations (they precede the first segment). */
const HEAD_SCAN_BYTES = 65_536;

/** What the cache time depends on, from a byte scan instead of a parse (a malformed playlist is found at its first render, and that error is kept as long). */
function scanTags(body: Buffer): Pick<Playlist, 'kind' | 'ended' | 'partTargetS' | 'targetDurationS'> {
  const head = body.subarray(0, HEAD_SCAN_BYTES).toString('latin1');
  const target = /^#EXT-X-TARGETDURATION:(\d{1,9})\s*$/m.exec(head);
  const part = /^#EXT-X-PART-INF:.*PART-TARGET=(\d{1,9}(?:\.\d{1,9})?)/m.exec(head);
  return {
    kind: body.includes('#EXT-X-STREAM-INF') ? 'master' : 'media',
    ended: body.includes('#EXT-X-ENDLIST') || /^#EXT-X-PLAYLIST-TYPE:VOD\s*$/m.test(head),
    targetDurationS: target ? Number(target[1]) : undefined,
    partTargetS: part ? Number(part[1]) : undefined,
  };
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

/** This viewer's copy of a complete 2xx playlist fetch (later, for a large one). Throws (or rejects with) RelayError. */
export function renderPlaylist(fetch: SharedFetch, ctx: ViewerContext): RenderedPlaylist | Promise<RenderedPlaylist> {
  return fetch.received >= SLICED_PLAYLIST_MIN_BYTES ? renderSliced(fetch, ctx) : renderAtOnce(fetch, ctx);
}

/** A template serves every stream id (a render writes the viewer's): a viewer naming other streams costs a render, never a rewrite. */
function templateKeyOf(ctx: ViewerContext): string {
  return `t\n${tableId(ctx.table)}\n${ctx.route.id}\n${ctx.route.mode}`;
}

function renderKeyOf(templateKey: string, ctx: ViewerContext): string {
  return `r\n${templateKey}\n${ctx.streamId}\n${ctx.carry.join('&')}`;
}

function rewriteContext(fetch: SharedFetch, ctx: ViewerContext): RewriteContext {
  const base = new URL(fetch.spec.endpoint.origin + fetch.spec.path);
  return { table: ctx.table, route: ctx.route, mode: ctx.route.mode, base, streamId: ctx.streamId, foreignUris: ctx.foreignUris, carryNames: ctx.carryNames };
}

/** Sliced steps running now, per fetch and memo key: later askers wait for the same run. */
const running = new WeakMap<SharedFetch, Map<string, Promise<unknown>>>();

function once<T>(fetch: SharedFetch, key: string, run: () => Promise<T>): Promise<T> {
  let jobs = running.get(fetch);
  if (!jobs) {
    jobs = new Map();
    running.set(fetch, jobs);
  }
  let job = jobs.get(key) as Promise<T> | undefined;
  if (!job) {
    const started = run().finally(() => jobs.delete(key));
    jobs.set(key, started);
    job = started;
  }
  return job;
}

/** The parsed playlist of a large fetch, parsed in slices when not yet (memoized on the fetch like parsedPlaylist). */
async function parsedSliced(fetch: SharedFetch): Promise<Playlist> {
  const parsed =
    playlistState(fetch).parsed ??
    (await once(fetch, 'parse', async () => {
      let done: Playlist | RelayError;
      try {
        done = await runSliced(parseSteps(fetch.body()));
      } catch (error) {
        if (!(error instanceof PlaylistError)) throw error;
        done = new RelayError('HLS_BAD_PLAYLIST', `the node's playlist is malformed: ${error.message}`, { cause: error });
      }
      playlistState(fetch).parsed = done;
      return done;
    }));
  if (parsed instanceof RelayError) throw parsed;
  return parsed;
}

async function renderSliced(fetch: SharedFetch, ctx: ViewerContext): Promise<RenderedPlaylist> {
  const templateKey = templateKeyOf(ctx);
  const renderKey = renderKeyOf(templateKey, ctx);
  const headers = playlistHeaders(fetch.headers, ctx.carry.length > 0);
  const ready = recall<Buffer>(fetch, renderKey); // first: it may outlive its template in the memo
  if (ready) return { body: ready, headers };
  const template =
    recall<Template | RelayError>(fetch, templateKey) ??
    (await once(fetch, templateKey, async () => {
      const playlist = await parsedSliced(fetch);
      let built: Template | RelayError;
      try {
        built = await runSliced(buildTemplateSteps(playlist, rewriteContext(fetch, ctx)));
      } catch (error) {
        if (!(error instanceof RelayError)) throw error;
        built = error;
      }
      remember(fetch, templateKey, built, built instanceof RelayError ? 0 : templateChars(built, fetch));
      // The parsed text of a large playlist is as large as its body, the template adds a few bytes per URI: the parse is dropped once the template is built (another route's template parses again).
      const state = playlistState(fetch);
      if (!(state.parsed instanceof RelayError)) state.parsed = undefined;
      return built;
    }));
  if (template instanceof RelayError) throw template;
  const body =
    recall<Buffer>(fetch, renderKey) ??
    (await once(fetch, renderKey, async () => {
      const rendered = await runSliced(renderSteps(template, ctx.carry, ctx.carryNames, ctx.streamId));
      remember(fetch, renderKey, rendered, rendered.length);
      return rendered;
    }));
  return { body, headers };
}

function renderAtOnce(fetch: SharedFetch, ctx: ViewerContext): RenderedPlaylist {
  const playlist = parsedPlaylist(fetch);
  const templateKey = templateKeyOf(ctx);
  let template = recall<Template | RelayError>(fetch, templateKey);
  if (!template) {
    try {
      template = buildTemplate(playlist, rewriteContext(fetch, ctx));
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      template = error;
    }
    remember(fetch, templateKey, template, template instanceof RelayError ? 0 : templateChars(template, fetch));
  }
  if (template instanceof RelayError) throw template;
  const renderKey = renderKeyOf(templateKey, ctx);
  let body = recall<Buffer>(fetch, renderKey);
  if (body === undefined) {
    body = drain(renderSteps(template, ctx.carry, ctx.carryNames, ctx.streamId));
    remember(fetch, renderKey, body, body.length);
  }
  return { body, headers: playlistHeaders(fetch.headers, ctx.carry.length > 0) };
}

/** The playlist headers made from a node's headers: [shared copy, personal copy], each made once (never changed after). */
const playlistHeaderSets = new WeakMap<OutgoingHttpHeaders, [OutgoingHttpHeaders | undefined, OutgoingHttpHeaders | undefined]>();

/** The headers a rendered playlist is answered with; the same object for every viewer of the fetch (callers copy it before adding). */
function playlistHeaders(nodeHeaders: OutgoingHttpHeaders, personal: boolean): OutgoingHttpHeaders {
  let sets = playlistHeaderSets.get(nodeHeaders);
  if (!sets) {
    sets = [undefined, undefined];
    playlistHeaderSets.set(nodeHeaders, sets);
  }
  const index = personal ? 1 : 0;
  return (sets[index] ??= makePlaylistHeaders(nodeHeaders, personal));
}

function makePlaylistHeaders(nodeHeaders: OutgoingHttpHeaders, personal: boolean): OutgoingHttpHeaders {
  const headers = withoutFields(nodeHeaders, BODY_HEADERS);
  const type = String(headers['content-type'] ?? '');
  if (!/mpegurl/i.test(type)) headers['content-type'] = PLAYLIST_CONTENT_TYPE;
  // A copy with a viewer's credentials in it must not be served to anyone else by a shared cache.
  if (personal) headers['cache-control'] = 'private, no-cache';
  else if (headers['cache-control'] === undefined) headers['cache-control'] = 'no-cache';
  return headers;
}
