/**
 * The normal form of a request path (RFC 3986 §6.2.2), the one form routes are matched on,
 * auth and signatures are checked on, and the node receives; the relay computes it once
 * per request (electron/engine/routing/target.ts parseRequestTarget), and the config check requires
 * route prefixes in it (shared/config.ts). Pure code: the renderer compiles shared/ too.
 *
 * - escapes of unreserved characters (ALPHA DIGIT - . _ ~) are decoded ("%73" → "s"),
 *   every other escape stays encoded with uppercase hex ("%e2" → "%E2");
 * - characters a path may not hold raw (" < > [ ] ^ ` { | }) are encoded;
 * - runs of "/" merge into one;
 * - dot segments ("." and "..", raw or encoded, also between encoded slashes) are refused,
 *   as are a raw "\" and malformed escapes or UTF-8, and dot segments in disguise: a segment
 *   that a lenient node (lenientSegment) reads as dots only ("..;x", ".;", "...", "..%20");
 * - an encoded "/" or "\" (%2F, %5C) is kept encoded and reported, for the route to allow
 *   or refuse (routes[].allowEncodedSlash).
 */

export interface NormalPath {
  /** The path in normal form. */
  path: string;
  /** The path holds an encoded "/" or "\" (%2F or %5C). */
  encodedSlash: boolean;
}

/** A path already in normal form with nothing to check: plain pchar segments, no "%" or "//". */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9._~!$&'()*+,;=:@-]+)*\/?$/;
/** A segment starting with "." (a dot segment, possibly in disguise): such paths take the full check. */
const DOT_START = /\/\./;
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
/** Characters a path segment may hold raw (RFC 3986 pchar without "%"). */
const PCHAR = /^[A-Za-z0-9._~!$&'()*+,;=:@-]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
const ENCODED_SLASH = /%2F|%5C/;

/** Dots and spaces only, at least one dot: what "..;", "...", ".. " read as on a lenient node. */
const DOTS_ONLY = /^[. ]*\.[. ]*$/;
/** Where a path parameter (";") or an NTFS stream name (":", as in "dir::$INDEX_ALLOCATION") starts, raw or escaped (some nodes decode first). */
const PARAM_START = /[;:]|%3B|%3A/i;

/**
 * How a lenient node may read one segment of a normal-form path: Tomcat and Jetty drop a ";"
 * path parameter, Windows drops an NTFS stream name after ":", and servers on Windows or with
 * Unicode folding ignore letter case and compatibility forms (NFKC). The relay never forwards
 * this form; it refuses paths whose reading would differ where it matters (here: a segment of
 * dots only; electron/engine/routing/target.ts checkLenientRoute: a longer route).
 */
export function lenientSegment(segment: string): string {
  const param = segment.search(PARAM_START);
  let text = param >= 0 ? segment.slice(0, param) : segment;
  try {
    text = decodeURIComponent(text);
  } catch {
    /* kept as is: normalSegment refuses malformed escapes */
  }
  return text.normalize('NFKC').toLowerCase();
}

/**
 * A normal-form path as a lenient node may read it (lenientSegment per segment, "%2F" and
 * "%5C" as separators, trailing dots and spaces dropped as Windows does, empty segments
 * merged). Only compared with lenientPath of route prefixes, never forwarded.
 */
export function lenientPath(path: string): string {
  const segments = path.replace(/%2F|%5C/gi, '/').split('/');
  const last = segments.length - 1;
  const kept = segments
    .map((segment, i) => (i === 0 ? '' : lenientSegment(segment).replace(/[. ]+$/, '')))
    .filter((segment, i) => i === 0 || i === last || segment !== '');
  return kept.join('/') || '/';
}

/** Normalise one segment; throws an Error saying what is wrong. */
function normalSegment(segment: string, seen: { encodedSlash: boolean }): string {
  let out = '';
  for (let i = 0; i < segment.length; i += 1) {
    const char = segment[i];
    if (char === '%') {
      const hex = segment.slice(i + 1, i + 3);
      if (!HEX2.test(hex)) throw new Error('the path has a malformed percent-encoding');
      const decoded = String.fromCharCode(parseInt(hex, 16));
      if (UNRESERVED.test(decoded)) out += decoded;
      else out += `%${hex.toUpperCase()}`;
      if (decoded === '/' || decoded === '\\') seen.encodedSlash = true;
      i += 2;
    } else if (char === '\\') {
      throw new Error('the path holds a "\\"');
    } else if (PCHAR.test(char)) {
      out += char;
    } else {
      out += `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  if (out.split(ENCODED_SLASH).some((piece) => piece === '.' || piece === '..')) throw new Error('the path holds a dot segment ("." or "..")');
  if (out.includes('%')) {
    try {
      decodeURIComponent(out);
    } catch {
      throw new Error('the path has a percent-encoding that is not UTF-8');
    }
  }
  if (out.split(ENCODED_SLASH).some((piece) => DOTS_ONLY.test(lenientSegment(piece)))) {
    throw new Error('the path holds a dot segment in disguise ("..;", ".;", "...", dots and spaces), which lenient nodes resolve as ".."');
  }
  return out;
}

/**
 * The normal form of `path` (which starts with "/", visible ASCII only, no query); throws
 * an Error saying why the path is refused.
 */
export function normalisePath(path: string): NormalPath {
  if (PLAIN_PATH.test(path) && !DOT_START.test(path)) return { path, encodedSlash: false };
  const seen = { encodedSlash: false };
  const parts = path.split('/');
  let out = '';
  for (let i = 1; i < parts.length; i += 1) {
    const last = i === parts.length - 1;
    if (parts[i] === '' && !last) continue; // "//" merges into "/"
    out += `/${normalSegment(parts[i], seen)}`;
  }
  return { path: out || '/', encodedSlash: seen.encodedSlash };
}
