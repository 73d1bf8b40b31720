/**
 * The `fleet` section: several relays sharing config, stream locations and load through Redis
 * (electron/engine/fleet/). Off while `redisUrl` is empty: a single relay without Redis works
 * exactly as without this section. Everything here stays local to the relay (never shared):
 * how to reach Redis, which fleet to join and under which name. What is shared is every other
 * section except `relay.host`/`port`/`publicUrl`, `tls`, `admin`, `logs`, `app` and `demo`
 * (FLEET_LOCAL_SECTIONS, FLEET_LOCAL_RELAY_KEYS).
 */
import { boolean, integer, object, setting, string, SchemaError, type Schema } from '../schema.js';
import { HOUR_MS } from './fields.js';

/** Sections that stay on each relay in fleet mode; every other section is the fleet's shared document. */
export const FLEET_LOCAL_SECTIONS = ['tls', 'admin', 'logs', 'app', 'demo', 'fleet'] as const;
/** Keys of the `relay` section that stay on each relay (where it listens and how viewers reach it). */
export const FLEET_LOCAL_RELAY_KEYS = ['host', 'port', 'publicUrl', 'listenBacklog'] as const;

/** A Redis URL: "" (fleet off), redis://[user:password@]host[:port][/db] or rediss:// (TLS). */
export const redisUrl = (): Schema<string> => {
  const text = string({ max: 2048 });
  return {
    parse(value, path) {
      const parsed = text.parse(value, path);
      if (parsed === '') return parsed;
      let url: URL;
      try {
        url = new URL(parsed);
      } catch {
        throw new SchemaError(path, `expected "" or a redis:// or rediss:// URL, got "${parsed.slice(0, 40)}"`);
      }
      if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new SchemaError(path, `expected a redis:// or rediss:// URL, got ${url.protocol}//`);
      if (!url.hostname) throw new SchemaError(path, 'expected a host in the Redis URL');
      if (url.pathname && url.pathname !== '/' && !/^\/[0-9]{1,2}$/.test(url.pathname))
        throw new SchemaError(path, 'expected the database as a number after the host ("/0")');
      return parsed;
    },
  };
};

const fleetName = () => string({ min: 1, max: 64, pattern: /^[A-Za-z0-9_.-]+$/, patternName: 'letters, digits, "_", "-" or "."' });
const relayName = () => string({ max: 64, pattern: /^[A-Za-z0-9_.-]*$/, patternName: 'letters, digits, "_", "-" or "."' });

export const fleetSettingsSchema = object({
  redisUrl: setting(redisUrl(), '', {
    doc: 'Redis of the fleet (redis:// or rediss://, password in the URL); "" runs this relay alone. Changes apply after a restart.',
  }),
  name: setting(fleetName(), 'relaydeck', {
    doc: 'The fleet to join: relays with the same Redis and name share config, streams and load. Every key is prefixed with it. Applies after a restart.',
  }),
  relayId: setting(relayName(), '', {
    doc: 'This relay\'s name in the fleet, unique within it, and the `relay` label of its /metrics (also when it runs alone); "" uses the host name and the relay port ("host-8090"). In a fleet, a change applies after a restart.',
  }),
  advertiseUrl: setting(string({ max: 2048 }), '', {
    doc: 'The relay\'s admin URL as the other relays and the Fleet page show it; "" uses the admin listen address.',
  }),
  heartbeatMs: setting(integer(100, 60_000), 1_000, {
    unit: 'ms',
    doc: 'How often the relay publishes its load and viewer counts; a change applies from the next heartbeat.',
  }),
  expiryMs: setting(integer(500, 600_000), 5_000, {
    unit: 'ms',
    doc: 'A relay not heard from for this long is gone: its load and viewers drop out of the fleet totals. More than fleet.heartbeatMs (three heartbeats or more is safe).',
  }),
  registryTtlMs: setting(integer(1_000, HOUR_MS), 30_000, {
    unit: 'ms',
    doc: 'A stream registry entry expires unless a node hook, a heartbeat or a probe confirms it within this time.',
  }),
  commandTimeoutMs: setting(integer(50, 60_000), 1_000, {
    unit: 'ms',
    doc: 'Time allowed for one Redis command; a slower one fails and the relay serves from what it has. Applies after a restart.',
  }),
  connectTimeoutMs: setting(integer(100, 60_000), 2_000, { unit: 'ms', doc: 'Time allowed to connect to Redis. Applies after a restart.' }),
  shareProbes: setting(boolean(), true, {
    doc: "Probe answers (nodes' stream lists) are shared through Redis, so one relay asks a node per refresh instead of every relay. Applies after a restart.",
  }),
});

const defaults = fleetSettingsSchema.parse({}, 'fleet');

// Read from the schema, under the names code imports.
export const DEFAULT_FLEET_HEARTBEAT_MS = defaults.heartbeatMs;
export const DEFAULT_FLEET_EXPIRY_MS = defaults.expiryMs;
export const DEFAULT_FLEET_REGISTRY_TTL_MS = defaults.registryTtlMs;
