/** The `flv` section: live HTTP-FLV fan-out (flv routes in proxy mode). */
import { integer, object, setting } from '../schema.js';
import { HOUR_MS, ms } from './fields.js';

const MAX_STREAMS = 1_000;

/** Live HTTP-FLV fan-out settings (flv routes in proxy mode). */
export const flvSettingsSchema = object({
  gopCacheMaxBytes: setting(integer(0, 256 * 1_048_576), 8 * 1_048_576, { unit: 'bytes', doc: 'GOP cache bound per stream.' }),
  gopCacheMaxTags: setting(integer(0, 100_000), 4_096, { unit: 'tags', doc: 'GOP cache bound per stream in tags (video and audio frames).' }),
  viewerQueueMaxBytes: setting(integer(16_384, 256 * 1_048_576), 2 * 1_048_576, {
    unit: 'bytes',
    doc:
      "One viewer's outgoing queue bound; over it the viewer skips to the next keyframe. Writes held for a merge over TLS (flv.tlsWriteBatchMs) " +
      'count in it, and a viewer holds at most a quarter of it (more goes out at once).',
  }),
  slowViewerTimeoutMs: setting(integer(100, HOUR_MS), 15_000, { unit: 'ms', doc: 'A viewer still behind (dropping frames) after this long is disconnected.' }),
  idleCloseMs: setting(ms(HOUR_MS), 1_500, { unit: 'ms', doc: 'The upstream pull closes this long after the last viewer leaves; 0 = at once.' }),
  firstMediaTimeoutMs: setting(integer(50, 600_000), 1_500, {
    unit: 'ms',
    doc: "Media must start this long after the node's 200, else the stream counts as offline.",
  }),
  failoverGraceMs: setting(ms(HOUR_MS), 10_000, { unit: 'ms', doc: 'Viewers stay connected this long while the upstream is lost and retried.' }),
  reconnectMinMs: setting(integer(10, 60_000), 100, { unit: 'ms', doc: 'First reconnect delay (doubles per failed attempt); at most flv.reconnectMaxMs.' }),
  reconnectMaxMs: setting(integer(10, 600_000), 2_000, { unit: 'ms', doc: 'Longest reconnect delay.' }),
  writeBatchMs: setting(integer(0, 100), 0, { unit: 'ms', doc: 'Write batching for large audiences; 0 = off (each upstream chunk goes out at once).' }),
  tlsWriteBatchMs: setting(integer(0, 100), 100, {
    unit: 'ms',
    doc:
      "Merged writes for viewers over TLS (HTTPS, HTTP/2, wss://): a viewer's live writes are held this long and sent as one, which costs one TLS record and one " +
      'syscall instead of one per upstream chunk (the start, with the cached GOP, is never held). Applies when larger than flv.writeBatchMs. 0 = off.',
  }),
  maxStreams: setting(integer(1, 100_000), MAX_STREAMS, { unit: 'streams', doc: 'Most live FLV streams (upstream pulls) at once.' }),
  maxStreamsPerClient: setting(integer(0, 100_000), MAX_STREAMS / 20, {
    unit: 'streams',
    doc:
      'Most streams one client address (an IPv6 address by its /64) may have opened, that is pulled first, and that are still open; a further new stream from it gets 429 ' +
      'CLIENT_STREAM_LIMIT. Joining a stream already open is never limited. Behind a proxy or CDN list it in relay.trustedProxies, or every viewer counts as the proxy. ' +
      "0 = no limit. The default is a twentieth of flv.maxStreams' default.",
  }),
  newStreamsPerClientPerMinute: setting(integer(0, 100_000), 120, {
    unit: 'streams per minute',
    doc:
      'Rate of new streams (pulls, offline ones included) one client address may open: this many at once, then one more each 60/N s as the allowance refills; ' +
      'past it 429 CLIENT_STREAM_LIMIT with Retry-After. Joins are never limited. 0 = no limit.',
  }),
});

const defaults = flvSettingsSchema.parse({}, 'flv');

// Read from the schema, under the names code imports.
export const DEFAULT_GOP_CACHE_MAX_BYTES = defaults.gopCacheMaxBytes;
export const DEFAULT_GOP_CACHE_MAX_TAGS = defaults.gopCacheMaxTags;
export const DEFAULT_VIEWER_QUEUE_MAX_BYTES = defaults.viewerQueueMaxBytes;
export const DEFAULT_SLOW_VIEWER_TIMEOUT_MS = defaults.slowViewerTimeoutMs;
export const DEFAULT_IDLE_CLOSE_MS = defaults.idleCloseMs;
export const DEFAULT_FIRST_MEDIA_TIMEOUT_MS = defaults.firstMediaTimeoutMs;
export const DEFAULT_FAILOVER_GRACE_MS = defaults.failoverGraceMs;
export const DEFAULT_RECONNECT_MIN_MS = defaults.reconnectMinMs;
export const DEFAULT_RECONNECT_MAX_MS = defaults.reconnectMaxMs;
export const DEFAULT_MAX_STREAMS = defaults.maxStreams;
export const DEFAULT_FLV_MAX_STREAMS_PER_CLIENT = defaults.maxStreamsPerClient;
export const DEFAULT_FLV_NEW_STREAMS_PER_CLIENT_PER_MINUTE = defaults.newStreamsPerClientPerMinute;
