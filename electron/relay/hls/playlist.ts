/**
 * The m3u8 parser (RFC 8216bis, LL-HLS included): a playlist read into its lines plus
 * every URI it holds, each with its exact span in its line, so the rewriter replaces URIs
 * and nothing else. Master and media playlists; URIs in segment and variant lines and in
 * the attribute lists of the tags in URI_TAGS. Anything malformed throws PlaylistError
 * naming the line, which the relay answers as 502 HLS_BAD_PLAYLIST.
 */
import { AttributeError, parseAttributes, type Attribute } from './attributes.js';
import { drain } from './slices.js';

/**
 * What a URI names, which decides where redirect mode sends it: a "playlist" is loaded
 * (and refreshed) by the player as a playlist, so it stays on the relay; "media" is loaded
 * as bytes (segments, parts, init sections, keys, JSON) and goes straight to the node.
 */
export type UriRole = 'playlist' | 'media';

/** One URI in a playlist. */
export interface UriRef {
  /** Index into Playlist.lines. */
  line: number;
  /** Span of the URI in its line. */
  start: number;
  end: number;
  uri: string;
  role: UriRole;
  /** "segment", "variant" or the tag and attribute, e.g. "EXT-X-MAP URI". */
  source: string;
  /** True when the URI sits inside a quoted attribute value (a rewrite must not put '"' there). */
  quoted: boolean;
}

export interface Playlist {
  kind: 'master' | 'media';
  /** The lines as received (BOM removed, line ends dropped). */
  lines: string[];
  /** The body itself when it is exactly the lines each followed by "\n" (no BOM, no "\r"): a template keeps it instead of a copy. */
  raw?: Buffer;
  refs: UriRef[];
  /** EXT-X-TARGETDURATION, s (media playlists). */
  targetDurationS?: number;
  /** EXT-X-PART-INF PART-TARGET, s (LL-HLS). */
  partTargetS?: number;
  /** EXT-X-ENDLIST or EXT-X-PLAYLIST-TYPE:VOD: the playlist will not change. */
  ended: boolean;
  /** Media segments listed. */
  segments: number;
}

/** The tags whose attribute lists carry URIs, with the role of each URI attribute. */
export const URI_TAGS: Readonly<Record<string, Readonly<Record<string, UriRole>>>> = {
  'EXT-X-MAP': { URI: 'media' },
  'EXT-X-KEY': { URI: 'media' },
  'EXT-X-SESSION-KEY': { URI: 'media' },
  'EXT-X-MEDIA': { URI: 'playlist' },
  'EXT-X-I-FRAME-STREAM-INF': { URI: 'playlist' },
  'EXT-X-PART': { URI: 'media' },
  'EXT-X-PRELOAD-HINT': { URI: 'media' },
  'EXT-X-RENDITION-REPORT': { URI: 'playlist' },
  'EXT-X-SESSION-DATA': { URI: 'media' },
  'EXT-X-CONTENT-STEERING': { 'SERVER-URI': 'media' },
  'EXT-X-DATERANGE': { 'X-ASSET-URI': 'playlist', 'X-ASSET-LIST': 'media' },
};

/** Tags whose URI attribute must be present (EXT-X-KEY too, unless METHOD=NONE). */
const URI_REQUIRED: ReadonlySet<string> = new Set(['EXT-X-MAP', 'EXT-X-I-FRAME-STREAM-INF', 'EXT-X-PART', 'EXT-X-PRELOAD-HINT', 'EXT-X-RENDITION-REPORT', 'EXT-X-CONTENT-STEERING']);
/** Tags only a master playlist may hold. */
const MASTER_TAGS: ReadonlySet<string> = new Set(['EXT-X-STREAM-INF', 'EXT-X-I-FRAME-STREAM-INF', 'EXT-X-MEDIA', 'EXT-X-SESSION-DATA', 'EXT-X-SESSION-KEY', 'EXT-X-CONTENT-STEERING']);
/** Tags only a media playlist may hold (the ones that make it one). */
const MEDIA_TAGS: ReadonlySet<string> = new Set(['EXTINF', 'EXT-X-TARGETDURATION', 'EXT-X-MEDIA-SEQUENCE', 'EXT-X-PART', 'EXT-X-PART-INF', 'EXT-X-MAP', 'EXT-X-ENDLIST', 'EXT-X-PRELOAD-HINT', 'EXT-X-SKIP']);

