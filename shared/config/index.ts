/**
 * The configuration: one JSON file, validated strictly (unknown keys rejected, every error
 * names its field path). One file per section; each setting's default, unit and meaning are
 * written once, as metadata on its field (`setting()` in shared/schema.ts), and the README's
 * reference, the Settings page and the DEFAULT_* values are read from there.
 */
export { MAX_NODES, MAX_ROUTES } from './fields.js';
export * from './relay.js';
export * from './tls.js';
export * from './admin.js';
export * from './flv.js';
export * from './hls.js';
export * from './health.js';
export * from './locator.js';
export * from './app.js';
export * from './logs.js';
export * from './fleet.js';
export * from './nodes.js';
export * from './routes.js';
export * from './cors.js';
export * from './webhook.js';
export * from './jwt.js';
export * from './schema.js';
export * from './checks.js';
export * from './reference.js';
