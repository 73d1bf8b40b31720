/**
 * The playlist rewriter: every URI of a parsed playlist resolved against the URL the
 * playlist was fetched from, then written back as
 *   - proxy mode: a relay path (absolute-path reference) for every URI on a node, so the
 *     player never sees a node; the node's query is kept, the relay's hint appended;
 *   - redirect mode: an absolute node URL for media (segments, parts, init sections, keys),
 *     and a relay path for playlists, so refreshes keep coming through the relay and no
 *     relative URI is ever resolved against a pre-redirect URL.
 * Only the URI spans change; every other byte of the playlist is kept. The result is a
 * template: relay URIs stay open so each viewer's own auth parameters are added at render.
 */
import type { RouteConfig, RouteMode } from '../../../shared/config.js';
import { RelayError } from '../errors.js';
import type { RouteTable } from '../route-table.js';
import { hintPiece, HLS_HINT_PARAM } from './hint.js';
import { PlaylistError, type Playlist, type UriRef } from './playlist.js';
import { pieceName, queryPieces } from './query.js';
import { nodeOfUrl, pathVia, relayPathFor } from './uri-map.js';

/** A URI that goes back through the relay: its path and raw query pieces (the hint last). */
export interface RelayUri {
  path: string;
  params: string[];
}

/** Literal text and relay URIs, in order; rendered per viewer by renderTemplate. */
export type TemplatePart = string | RelayUri;

export interface RewriteContext {
  table: RouteTable;
  /** The route the playlist was requested on. */
  route: RouteConfig;
  mode: RouteMode;
  /** The absolute URL the playlist was fetched from: relative URIs resolve against it. */
  base: URL;
  /** Stream id for the hint (see hint.ts). */
  streamId: string;
  /** What to do with an http(s) URI on a host that is no configured node. */
  foreignUris: 'keep' | 'reject';
}

function refsByLine(playlist: Playlist): Map<number, UriRef[]> {
  const out = new Map<number, UriRef[]>();
  for (const ref of playlist.refs) {
    const list = out.get(ref.line) ?? [];
    list.push(ref);
    out.set(ref.line, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.start - b.start);
  return out;
}

/** Build the template of a parsed playlist. Throws RelayError HLS_UNMAPPABLE_URI or HLS_BAD_PLAYLIST. */
export function buildTemplate(playlist: Playlist, ctx: RewriteContext): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const routeByDir = new Map<string, RouteConfig | null>();
  const refs = refsByLine(playlist);
  let text = '';
  playlist.lines.forEach((line, index) => {
    const onLine = refs.get(index);
    if (!onLine) {
      text += `${line}\n`;
      return;
    }
    let cursor = 0;
    for (const ref of onLine) {
      text += line.slice(cursor, ref.start);
      const out = rewriteUri(ref, ctx, routeByDir);
      if (typeof out === 'string') {
        text += out;
      } else {
        parts.push(text, out);
        text = '';
      }
      cursor = ref.end;
    }
    text += `${line.slice(cursor)}\n`;
  });
  parts.push(text);
  return parts;
}

function rewriteUri(ref: UriRef, ctx: RewriteContext, routeByDir: Map<string, RouteConfig | null>): string | RelayUri {
  let url: URL;
  try {
    url = new URL(ref.uri, ctx.base);
  } catch {
    throw new RelayError('HLS_BAD_PLAYLIST', new PlaylistError(`${ref.source} is not a valid URI`, ref.line + 1).message);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return ref.uri; // data:, skd:, ...
  const onNode = nodeOfUrl(ctx.table, url);
  if (!onNode) {
    if (ctx.foreignUris === 'reject') {
      throw new RelayError('HLS_UNMAPPABLE_URI', `line ${ref.line + 1}: ${ref.source} points at ${url.host}, which is no configured node (hls.foreignUris is "reject")`);
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
    throw new RelayError('HLS_UNMAPPABLE_URI', `line ${ref.line + 1}: ${ref.source} is on node "${node.id}" at ${nodePath}, which no hls route of the relay reaches`);
  }
  const params = queryPieces(url.search).filter((piece) => pieceName(piece) !== HLS_HINT_PARAM);
  params.push(hintPiece({ streamId: ctx.streamId, nodeId: node.id }));
  return { path, params };
}

/**
 * Render a template for one viewer: `carry` (raw query pieces of the viewer's playlist
 * request, e.g. ["token=abc"]) goes into every relay URI, replacing the node's own
 * piece of the same name; the hint stays last.
 */
export function renderTemplate(parts: readonly TemplatePart[], carry: readonly string[], carryNames: ReadonlySet<string>): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const params = part.params;
    const hint = params[params.length - 1];
    let query = '';
    for (let i = 0; i < params.length - 1; i += 1) {
      if (carry.length && carryNames.has(pieceName(params[i]))) continue;
      query += `${params[i]}&`;
    }
    for (const piece of carry) query += `${piece}&`;
    out += `${part.path}?${query}${hint}`;
  }
  return out;
}

/** A viewer's carried pieces made safe for a quoted attribute value ('"' is the only character that could break one). */
export function safeCarryPieces(pieces: readonly string[]): string[] {
  return pieces.map((piece) => piece.replaceAll('"', '%22'));
}
