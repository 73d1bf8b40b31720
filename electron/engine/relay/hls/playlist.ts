/**
 * The m3u8 parser (RFC 8216bis, LL-HLS included): a playlist read into its text plus
 * every URI it holds, each with its exact span, so the rewriter replaces URIs and nothing
 * else. Spans are kept in typed arrays (UriSpans), not an object per URI or a string per
 * line, so a 4 MB playlist's parse leaves a few objects for the collector, not 250k;
 * `lines` and `refs` build the per-line and per-URI views on demand (tests, small playlists). Master and media playlists; URIs in segment and variant lines and in
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

/** Every URI of a playlist, in the order found; offsets are characters of Playlist.text. */
export interface UriSpans {
  count: number;
  /** Index of the URI's line. */
  line: Int32Array;
  start: Int32Array;
  end: Int32Array;
  /** Index into URI_SOURCES. */
  source: Uint8Array;
}

/** What a URI is, by where it sits: "segment", "variant" or tag and attribute ("EXT-X-MAP URI"). */
export interface UriSource {
  source: string;
  role: UriRole;
  quoted: boolean;
}

export interface Playlist {
  kind: 'master' | 'media';
  /** The text as received, BOM removed, every line end made "\n". */
  text: string;
  /** Character offset of each line in `text` (the count is `lineCount`). */
  lineStarts: Int32Array;
  lineCount: number;
  uris: UriSpans;
  /** The lines (built on each read). */
  readonly lines: string[];
  /** The URIs with their spans in their lines (built on each read). */
  readonly refs: UriRef[];
  /** The body itself when it is exactly `text` with a final "\n" (no BOM, no "\r"): a template keeps it instead of a copy. */
  raw?: Buffer;
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

/** The sources of URI_TAGS and the two kinds of URI line, indexed by UriSpans.source. */
export const URI_SOURCES: readonly UriSource[] = [
  { source: 'segment', role: 'media', quoted: false },
  { source: 'variant', role: 'playlist', quoted: false },
  ...Object.entries(URI_TAGS).flatMap(([tag, attributes]) =>
    Object.entries(attributes).map(([name, role]) => ({ source: `${tag} ${name}`, role, quoted: true })),
  ),
];
const SEGMENT = 0;
const VARIANT = 1;
const SOURCE_INDEX = new Map(URI_SOURCES.map((source, index) => [source.source, index]));

/** Tags whose URI attribute must be present (EXT-X-KEY too, unless METHOD=NONE). */
const URI_REQUIRED: ReadonlySet<string> = new Set([
  'EXT-X-MAP',
  'EXT-X-I-FRAME-STREAM-INF',
  'EXT-X-PART',
  'EXT-X-PRELOAD-HINT',
  'EXT-X-RENDITION-REPORT',
  'EXT-X-CONTENT-STEERING',
]);
/** Tags only a master playlist may hold. */
const MASTER_TAGS: ReadonlySet<string> = new Set([
  'EXT-X-STREAM-INF',
  'EXT-X-I-FRAME-STREAM-INF',
  'EXT-X-MEDIA',
  'EXT-X-SESSION-DATA',
  'EXT-X-SESSION-KEY',
  'EXT-X-CONTENT-STEERING',
]);
/** Tags only a media playlist may hold (the ones that make it one). */
const MEDIA_TAGS: ReadonlySet<string> = new Set([
  'EXTINF',
  'EXT-X-TARGETDURATION',
  'EXT-X-MEDIA-SEQUENCE',
  'EXT-X-PART',
  'EXT-X-PART-INF',
  'EXT-X-MAP',
  'EXT-X-ENDLIST',
  'EXT-X-PRELOAD-HINT',
  'EXT-X-SKIP',
]);

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
  const unmarked = decoded.replace(/^\uFEFF/, '');
  const crlf = unmarked.includes('\r');
  const text = crlf ? unmarked.replace(/\r\n?/g, '\n') : unmarked;
  const raw = typeof body !== 'string' && text === decoded && text.endsWith('\n') ? body : undefined;
  yield;
  const starts = yield* lineStartsOf(text);
  const count = starts.length;
  const line0 = lineOf(text, starts, count, 0);
  if (line0.trimEnd() !== '#EXTM3U') throw new PlaylistError('not an HLS playlist: the first line is not #EXTM3U', 1);
  const kind = yield* playlistKind(text, starts, count);
  const spans = new SpanList();
  const playlist: Playlist = {
    kind,
    text,
    lineStarts: starts,
    lineCount: count,
    uris: { count: 0, line: new Int32Array(0), start: new Int32Array(0), end: new Int32Array(0), source: new Uint8Array(0) },
    get lines() {
      return linesOf(this);
    },
    get refs() {
      return refsOf(this);
    },
    ended: false,
    segments: 0,
  };
  if (raw) playlist.raw = raw;
  let awaitingVariant = 0; // line (1-based) of an EXT-X-STREAM-INF still waiting for its URI
  for (let i = 1; i < count; i += 1) {
    if (i % LINES_PER_STEP === 0) yield;
    const line = lineOf(text, starts, count, i);
    if (line.length > MAX_LINE_CHARS) throw new PlaylistError(`line longer than ${MAX_LINE_CHARS} characters`, i + 1);
    if (CONTROL.test(line)) throw new PlaylistError('control characters in the playlist', i + 1);
    if (line.startsWith('#EXTINF:')) {
      // The common line of a large playlist, checked as readTag would without building its tag.
      if (awaitingVariant) throw new PlaylistError('EXT-X-STREAM-INF is not followed by a URI line', awaitingVariant);
      const comma = line.indexOf(',', 8);
      checkDuration((comma < 0 ? line.slice(8) : line.slice(8, comma)).trim(), i);
      continue;
    }
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
      readTag(playlist, spans, line, i, tag);
      continue;
    }
    // A URI line: a variant after EXT-X-STREAM-INF, or a media segment.
    const start = starts[i] + line.indexOf(trimmed);
    if (kind === 'master') {
      if (!awaitingVariant) throw new PlaylistError('a URI line in a master playlist must follow EXT-X-STREAM-INF', i + 1);
      spans.push(i, start, start + trimmed.length, VARIANT);
      awaitingVariant = 0;
    } else {
      spans.push(i, start, start + trimmed.length, SEGMENT);
      playlist.segments += 1;
    }
  }
  if (awaitingVariant) throw new PlaylistError('EXT-X-STREAM-INF is not followed by a URI line', awaitingVariant);
  if (kind === 'media' && playlist.segments > 0 && playlist.targetDurationS === undefined) {
    throw new PlaylistError('a media playlist without EXT-X-TARGETDURATION');
  }
  playlist.uris = spans.done();
  return playlist;
}

