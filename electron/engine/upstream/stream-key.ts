/**
 * The stream key a path names on a node: "app/name" from the first two path segments,
 * the extension dropped. "/live/cam1.flv" and "/live/cam1/index.m3u8" are both "live/cam1".
 */
export function streamKey(nodePath: string): string {
  const segments = nodePath
    .split('?')[0]
    .split('/')
    .filter((s) => s.length > 0);
  const taken = segments.slice(0, 2);
  if (taken.length === 0) return '';
  const last = taken.length - 1;
  taken[last] = taken[last].replace(/\.[A-Za-z0-9]+$/, '');
  return taken.join('/');
}

/** A static-rule pattern ("live/cam*") as an anchored RegExp; "*" matches any characters. */
export function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}
