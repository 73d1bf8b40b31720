/**
 * Query strings handled as raw `name=value` pieces: nothing is decoded or re-encoded, so
 * a node's query (signatures included) reaches the node byte for byte. Names compare
 * exactly as written.
 */

/** The raw pieces of a query ("?a=1&b" → ["a=1", "b"]); empty pieces are dropped. */
export function queryPieces(query: string): string[] {
  const text = query.startsWith('?') ? query.slice(1) : query;
  return text ? text.split('&').filter((piece) => piece.length > 0) : [];
}

/** The name of a raw piece ("a=1" → "a"). */
export function pieceName(piece: string): string {
  const eq = piece.indexOf('=');
  return eq < 0 ? piece : piece.slice(0, eq);
}

/** The value of the first piece named `name` (raw), or undefined. */
export function queryValue(query: string, name: string): string | undefined {
  for (const piece of queryPieces(query)) {
    if (pieceName(piece) === name) {
      const eq = piece.indexOf('=');
      return eq < 0 ? '' : piece.slice(eq + 1);
    }
  }
  return undefined;
}

/** True when the query has a piece with one of `names`. */
export function hasAnyParam(query: string, names: readonly string[]): boolean {
  if (!query) return false;
  return queryPieces(query).some((piece) => names.includes(pieceName(piece)));
}

/** The pieces whose name is in `names`, in order. */
export function pickPieces(query: string, names: ReadonlySet<string>): string[] {
  return queryPieces(query).filter((piece) => names.has(pieceName(piece)));
}

/** The query without the pieces named in `names`: "?..." or "". */
export function withoutParams(query: string, names: ReadonlySet<string>): string {
  if (!query) return '';
  const kept = queryPieces(query).filter((piece) => !names.has(pieceName(piece)));
  return kept.length ? `?${kept.join('&')}` : '';
}