/** Longest line accepted, characters: a longer one is garbage, not a playlist. */
export const MAX_LINE_CHARS = 65_536;

/** A playlist that cannot be read; `line` is 1-based (0 when not tied to a line). */
export class PlaylistError extends Error {
  constructor(
    message: string,
    readonly line = 0,
  ) {
    super(line ? `line ${line}: ${message}` : message);
    this.name = 'PlaylistError';
  }
}

// Controls other than tab (a playlist is UTF-8 text without them).
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;
const DECIMAL_INTEGER = /^\d{1,16}$/;
const DECIMAL_FLOAT = /^\d{1,16}(\.\d{1,16})?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decode(body: Buffer | string): string {
  if (typeof body === 'string') return body;
  try {
    return utf8.decode(body);
  } catch {
    throw new PlaylistError('not UTF-8 text');
  }
}

interface Tag {
  name: string;
  /** Index in the line where the value starts (after ":"), or -1 when there is none. */
  valueAt: number;
}

function tagOf(line: string): Tag | undefined {
  if (!line.startsWith('#EXT')) return undefined;
  const colon = line.indexOf(':');
  return colon < 0 ? { name: line.slice(1), valueAt: -1 } : { name: line.slice(1, colon), valueAt: colon + 1 };
}

/** Lines parsed between two pauses of a sliced parse (slices.ts). */
const LINES_PER_STEP = 2_048;

/** Parse a playlist body. Throws PlaylistError. */
export function parsePlaylist(body: Buffer | string): Playlist {
  return drain(parseSteps(body));
}

/** The parse as steps: it pauses (yields) every LINES_PER_STEP lines and returns the playlist; throws PlaylistError. */
export function* parseSteps(body: Buffer | string): Generator<void, Playlist> {
  const decoded = decode(body);
  const text = decoded.replace(/^\uFEFF/, '');
  const raw = typeof body !== 'string' && text === decoded && text.endsWith('\n') && !text.includes('\r') ? body : undefined;
  yield;
  const lines = text.split(/\r\n|\r|\n/);
  yield;
  if (lines.at(-1) === '') lines.pop();
  if (lines[0]?.trimEnd() !== '#EXTM3U') throw new PlaylistError('not an HLS playlist: the first line is not #EXTM3U', 1);
  const kind = playlistKind(lines);
  const playlist: Playlist = { kind, lines, refs: [], ended: false, segments: 0 };
  if (raw) playlist.raw = raw;
  let awaitingVariant = 0; // line (1-based) of an EXT-X-STREAM-INF still waiting for its URI
  for (let i = 1; i < lines.length; i += 1) {
    if (i % LINES_PER_STEP === 0) yield;
    const line = lines[i];
    if (line.length > MAX_LINE_CHARS) throw new PlaylistError(`line longer than ${MAX_LINE_CHARS} characters`, i + 1);
    if (CONTROL.test(line)) throw new PlaylistError('control characters in the playlist', i + 1);
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (trimmed.startsWith('#')) {
      const tag = tagOf(trimmed);
      if (!tag) continue; // a comment
      if (awaitingVariant && tag.name !== 'EXT-X-STREAM-INF') throw new PlaylistError('EXT-X-STREAM-INF is not followed by a URI line', awaitingVariant);
      if (tag.name === 'EXT-X-STREAM-INF') {
        if (awaitingVariant) throw new PlaylistError('EXT-X-STREAM-INF is not followed by a URI line', awaitingVariant);
        awaitingVariant = i + 1;
      }
      readTag(playlist, line, i, tag);
      continue;
    }
    // A URI line: a variant after EXT-X-STREAM-INF, or a media segment.
    const start = line.indexOf(trimmed);
    if (kind === 'master') {
      if (!awaitingVariant) throw new PlaylistError('a URI line in a master playlist must follow EXT-X-STREAM-INF', i + 1);
      playlist.refs.push({ line: i, start, end: start + trimmed.length, uri: trimmed, role: 'playlist', source: 'variant', quoted: false });
      awaitingVariant = 0;
    } else {
      playlist.refs.push({ line: i, start, end: start + trimmed.length, uri: trimmed, role: 'media', source: 'segment', quoted: false });
      playlist.segments += 1;
    }
  }
  if (awaitingVariant) throw new PlaylistError('EXT-X-STREAM-INF is not followed by a URI line', awaitingVariant);
  if (kind === 'media' && playlist.segments > 0 && playlist.targetDurationS === undefined) {
    throw new PlaylistError('a media playlist without EXT-X-TARGETDURATION');
  }
  return playlist;
}