function linesOf(playlist: Playlist): string[] {
  const out: string[] = [];
  for (let i = 0; i < playlist.lineCount; i += 1) out.push(lineOf(playlist.text, playlist.lineStarts, playlist.lineCount, i));
  return out;
}

/** The URI at index `i` of `playlist.uris` as a UriRef (span relative to its line). */
export function uriRef(playlist: Playlist, i: number): UriRef {
  const { uris, lineStarts, text } = playlist;
  const line = uris.line[i];
  const { source, role, quoted } = URI_SOURCES[uris.source[i]];
  return {
    line,
    start: uris.start[i] - lineStarts[line],
    end: uris.end[i] - lineStarts[line],
    uri: text.slice(uris.start[i], uris.end[i]),
    role,
    source,
    quoted,
  };
}

function refsOf(playlist: Playlist): UriRef[] {
  const out: UriRef[] = [];
  for (let i = 0; i < playlist.uris.count; i += 1) out.push(uriRef(playlist, i));
  return out;
}

/** Character offsets of the lines of `text` (split at "\n", a final empty line dropped), pausing every LINES_PER_STEP lines. */
function* lineStartsOf(text: string): Generator<void, Int32Array> {
  const starts: number[] = [0];
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) {
    if (starts.length % (4 * LINES_PER_STEP) === 0) yield;
    starts.push(at + 1);
  }
  if (starts.length > 1 && starts[starts.length - 1] === text.length) starts.pop();
  return Int32Array.from(starts);
}

