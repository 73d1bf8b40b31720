/** The `app` and `demo` sections: the desktop app and operator UI, and the built-in demo node. */
import { boolean, integer, object, setting } from '../schema.js';
import { port } from './fields.js';

/** Desktop app and operator UI settings. */
export const appSettingsSchema = object({
  closeToTray: setting(boolean(), true, { doc: 'Closing the window keeps RelayDeck, and the relay, running in the tray (where the desktop has one).' }),
  trafficLogEntries: setting(integer(100, 100_000), 10_000, {
    unit: 'entries',
    doc: 'Most requests the Traffic page keeps in memory; older ones are dropped.',
  }),
});

/**
 * The built-in demo node (electron/engine/demo/): a looping test stream served in-process on
 * 127.0.0.1. Written on the first run (no config file yet) with its node and routes;
 * "remove demo" sets enabled to false. Absent in configs that never had it.
 */
export const demoSettingsSchema = object({
  enabled: setting(boolean(), true, { doc: 'Serve the demo node.' }),
  port: setting(port(), 8092, { unit: 'port', doc: 'Port of the demo node (loopback only); 0 picks a free port, as does a taken port.' }),
});

// Read from the schema, under the names code imports.
export const DEFAULT_TRAFFIC_LOG_ENTRIES = appSettingsSchema.parse({}, 'app').trafficLogEntries;
export const DEFAULT_DEMO_PORT = demoSettingsSchema.parse({}, 'demo').port;
