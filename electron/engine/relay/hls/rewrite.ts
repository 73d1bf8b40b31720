/**
 * The playlist rewriter: every URI of a parsed playlist resolved against the URL the
 * playlist was fetched from, then written back as
 *   - proxy mode: a relay path (absolute-path reference) for every URI on a node, so the
 *     player never sees a node; the node's query is kept, the relay's hint appended (with
 *     a MAC over the node's pieces, so they, and only they, reach the node: hint.ts);
 *   - redirect mode: an absolute node URL for media (segments, parts, init sections, keys),
 *     and a relay path for playlists, so refreshes keep coming through the relay and no
 *     relative URI is ever resolved against a pre-redirect URL.
 * Only the URI spans change; every other byte of the playlist is kept. The result is a
 * compact template (template.ts): relay URIs stay open so each viewer's own auth parameters
 * are added at render.
 */
import { isAscii } from 'node:buffer';
import type { RouteConfig, RouteMode } from '../../../../shared/config.js';
import { RelayError } from '../../core/errors.js';
import type { RouteTable } from '../../routing/route-table.js';
import { hintMac, HLS_HINT_PARAM } from './hint.js';
import { PlaylistError, uriRef, type Playlist, type UriRef } from './playlist.js';
import { pieceName, queryPieces } from './query.js';
import { drain } from './slices.js';
import { renderTemplateSteps, TemplateBuilder, type Template } from './template.js';
import { isNodePiece } from './upstream-query.js';
import { nodeOfUrl, pathVia, relayPathFor } from './uri-map.js';

const NO_NAMES: ReadonlySet<string> = new Set();

export type { Template };

/** A URI that goes back through the relay: its path and raw query pieces (the hint last). */
interface RelayUri {
  /** The relay path and "?", then the node's pieces each followed by "&" unless `pieces` holds them. */
  head: string;
  /** The node's pieces, kept apart (in order) only when one is named like a carried parameter, which a viewer's carry replaces. */
  pieces?: string[];
  /** The hint's node and MAC (the hint is written last). */
  nodeId: string;
  mac?: string;
}

export interface RewriteContext {
  table: RouteTable;
  /** The route the playlist was requested on. */
  route: RouteConfig;
  mode: RouteMode;
  /** The absolute URL the playlist was fetched from: relative URIs resolve against it. */
  base: URL;
  /** Stream id for the hint (see hint.ts); a render may put another in its place (renderTemplate's `streamId`). */
  streamId: string;
  /** What to do with an http(s) URI on a host that is no configured node. */
  foreignUris: 'keep' | 'reject';
  /** Carried parameter names (hls.carryParams): a node piece of such a name is not vouched for. Default none. */
  carryNames?: ReadonlySet<string>;
}

/** Indexes of the playlist's URIs in text order (the parser writes them so, except within a line; sorted when not). */
function uriOrder(playlist: Playlist): Int32Array | undefined {
  const { start, count } = playlist.uris;
  for (let i = 1; i < count; i += 1) {
    if (start[i - 1] > start[i]) return Int32Array.from({ length: count }, (_, k) => k).sort((x, y) => start[x] - start[y]);
  }
  return undefined;
}

/**
 * A relative URI that resolves by plain concatenation to the base's directory: a file name of
 * unreserved characters (no dot segment) and a query that URL parsing keeps as written. Most
 * segment lines are such; they skip `new URL` (the bulk of the cost of a large playlist).
 */
const PLAIN_RELATIVE = /^(?!\.\.?(?:\?|$))[A-Za-z0-9._~-]+(?:\?[A-Za-z0-9._~!$&()*+,;=:@%/?-]*)?$/;

/** What the rewriter reads of a resolved URI (a URL, or the same parts put together by hand). */
type Resolved = Pick<URL, 'protocol' | 'host' | 'origin' | 'pathname' | 'search' | 'href'>;

/** What one template build memoizes: the route per node directory. */
interface BuildMemo {
  baseDir: string;
  routeByDir: Map<string, RouteConfig | null>;
}

/** URIs rewritten between two pauses of a sliced build (slices.ts): a few us each (a MAC, a path). */
const ITEMS_PER_STEP = 512;

/** Build the template of a parsed playlist. Throws RelayError HLS_UNMAPPABLE_URI or HLS_BAD_PLAYLIST. */
export function buildTemplate(playlist: Playlist, ctx: RewriteContext): Template {
  return drain(buildTemplateSteps(playlist, ctx));
}