/** Line `i` of a playlist's text (without its "\n"). */
function lineOf(text: string, starts: Int32Array, count: number, i: number): string {
  const end = i + 1 < count ? starts[i + 1] - 1 : text.endsWith('\n') ? text.length - 1 : text.length;
  return text.slice(starts[i], end);
}

/** Growable arrays of URI spans while parsing. */
class SpanList {
  line: number[] = [];
  start: number[] = [];
  end: number[] = [];
  source: number[] = [];
  push(line: number, start: number, end: number, source: number): void {
    this.line.push(line);
    this.start.push(start);
    this.end.push(end);
    this.source.push(source);
  }
  done(): UriSpans {
    return {
      count: this.line.length,
      line: Int32Array.from(this.line),
      start: Int32Array.from(this.start),
      end: Int32Array.from(this.end),
      source: Uint8Array.from(this.source),
    };
  }
}

/** Master or media, from the tags present; a playlist holding both kinds is refused. */
function* playlistKind(text: string, starts: Int32Array, count: number): Generator<void, 'master' | 'media'> {
  let master = 0;
  let media = 0;
  for (let i = 1; i < count; i += 1) {
    if (i % (4 * LINES_PER_STEP) === 0) yield;
    if (text.startsWith('#EXTINF:', starts[i])) {
      media ||= i + 1; // the common line of a large playlist, without the tag's slices
      if (master) throw new PlaylistError(`mixes master playlist tags (line ${master}) and media playlist tags (line ${media})`, Math.max(master, media));
      continue;
    }
    const tag = tagOf(lineOf(text, starts, count, i).trimStart());
    if (!tag) continue;
    if (MASTER_TAGS.has(tag.name)) master ||= i + 1;
    else if (MEDIA_TAGS.has(tag.name)) media ||= i + 1;
    if (master && media)
      throw new PlaylistError(`mixes master playlist tags (line ${master}) and media playlist tags (line ${media})`, Math.max(master, media));
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

function checkDuration(duration: string, index: number): void {
  if (!DECIMAL_FLOAT.test(duration)) throw new PlaylistError(`EXTINF duration is not a number: "${duration.slice(0, 40)}"`, index + 1);
}

function readTag(playlist: Playlist, spans: SpanList, rawLine: string, index: number, tag: Tag): void {
  const line = rawLine;
  const value = tag.valueAt < 0 ? '' : line.trim().slice(tag.valueAt);
  switch (tag.name) {
    case 'EXT-X-TARGETDURATION':
      if (!DECIMAL_INTEGER.test(value)) throw new PlaylistError(`EXT-X-TARGETDURATION is not a whole number of seconds: "${value.slice(0, 40)}"`, index + 1);
      playlist.targetDurationS = Number(value);
      return;
    case 'EXTINF':
      checkDuration(value.split(',', 1)[0].trim(), index);
      return;
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
      if (URI_TAGS[tag.name]) readUriAttributes(spans, playlist.lineStarts[index], line, index, tag);
  }
}

function readUriAttributes(spans: SpanList, lineStart: number, line: string, index: number, tag: Tag): void {
  const attributes = attributesOf(line, index, tag);
  const roles = URI_TAGS[tag.name];
  let found = 0;
  for (const name of Object.keys(roles)) {
    const attribute = attributes.get(name);
    if (!attribute) continue;
    if (!attribute.quoted) throw new PlaylistError(`${tag.name} ${name} must be a quoted string`, index + 1);
    if (attribute.value.trim() === '') throw new PlaylistError(`${tag.name} ${name} is empty`, index + 1);
    spans.push(index, lineStart + attribute.start, lineStart + attribute.end, SOURCE_INDEX.get(`${tag.name} ${name}`)!);
    found += 1;
  }
  const keyNeedsUri = (tag.name === 'EXT-X-KEY' || tag.name === 'EXT-X-SESSION-KEY') && attributes.get('METHOD')?.value !== 'NONE';
  if (found === 0 && (URI_REQUIRED.has(tag.name) || keyNeedsUri)) {
    throw new PlaylistError(`${tag.name} has no ${Object.keys(roles)[0]} attribute`, index + 1);
  }
}
