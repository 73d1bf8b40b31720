/**
 * Relay tiers: what this relay can serve to a relay below it (an edge whose node is this
 * relay, `nodes[].api.type` "relaydeck", reads it with listTierStreams). The answer names
 * stream keys as the edge computes them: "app/name" of the path the edge requests from this
 * relay (upstream/stream-key.ts), so an edge route without stripPrefix meets them as is.
 *
 * A key is in the answer when this relay knows the stream is there now:
 *   - a live FLV stream it pulls (its fan-out: the edge joins that pull);
 *   - an HLS stream requested within locator.probeTtlMs;
 *   - a stream its own nodes' stream-list APIs list, or a probe located, within
 *     locator.probeTtlMs (upstream/probe.ts knownKeys), mapped back through every flv or hls
 *     route that uses the node (the route's prefix put back when it strips it).
 * What a parent cannot know (a route whose nodes have no stream-list API and no stream
 * running) is not named: an edge above such a parent should use locate "first" or "hash".
 */
import type { RouteConfig } from '../../../shared/config.js';
import type { HlsStreamDto, StreamDto, TierStreamsDto } from '../../../shared/dto.js';
import type { RouteTable } from '../routing/route-table.js';
import { streamKey } from '../upstream/stream-key.js';

/** Most keys in one answer; past it the answer says `truncated` (an edge keeps at most locator.probeCacheEntries per node anyway). */
export const TIER_STREAMS_MAX_KEYS = 20_000;
/** Most characters of keys in one answer, so it stays well under what an edge reads (upstream/http-json.ts NODE_API_MAX_BYTES, 4 MiB). */
export const TIER_STREAMS_MAX_CHARS = 1_048_576;

/** One answer serves every edge that asks within this long, ms (edges refresh every locator.probeRefreshMs; building an answer of 10,000 keys costs about 10 ms of CPU). */
export const TIER_STREAMS_CACHE_MS = 500;

/** The last answer, reused for TIER_STREAMS_CACHE_MS (one entry). */
export class TierStreamsCache {
  private last: TierStreamsDto | undefined;

  get(now: number, build: () => TierStreamsDto): TierStreamsDto {
    if (!this.last || now - this.last.at >= TIER_STREAMS_CACHE_MS || now < this.last.at) this.last = build();
    return this.last;
  }
}

/** What the answer is built from (the engine's parts, read once per call). */
export interface TierStreamSources {
  relayId: string;
  table: RouteTable;
  /** Live FLV streams (relay/flv/hub.ts). */
  flv: StreamDto[];
  /** HLS streams seen (relay/hls). */
  hls: HlsStreamDto[];
  /** Keys each node holds per its fresh lists and located probes (upstream/probe.ts). */
  known: Map<string, Set<string>>;
  /** locator.probeTtlMs: how recent an HLS request must be. */
  ttlMs: number;
  now: number;
}

/** The relay path a node path `/key` of `route` comes from (the inverse of routing/target.ts nodePath). */
export function relayPathOf(route: RouteConfig, key: string): string {
  if (!route.stripPrefix) return `/${key}`;
  return route.path.endsWith('/') ? route.path + key : `${route.path}/${key}`;
}

/** The keys this relay can serve now, bounded by TIER_STREAMS_MAX_KEYS and TIER_STREAMS_MAX_CHARS. */
export function tierStreams(sources: TierStreamSources): TierStreamsDto {
  const keys = new Set<string>();
  let chars = 0;
  let truncated = false;
  const add = (key: string): boolean => {
    if (!key || keys.has(key)) return true;
    if (keys.size >= TIER_STREAMS_MAX_KEYS || chars + key.length > TIER_STREAMS_MAX_CHARS) {
      truncated = true;
      return false;
    }
    keys.add(key);
    chars += key.length;
    return true;
  };
  const { table } = sources;
  const routes = new Map(table.config.routes.map((r) => [r.id, r]));
  /** A node key of `route`, as the key of the relay path that reaches it (skipped when another route would take that path). */
  const addNodeKey = (route: RouteConfig, nodeKey: string): boolean => {
    const relayPath = relayPathOf(route, nodeKey);
    return table.match(relayPath) !== route || add(streamKey(relayPath));
  };
  for (const stream of sources.flv) if (stream.state !== 'closing' && !add(streamKey(stream.path))) return answer();
  for (const stream of sources.hls) {
    const route = routes.get(stream.routeId);
    if (route && sources.now - stream.lastRequestAt < sources.ttlMs && !addNodeKey(route, stream.streamKey)) return answer();
  }
  for (const route of table.config.routes) {
    if (route.kind === 'file') continue;
    for (const node of table.candidateNodes(route)) {
      for (const nodeKey of sources.known.get(node.id) ?? []) if (!addNodeKey(route, nodeKey)) return answer();
    }
  }
  return answer();

  function answer(): TierStreamsDto {
    return { relayId: sources.relayId, at: sources.now, keys: [...keys], truncated };
  }
}
