/**
 * Weighted rendezvous (highest random weight) hashing of a stream key over nodes: every
 * node scores the key, the highest score wins. When a node leaves, only the streams it
 * held move; weights scale each node's share.
 */

/** 32-bit FNV-1a of a string. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // final avalanche (murmur3 fmix32) so similar keys spread evenly
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Score of `key` on a node of `weight`: weight / -ln(u), u uniform in (0, 1). */
export function rendezvousScore(key: string, nodeId: string, weight: number): number {
  const u = (fnv1a(`${key}\u0000${nodeId}`) + 0.5) / 4294967296;
  return weight / -Math.log(u);
}

/** Nodes ordered by their score for `key`, best first. */
export function rankByHash<T extends { id: string; weight: number }>(key: string, nodes: readonly T[]): T[] {
  return nodes
    .map((node) => ({ node, score: rendezvousScore(key, node.id, node.weight) }))
    .sort((a, b) => b.score - a.score)
    .map((entry) => entry.node);
}
