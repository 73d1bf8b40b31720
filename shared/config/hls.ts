/** The `hls` section: HLS through the relay (hls routes): playlist rewriting, segment and playlist cache, stats. */
import { array, integer, object, oneOf, setting, string } from '../schema.js';
import { HOUR_MS, MAX_NODES, ms } from './fields.js';

/**
 * Query parameter names a carried parameter may not take: the relay's own stream and node
 * hint and its viewer session (HLS_HINT_PARAM in electron/engine/relay/hls/hint.ts and
 * HLS_SESSION_PARAM in hls/viewer-sessions.ts, which the relay owns; the config only refuses
 * them, and tests/unit/config/metadata.test.ts keeps them equal), besides every LL-HLS "_HLS_" name.
 */
export const HLS_RESERVED_PARAMS: readonly string[] = ['_rdh', '_rds'];

/** HLS through the relay (hls routes): playlist rewriting, segment and playlist cache, stats. */
export const hlsSettingsSchema = object({
  segmentCacheMaxBytes: setting(integer(0, 64 * 1_073_741_824), 128 * 1_048_576, {
    unit: 'bytes',
    doc: 'Segment cache bound over all streams; fetches in flight that may be cached count against it too; 0 turns segment caching off.',
  }),
  segmentCacheMaxEntries: setting(integer(1, 1_000_000), 10_000, { unit: 'entries', doc: 'Segment cache bound.' }),
  segmentMaxBytes: setting(integer(1_024, 1_073_741_824), 16 * 1_048_576, {
    unit: 'bytes',
    doc: 'Largest object (segment, part, key, error body) cached; larger ones stream through uncached.',
  }),
  segmentTtlMs: setting(integer(100, 24 * HOUR_MS), 60_000, {
    unit: 'ms',
    doc: 'How long a cached segment is served (a live encoder that restarts may reuse segment names).',
  }),
  playlistCachePercent: setting(integer(0, 100), 50, {
    unit: 'percent',
    doc: 'Live media playlists are cached for this share of their target duration (of the part target for LL-HLS); 0 = not cached (concurrent requests still share one fetch).',
  }),
  staticPlaylistCacheMs: setting(ms(HOUR_MS), 5_000, { unit: 'ms', doc: 'Master and ended (VOD, EXT-X-ENDLIST) playlists are cached this long.' }),
  playlistMaxBytes: setting(integer(1_024, 256 * 1_048_576), 4 * 1_048_576, {
    unit: 'bytes',
    doc: 'Largest playlist accepted from a node; a larger one is cut off and answered 502 HLS_PLAYLIST_TOO_LARGE.',
  }),
  playlistWorkMaxBytes: setting(integer(1_024, 4 * 1_073_741_824), 16 * 1_048_576, {
    unit: 'bytes',
    doc: 'Bytes all playlist fetches in flight may hold together (a playlist is held whole until parsed); a fetch that would pass it is refused 503 HLS_BUSY, never counted against the node. At least hls.playlistMaxBytes.',
  }),
  playlistWorkMaxCount: setting(integer(1, 10_000), 32, {
    unit: 'fetches',
    doc: 'Most playlist fetches in flight at once (distinct playlists; viewers of one share its fetch); past it: 503 HLS_BUSY, never counted against the node.',
  }),
  playlistCacheMaxBytes: setting(integer(0, 4 * 1_073_741_824), 32 * 1_048_576, { unit: 'bytes', doc: 'Playlist cache bound (raw playlists from nodes).' }),
  playlistCacheMaxEntries: setting(integer(1, 100_000), 1_000, { unit: 'entries', doc: 'Playlist cache bound.' }),
  errorCacheMs: setting(ms(60_000), 1_000, { unit: 'ms', doc: 'Node errors (non-2xx answers, failed fetches) are cached this long; 0 = not cached.' }),
  carryParams: setting(
    array(string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_.~-]+$/, patternName: 'a query parameter name of letters, digits, "_", ".", "~" or "-"' }), 16),
    ['sign', 'sp', 'token', 'jwt'],
    {
      doc: "Query parameters carried from a viewer's playlist request into the playlist's relay URIs (never into node URLs): by default the viewer auth parameters (signature, signed prefix, token, JWT).",
    },
  ),
  foreignUris: setting(oneOf(['keep', 'reject'] as const), 'keep', {
    doc: 'An http(s) URI on a host that is no configured node: "keep" it as written, or "reject" the playlist (502).',
  }),
  viewerWindowMs: setting(integer(1_000, HOUR_MS), 15_000, { unit: 'ms', doc: 'A viewer counts as watching while it made a request within this long.' }),
  maxStreams: setting(integer(1, 100_000), 1_000, { unit: 'streams', doc: 'Most HLS streams with stats at once (the least recently active is dropped).' }),
  maxTrackedViewers: setting(integer(1, 10_000_000), 100_000, { unit: 'viewers', doc: 'Most HLS viewers tracked at once, over all streams.' }),
  streamIdleMs: setting(integer(1_000, 24 * HOUR_MS), 120_000, { unit: 'ms', doc: "A stream's stats are dropped after no request for this long." }),
  maxNodeAttempts: setting(integer(1, MAX_NODES), 3, {
    unit: 'nodes',
    doc: 'Most nodes one request (playlist or segment) is tried on, the first included: a node that fails before the viewer got a byte (no connection, reset, timeout, 5xx, or 404 while the locator offered others) hands over to the next; 1 = no failover.',
  }),
});

const defaults = hlsSettingsSchema.parse({}, 'hls');

// Read from the schema, under the names code imports.
export const DEFAULT_HLS_SEGMENT_CACHE_MAX_BYTES = defaults.segmentCacheMaxBytes;
export const DEFAULT_HLS_SEGMENT_CACHE_MAX_ENTRIES = defaults.segmentCacheMaxEntries;
export const DEFAULT_HLS_SEGMENT_MAX_BYTES = defaults.segmentMaxBytes;
export const DEFAULT_HLS_SEGMENT_TTL_MS = defaults.segmentTtlMs;
export const DEFAULT_HLS_PLAYLIST_CACHE_PERCENT = defaults.playlistCachePercent;
export const DEFAULT_HLS_STATIC_PLAYLIST_CACHE_MS = defaults.staticPlaylistCacheMs;
export const DEFAULT_HLS_PLAYLIST_MAX_BYTES = defaults.playlistMaxBytes;
export const DEFAULT_HLS_PLAYLIST_WORK_MAX_BYTES = defaults.playlistWorkMaxBytes;
export const DEFAULT_HLS_PLAYLIST_WORK_MAX_COUNT = defaults.playlistWorkMaxCount;
export const DEFAULT_HLS_PLAYLIST_CACHE_MAX_BYTES = defaults.playlistCacheMaxBytes;
export const DEFAULT_HLS_PLAYLIST_CACHE_MAX_ENTRIES = defaults.playlistCacheMaxEntries;
export const DEFAULT_HLS_ERROR_CACHE_MS = defaults.errorCacheMs;
export const DEFAULT_HLS_CARRY_PARAMS: readonly string[] = Object.freeze(defaults.carryParams);
export const DEFAULT_HLS_VIEWER_WINDOW_MS = defaults.viewerWindowMs;
export const DEFAULT_HLS_MAX_STREAMS = defaults.maxStreams;
export const DEFAULT_HLS_MAX_TRACKED_VIEWERS = defaults.maxTrackedViewers;
export const DEFAULT_HLS_STREAM_IDLE_MS = defaults.streamIdleMs;
export const DEFAULT_HLS_MAX_NODE_ATTEMPTS = defaults.maxNodeAttempts;
