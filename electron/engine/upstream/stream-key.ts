/**
 * The stream key a path names on a node: "app/name" from the first two path segments,
 * the extension dropped. "/live/cam1.flv" and "/live/cam1/index.m3u8" are both "live/cam1".
 */
export function streamKey(nodePath: string): string {
  const query = nodePath.indexOf('?');
  const path = query < 0 ? nodePath : nodePath.slice(0, query);
  let app: string | undefined;
  let start = 0;
  // The first two non-empty segments (per-request work: no split of the whole path).
  while (start <= path.length) {
    const slash = path.indexOf('/', start);
    const end = slash < 0 ? path.length : slash;
    if (end > start) {
      const segment = path.slice(start, end);
      if (app !== undefined) return `${app}/${withoutExtension(segment)}`;
      app = segment;
    }
    start = end + 1;
  }
  return app === undefined ? '' : withoutExtension(app);
}

/** True for an ASCII letter or digit (char code). */
const isAlphanumeric = (code: number) => (code >= 48 && code <= 57) || ((code | 0x20) >= 97 && (code | 0x20) <= 122);

/** The segment without a final ".ext" of ASCII letters and digits ("cam1.flv" is "cam1"; "a.b-c" stays). */
function withoutExtension(segment: string): string {
  const dot = segment.lastIndexOf('.');
  if (dot < 0 || dot === segment.length - 1) return segment;
  for (let i = dot + 1; i < segment.length; i += 1) if (!isAlphanumeric(segment.charCodeAt(i))) return segment;
  return segment.slice(0, dot);
}

/** A static-rule pattern ("live/cam*") as an anchored RegExp; "*" matches any characters. */
export function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}