/** buildTemplate as steps: it pauses (yields) every ITEMS_PER_STEP URIs. */
export function* buildTemplateSteps(playlist: Playlist, ctx: RewriteContext): Generator<void, Template> {
  const { text, uris } = playlist;
  // The bytes the template points into: the fetch's own body when its line ends were "\n", else the text put back so.
  const body = playlist.raw ?? Buffer.from(text.endsWith('\n') ? text : `${text}\n`);
  const ascii = isAscii(body); // then a character offset in the text is its byte offset
  yield;
  const memo: BuildMemo = { baseDir: ctx.base.pathname.slice(0, ctx.base.pathname.lastIndexOf('/') + 1), routeByDir: new Map() };
  const order = uriOrder(playlist);
  const builder = new TemplateBuilder(body, uris.count, ctx.streamId);
  let chars = 0; // a character offset in text, and its byte offset in body (multi-byte text)
  let bytes = 0;
  for (let r = 0; r < uris.count; r += 1) {
    if (r % ITEMS_PER_STEP === ITEMS_PER_STEP - 1) yield;
    const index = order ? order[r] : r;
    const ref = uriRef(playlist, index);
    const at = uris.start[index]; // the URI's start in text
    if (!ascii) {
      bytes += Buffer.byteLength(text.slice(chars, at));
      chars = at;
    }
    const start = ascii ? at : bytes;
    const end = start + (ascii ? ref.end - ref.start : Buffer.byteLength(ref.uri));
    const out = rewriteUri(ref, ctx, memo);
    if (typeof out === 'string') builder.add(start, end, ref.uri, out);
    else builder.add(start, end, ref.uri, out.head, out.pieces, out.nodeId, out.mac);
  }
  return builder.finish();
}

function resolve(ref: UriRef, ctx: RewriteContext, memo: BuildMemo): Resolved {
  const { base } = ctx;
  if (PLAIN_RELATIVE.test(ref.uri)) {
    const q = ref.uri.indexOf('?');
    const pathname = memo.baseDir + (q < 0 ? ref.uri : ref.uri.slice(0, q));
    const search = q < 0 || q === ref.uri.length - 1 ? '' : ref.uri.slice(q);
    return { protocol: base.protocol, host: base.host, origin: base.origin, pathname, search, href: base.origin + pathname + search };
  }
  try {
    return new URL(ref.uri, base);
  } catch {
    throw new RelayError('HLS_BAD_PLAYLIST', new PlaylistError(`${ref.source} is not a valid URI`, ref.line + 1).message);
  }
}

function rewriteUri(ref: UriRef, ctx: RewriteContext, memo: BuildMemo): string | RelayUri {
  const url = resolve(ref, ctx, memo);
  const { routeByDir } = memo;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return ref.uri; // data:, skd:, ...
  const onNode = nodeOfUrl(ctx.table, url);
  if (!onNode) {
    if (ctx.foreignUris === 'reject') {
      throw new RelayError(
        'HLS_UNMAPPABLE_URI',
        `line ${ref.line + 1}: ${ref.source} points at ${url.host}, which is no configured node (hls.foreignUris is "reject")`,
      );
    }
    return ref.uri;
  }
  if (ctx.mode === 'redirect' && ref.role === 'media') return url.href;
  const { node, nodePath } = onNode;
  if (nodePath === undefined) {
    throw new RelayError('HLS_UNMAPPABLE_URI', `line ${ref.line + 1}: ${ref.source} is on the host of node "${node.id}" but outside its URL's path`);
  }
  const dirKey = `${node.id}\n${nodePath.slice(0, nodePath.lastIndexOf('/') + 1)}`;
  let route = routeByDir.get(dirKey);
  if (route === undefined) {
    route = relayPathFor(ctx.table, ctx.route, node, nodePath)?.route ?? null;
    routeByDir.set(dirKey, route);
  }
  const path = route ? pathVia(route, nodePath) : undefined;
  if (path === undefined) {
    throw new RelayError(
      'HLS_UNMAPPABLE_URI',
      `line ${ref.line + 1}: ${ref.source} is on node "${node.id}" at ${nodePath}, which no hls route of the relay reaches`,
    );
  }
  const params = queryPieces(url.search).filter((piece) => pieceName(piece) !== HLS_HINT_PARAM);
  const carryNames = ctx.carryNames ?? NO_NAMES;
  const vouched = params.filter((piece) => isNodePiece(piece, carryNames));
  const mac = vouched.length > 0 ? hintMac(node.id, path, vouched) : undefined;
  // Without the carried names (a caller that gives them only at render), any node piece might be one.
  const mayBeCarried = ctx.carryNames === undefined ? params.length > 0 : params.some((piece) => carryNames.has(pieceName(piece)));
  // Joined (not concatenated): one flat string per URI instead of a chain of pieces.
  if (mayBeCarried) return { head: `${path}?`, pieces: params, nodeId: node.id, mac };
  let head = `${path}?`;
  for (const piece of params) head += `${piece}&`;
  return { head, nodeId: node.id, mac };
}

/**
 * Render a template for one viewer: `carry` (raw query pieces of the viewer's playlist
 * request, e.g. ["token=abc"]) goes into every relay URI, replacing the node's own
 * piece of the same name; the hint stays last, naming `streamId` when given (else the
 * stream the template was built for), so one template serves every stream id a viewer brings.
 */
export function renderTemplate(template: Template, carry: readonly string[], carryNames: ReadonlySet<string>, streamId?: string): string {
  return drain(renderSteps(template, carry, carryNames, streamId)).toString();
}

/** renderTemplate as steps, straight to UTF-8 bytes in one Buffer (template.ts). */
export function renderSteps(template: Template, carry: readonly string[], carryNames: ReadonlySet<string>, streamId?: string): Generator<void, Buffer> {
  return renderTemplateSteps(template, carry, carryNames, streamId);
}

/** A viewer's carried pieces made safe for a quoted attribute value ('"' is the only character that could break one). */
export function safeCarryPieces(pieces: readonly string[]): string[] {
  return pieces.map((piece) => piece.replaceAll('"', '%22'));
}