/** Master or media, from the tags present; a playlist holding both kinds is refused. */
function playlistKind(lines: string[]): 'master' | 'media' {
  let master = 0;
  let media = 0;
  for (let i = 1; i < lines.length; i += 1) {
    const tag = tagOf(lines[i].trimStart());
    if (!tag) continue;
    if (MASTER_TAGS.has(tag.name)) master ||= i + 1;
    else if (MEDIA_TAGS.has(tag.name)) media ||= i + 1;
    if (master && media) throw new PlaylistError(`mixes master playlist tags (line ${master}) and media playlist tags (line ${media})`, Math.max(master, media));
  }
  return master ? 'master' : 'media';
}

function attributesOf(line: string, index: number, tag: Tag): Map<string, Attribute> {
  if (tag.valueAt < 0) throw new PlaylistError(`${tag.name} has no attribute list`, index + 1);
  try {
    return parseAttributes(line, line.indexOf(':') + 1);
  } catch (error) {
    if (error instanceof AttributeError) throw new PlaylistError(`${tag.name}: ${error.message}`, index + 1);
    throw error;
  }
}

function readTag(playlist: Playlist, rawLine: string, index: number, tag: Tag): void {
  const line = rawLine;
  const value = tag.valueAt < 0 ? '' : line.trim().slice(tag.valueAt);
  switch (tag.name) {
    case 'EXT-X-TARGETDURATION':
      if (!DECIMAL_INTEGER.test(value)) throw new PlaylistError(`EXT-X-TARGETDURATION is not a whole number of seconds: "${value.slice(0, 40)}"`, index + 1);
      playlist.targetDurationS = Number(value);
      return;
    case 'EXTINF': {
      const duration = value.split(',', 1)[0].trim();
      if (!DECIMAL_FLOAT.test(duration)) throw new PlaylistError(`EXTINF duration is not a number: "${duration.slice(0, 40)}"`, index + 1);
      return;
    }
    case 'EXT-X-MEDIA-SEQUENCE':
    case 'EXT-X-DISCONTINUITY-SEQUENCE':
      if (!DECIMAL_INTEGER.test(value)) throw new PlaylistError(`${tag.name} is not a whole number: "${value.slice(0, 40)}"`, index + 1);
      return;
    case 'EXT-X-ENDLIST':
      playlist.ended = true;
      return;
    case 'EXT-X-PLAYLIST-TYPE':
      if (value === 'VOD') playlist.ended = true;
      return;
    case 'EXT-X-PART-INF': {
      const target = attributesOf(line, index, tag).get('PART-TARGET');
      if (!target || !DECIMAL_FLOAT.test(target.value)) throw new PlaylistError('EXT-X-PART-INF needs a numeric PART-TARGET', index + 1);
      playlist.partTargetS = Number(target.value);
      return;
    }
    case 'EXT-X-STREAM-INF':
      attributesOf(line, index, tag); // checked for syntax; its URI is the next line
      return;
    default:
      if (URI_TAGS[tag.name]) readUriAttributes(playlist, line, index, tag);
  }
}

function readUriAttributes(playlist: Playlist, line: string, index: number, tag: Tag): void {
  const attributes = attributesOf(line, index, tag);
  const roles = URI_TAGS[tag.name];
  let found = 0;
  for (const [name, role] of Object.entries(roles)) {
    const attribute = attributes.get(name);
    if (!attribute) continue;
    if (!attribute.quoted) throw new PlaylistError(`${tag.name} ${name} must be a quoted string`, index + 1);
    if (attribute.value.trim() === '') throw new PlaylistError(`${tag.name} ${name} is empty`, index + 1);
    playlist.refs.push({ line: index, start: attribute.start, end: attribute.end, uri: attribute.value, role, source: `${tag.name} ${name}`, quoted: true });
    found += 1;
  }
  const keyNeedsUri = (tag.name === 'EXT-X-KEY' || tag.name === 'EXT-X-SESSION-KEY') && attributes.get('METHOD')?.value !== 'NONE';
  if (found === 0 && (URI_REQUIRED.has(tag.name) || keyNeedsUri)) {
    throw new PlaylistError(`${tag.name} has no ${Object.keys(roles)[0]} attribute`, index + 1);
  }
}
