/**
 * HLS series for /metrics, read at scrape time: per stream (one label set per stream with
 * stats, bounded by hls.maxStreams) and for the cache as a whole.
 */
import { registerGaugeSeries } from '../metrics.js';
import { Gauge, type Registry } from 'prom-client';
import type { HlsCacheDto, HlsStreamDto } from '../../../../shared/dto.js';

const STREAM_SERIES: [string, string, (s: HlsStreamDto) => number][] = [
  ['relaydeck_hls_viewers', 'Distinct HLS viewers of a stream with a request within hls.viewerWindowMs.', (s) => s.viewers],
  ['relaydeck_hls_requests', 'HLS requests of a stream (playlists and segments).', (s) => s.requests],
  ['relaydeck_hls_cache_hits', 'HLS requests of a stream answered from the cache.', (s) => s.cacheHits],
  ['relaydeck_hls_coalesced', 'HLS requests of a stream that joined a node fetch in flight.', (s) => s.coalesced],
  [
    'relaydeck_hls_upstream_requests',
    'Node fetches made for a stream (cache misses and uncached LL-HLS blocking reloads).',
    (s) => s.upstreamRequests + s.bypassed,
  ],
  ['relaydeck_hls_upstream_requests_saved', 'Node requests the cache and coalescing saved for a stream.', (s) => s.upstreamRequestsSaved],
  ['relaydeck_hls_cache_hit_ratio', "Share of a stream's HLS requests answered without a node fetch of their own (0..1).", (s) => s.hitRatio],
  ['relaydeck_hls_bytes_in', 'Bytes read from nodes for a stream.', (s) => s.bytesIn],
  ['relaydeck_hls_bytes_out', 'Bytes written to the viewers of a stream.', (s) => s.bytesOut],
];

const CACHE_SERIES: [string, string, (c: HlsCacheDto) => number][] = [
  ['relaydeck_hls_cache_segment_bytes', 'Bytes held by the HLS segment cache.', (c) => c.segmentBytes],
  ['relaydeck_hls_cache_segment_max_bytes', 'Bound of the HLS segment cache, bytes (hls.segmentCacheMaxBytes).', (c) => c.segmentMaxBytes],
  ['relaydeck_hls_cache_segment_entries', 'Entries in the HLS segment cache.', (c) => c.segmentEntries],
  ['relaydeck_hls_cache_playlist_bytes', 'Bytes held by the HLS playlist cache.', (c) => c.playlistBytes],
  ['relaydeck_hls_cache_playlist_entries', 'Entries in the HLS playlist cache.', (c) => c.playlistEntries],
  ['relaydeck_hls_cache_inflight', 'HLS node fetches in flight.', (c) => c.inflight],
  ['relaydeck_hls_cache_evictions', 'HLS cache entries evicted to stay within the bounds.', (c) => c.evictions],
];

export function registerHlsMetrics(registry: Registry, streams: () => HlsStreamDto[], cache: () => HlsCacheDto): void {
  registerGaugeSeries(registry, STREAM_SERIES, streams, (stream) => ({ route: stream.routeId, stream: stream.streamKey }));
  for (const [name, help, pick] of CACHE_SERIES) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(pick(cache()));
      },
    });
  }
}
