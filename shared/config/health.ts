/** The `health` section: node health checks, active and passive (defaults; a node may override them in `nodes[].health`). */
import { integer, object, setting, string } from '../schema.js';
import { HOUR_MS, ms } from './fields.js';

/** Health check defaults, set in one place (nodes may override them). */
export const healthSettingsSchema = object({
  path: setting(string({ min: 1, max: 1024, pattern: /^\/[\x21-\x7e]*$/, patternName: 'a path starting with "/"' }), '/', {
    doc: 'Path requested by the active check (GET); any HTTP answer below 500 passes.',
  }),
  intervalMs: setting(ms(HOUR_MS), 5_000, { unit: 'ms', doc: 'Time between active checks of one node; 0 disables active checks.' }),
  timeoutMs: setting(integer(10, 600_000), 2_000, { unit: 'ms', doc: 'Time allowed for one check.' }),
  passes: setting(integer(1, 100), 2, { unit: 'checks', doc: 'Consecutive passed checks that bring a down node up.' }),
  fails: setting(integer(1, 100), 3, { unit: 'checks', doc: 'Consecutive failed checks that take a node down.' }),
  passiveWindowMs: setting(integer(100, HOUR_MS), 30_000, { unit: 'ms', doc: 'Window in which passive (proxy) failures count against a node.' }),
  passiveMaxFails: setting(integer(0, 10_000), 5, {
    unit: 'failures',
    doc: 'Proxy failures within the window that take a node down; 0 disables passive checks.',
  }),
});

const defaults = healthSettingsSchema.parse({}, 'health');

// Read from the schema, under the names code imports.
export const DEFAULT_HEALTH_INTERVAL_MS = defaults.intervalMs;
export const DEFAULT_HEALTH_TIMEOUT_MS = defaults.timeoutMs;
export const DEFAULT_HEALTH_PASSES = defaults.passes;
export const DEFAULT_HEALTH_FAILS = defaults.fails;
export const DEFAULT_PASSIVE_WINDOW_MS = defaults.passiveWindowMs;
export const DEFAULT_PASSIVE_MAX_FAILS = defaults.passiveMaxFails;
