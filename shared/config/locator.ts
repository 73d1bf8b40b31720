/** The `locator` section: stream location by probe (routes with locate "probe"). */
import { integer, object, setting } from '../schema.js';
import { HOUR_MS, ms } from './fields.js';

export const locatorSettingsSchema = object({
  probeTtlMs: setting(integer(100, HOUR_MS), 5_000, { unit: 'ms', doc: 'A probed stream location is trusted this long.' }),
  probeRefreshMs: setting(ms(HOUR_MS), 2_000, { unit: 'ms', doc: "Nodes' stream lists are refreshed in the background this often; 0 = only on demand." }),
  probeTimeoutMs: setting(integer(10, 60_000), 1_500, { unit: 'ms', doc: "Time allowed for one node's probe answer." }),
  probeCacheEntries: setting(integer(1, 1_000_000), 10_000, { unit: 'entries', doc: 'Most stream locations kept in the cache.' }),
});

const defaults = locatorSettingsSchema.parse({}, 'locator');

// Read from the schema, under the names code imports.
export const DEFAULT_PROBE_TTL_MS = defaults.probeTtlMs;
export const DEFAULT_PROBE_REFRESH_MS = defaults.probeRefreshMs;
export const DEFAULT_PROBE_TIMEOUT_MS = defaults.probeTimeoutMs;
export const DEFAULT_PROBE_CACHE_ENTRIES = defaults.probeCacheEntries;
