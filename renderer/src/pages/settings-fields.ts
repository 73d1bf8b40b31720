/**
 * The settings the Settings page edits, with their labels and input kinds. Each field's
 * default, unit, meaning, choices and validation come from the shared schema (the metadata
 * written once on the field in shared/config/), not from here. A field inside a nested
 * object of its section (`tls.acme`) has a dotted key ("acme.domains"); its schema is found
 * through NESTED_SCHEMAS.
 */
import {
  adminSettingsSchema,
  appSettingsSchema,
  flvSettingsSchema,
  hlsSettingsSchema,
  relaySettingsSchema,
  tlsAcmeSchema,
  tlsSettingsSchema,
  webhookSettingsSchema,
} from '../../../shared/config.js';
import type { FieldMeta, Schema, Unit } from '../../../shared/schema.js';

export type SectionName = 'relay' | 'tls' | 'admin' | 'flv' | 'hls' | 'app' | 'webhooks';

export interface SettingField {
  section: SectionName;
  /** The field in its section: "port", or a field of a nested object such as "acme.domains" (see NESTED_SCHEMAS). */
  key: string;
  label: string;
  /** "number" fields are integers; "boolean" a checkbox; "choice" a select (options from the schema); "list" a comma-separated list of strings; "text" a string as typed (trimmed). */
  type: 'number' | 'boolean' | 'choice' | 'list' | 'text';
  /** Applies only after a restart (listen addresses, and what the HTTPS listener reads once when it starts). */
  restart?: boolean;
}

export const SECTION_SCHEMAS: Record<SectionName, { shape: Record<string, Schema<unknown>> }> = {
  relay: relaySettingsSchema,
  tls: tlsSettingsSchema,
  admin: adminSettingsSchema,
  flv: flvSettingsSchema,
  hls: hlsSettingsSchema,
  app: appSettingsSchema,
  webhooks: webhookSettingsSchema,
};

/**
 * Objects nested in a section whose fields the page edits one by one, by "section.field"
 * (a section's schema keeps only the nested object's default and doc, not its shape). The
 * API replaces such an object as a whole, so a change sends all of its fields.
 */
export const NESTED_SCHEMAS: Record<string, { shape: Record<string, Schema<unknown>> }> = {
  'tls.acme': tlsAcmeSchema,
};

/** The schema of a field: a section's own ("port"), or one inside a nested object ("acme.domains"); undefined when there is none. */
export function schemaOf(section: SectionName, key: string): Schema<unknown> | undefined {
  const dot = key.lastIndexOf('.');
  if (dot === -1) return SECTION_SCHEMAS[section].shape[key];
  return NESTED_SCHEMAS[`${section}.${key.slice(0, dot)}`]?.shape[key.slice(dot + 1)];
}

/** The default of a field, from the schema (undefined when it has none). */
export function defaultOf(section: SectionName, key: string): unknown {
  return schemaOf(section, key)?.whenMissing?.();
}

/** A field's meaning and unit, from the schema. */
export function metaOf(field: SettingField): FieldMeta | undefined {
  return schemaOf(field.section, field.key)?.meta;
}

/** A select's options, from the schema. */
export function choicesOf(field: SettingField): readonly string[] {
  return (schemaOf(field.section, field.key)?.choices ?? []).map(String);
}

/** Units shown after a label; counts ("requests", "streams") are left out, as the label already names what is counted. */
const SHOWN_UNITS: Partial<Record<Unit, string>> = { ms: 'ms', days: 'days', bytes: 'bytes', percent: '%', entries: 'entries', nodes: 'nodes', bits: 'bits' };

/** What follows the label: the schema's unit, or how a list is typed. */
export function unitOf(field: SettingField): string | undefined {
  if (field.type === 'list') return 'comma-separated';
  const unit = metaOf(field)?.unit;
  return unit && SHOWN_UNITS[unit];
}

export const LISTEN_FIELDS: SettingField[] = [
  { section: 'relay', key: 'port', label: 'Relay port (viewers)', type: 'number', restart: true },
  { section: 'admin', key: 'port', label: 'Admin port (API and this UI)', type: 'number', restart: true },
  {
    section: 'relay',
    key: 'publicUrl',
    label: 'Public relay URL for viewers (signed URLs, copy buttons, preview); empty = the address this page reaches',
    type: 'text',
  },
];

/** The HTTPS listener (the certificates list has its own panel). */
export const TLS_FIELDS: SettingField[] = [
  { section: 'tls', key: 'enabled', label: 'HTTPS listener on', type: 'boolean', restart: true },
  { section: 'tls', key: 'port', label: 'HTTPS port', type: 'number', restart: true },
  { section: 'tls', key: 'redirectPlain', label: 'Send plain HTTP viewers to HTTPS (308)', type: 'boolean' },
  { section: 'tls', key: 'selfSigned', label: 'Self-signed certificate when none is configured', type: 'boolean' },
  { section: 'tls', key: 'minVersion', label: 'Oldest TLS version', type: 'choice' },
  { section: 'tls', key: 'handshakeTimeoutMs', label: 'TLS handshake must finish within', type: 'number' },
  { section: 'tls', key: 'reloadCheckMs', label: 'Certificate files checked every', type: 'number' },
];

/**
 * HTTP/2 on the HTTPS listener. On/off, concurrent streams and session memory are read when
 * the listener starts (nghttp2's server settings, http2/listener.ts); the per-connection guards
 * are read for each new connection (http2/sessions.ts).
 */
export const HTTP2_FIELDS: SettingField[] = [
  { section: 'tls', key: 'http2', label: 'HTTP/2 on the HTTPS port', type: 'boolean', restart: true },
  { section: 'tls', key: 'http2MaxConcurrentStreams', label: 'Most requests open at once on one HTTP/2 connection', type: 'number', restart: true },
  { section: 'tls', key: 'http2MaxSessionMemoryBytes', label: 'Memory one HTTP/2 connection may hold', type: 'number', restart: true },
  { section: 'tls', key: 'http2IdleTimeoutMs', label: 'HTTP/2 connection with no request closed after', type: 'number' },
  { section: 'tls', key: 'http2MaxResetsPerSecond', label: 'Most requests one HTTP/2 connection may reset per second', type: 'number' },
  { section: 'tls', key: 'http2MaxControlFramesPerSecond', label: 'Most SETTINGS and PING frames per HTTP/2 connection per second', type: 'number' },
];

/** Automatic certificates (tls.acme); all apply live (the engine reconfigures ACME when the object changes, electron/engine/engine.ts). */
export const ACME_FIELDS: SettingField[] = [
  { section: 'tls', key: 'acme.enabled', label: 'Certificate from an ACME authority (automatic, renewed)', type: 'boolean' },
  { section: 'tls', key: 'acme.termsOfServiceAgreed', label: "I agree to the authority's terms of service", type: 'boolean' },
  { section: 'tls', key: 'acme.domains', label: 'Domains of the certificate (the first is its subject)', type: 'list' },
  { section: 'tls', key: 'acme.email', label: 'Contact email of the ACME account (empty = none)', type: 'text' },
  { section: 'tls', key: 'acme.challenge', label: 'How the authority checks each domain', type: 'choice' },
  { section: 'tls', key: 'acme.directoryUrl', label: 'ACME directory URL', type: 'text' },
  { section: 'tls', key: 'acme.renewBeforeDays', label: 'Renew before the certificate ends', type: 'number' },
  { section: 'tls', key: 'acme.retryMinMs', label: 'First retry after a failed order', type: 'number' },
  { section: 'tls', key: 'acme.retryMaxMs', label: 'Longest wait between failed orders', type: 'number' },
  { section: 'tls', key: 'acme.caFile', label: "Authorities trusted for the directory's HTTPS, PEM file (empty = the system's)", type: 'text' },
];

export const RELAY_FIELDS: SettingField[] = [
  { section: 'relay', key: 'connectTimeoutMs', label: 'Connect timeout to a node', type: 'number' },
  { section: 'relay', key: 'headerTimeoutMs', label: 'Response header timeout', type: 'number' },
  { section: 'relay', key: 'idleStreamTimeoutMs', label: 'Idle stream timeout (0 = off)', type: 'number' },
  { section: 'relay', key: 'maxSessions', label: 'Most requests in flight', type: 'number' },
  { section: 'relay', key: 'requestLogEntries', label: 'Finished requests kept by the engine', type: 'number' },
  { section: 'relay', key: 'shutdownGraceMs', label: 'Shutdown grace for streams', type: 'number' },
  { section: 'relay', key: 'proxyEngine', label: 'Proxy implementation', type: 'choice' },
];

/** Connections per client address (relay.maxConnectionsPerAddress); they apply to the next connection. */
export const ADDRESS_LIMIT_FIELDS: SettingField[] = [
  { section: 'relay', key: 'maxConnectionsPerAddress', label: 'Most connections from one client address (0 = no limit)', type: 'number' },
  { section: 'relay', key: 'addressLimitIpv6Prefix', label: 'IPv6 clients counted per network of prefix length', type: 'number' },
];

/** Every webhooks setting: the bounds all admission webhooks (routes[].auth.webhook) share; all apply live. */
export const WEBHOOK_FIELDS: SettingField[] = [
  { section: 'webhooks', key: 'cacheEntries', label: 'Webhook answers cached, all routes (0 = no cache)', type: 'number' },
  { section: 'webhooks', key: 'stopQueue', label: 'End-of-session records waiting at most', type: 'number' },
  { section: 'webhooks', key: 'stopRetries', label: 'Retries of a failed end-of-session call', type: 'number' },
  { section: 'webhooks', key: 'verifyTls', label: 'Verify the certificate of https:// webhook URLs', type: 'boolean' },
];

export const FLV_FIELDS: SettingField[] = [
  { section: 'flv', key: 'gopCacheMaxBytes', label: 'GOP cache per stream', type: 'number' },
  { section: 'flv', key: 'viewerQueueMaxBytes', label: 'Queue per viewer', type: 'number' },
  { section: 'flv', key: 'slowViewerTimeoutMs', label: 'Slow viewer cut after', type: 'number' },
  { section: 'flv', key: 'idleCloseMs', label: 'Pull closes after the last viewer', type: 'number' },
  { section: 'flv', key: 'failoverGraceMs', label: 'Viewers kept while the upstream is lost', type: 'number' },
  { section: 'flv', key: 'maxStreams', label: 'Most live streams', type: 'number' },
  { section: 'flv', key: 'writeBatchMs', label: 'Write batching, all viewers (0 = off)', type: 'number' },
  { section: 'flv', key: 'tlsWriteBatchMs', label: 'Merged writes for viewers over TLS (0 = off)', type: 'number' },
];

/** Every hls setting; all apply live (times to live and size limits to objects fetched from then on; electron/engine/admin/settings.ts). */
export const HLS_FIELDS: SettingField[] = [
  { section: 'hls', key: 'segmentCacheMaxBytes', label: 'Segment cache, all streams (0 = off)', type: 'number' },
  { section: 'hls', key: 'segmentCacheMaxEntries', label: 'Segment cache', type: 'number' },
  { section: 'hls', key: 'segmentMaxBytes', label: 'Largest segment cached', type: 'number' },
  { section: 'hls', key: 'segmentTtlMs', label: 'Cached segment served for', type: 'number' },
  { section: 'hls', key: 'playlistCachePercent', label: 'Live playlist cached for a share of its target duration', type: 'number' },
  { section: 'hls', key: 'staticPlaylistCacheMs', label: 'Master and ended playlists cached for', type: 'number' },
  { section: 'hls', key: 'playlistMaxBytes', label: 'Largest playlist accepted from a node', type: 'number' },
  { section: 'hls', key: 'playlistCacheMaxBytes', label: 'Playlist cache', type: 'number' },
  { section: 'hls', key: 'playlistCacheMaxEntries', label: 'Playlist cache', type: 'number' },
  { section: 'hls', key: 'errorCacheMs', label: 'Node errors cached for (0 = not cached)', type: 'number' },
  { section: 'hls', key: 'carryParams', label: 'Query parameters carried into playlist URIs', type: 'list' },
  { section: 'hls', key: 'foreignUris', label: 'URIs on hosts that are no node', type: 'choice' },
  { section: 'hls', key: 'viewerWindowMs', label: 'A viewer counts as watching for', type: 'number' },
  { section: 'hls', key: 'maxStreams', label: 'Most HLS streams with stats', type: 'number' },
  { section: 'hls', key: 'maxTrackedViewers', label: 'Most HLS viewers tracked', type: 'number' },
  { section: 'hls', key: 'streamIdleMs', label: 'Stream stats dropped after no request for', type: 'number' },
  { section: 'hls', key: 'maxNodeAttempts', label: 'Nodes one request is tried on (1 = no failover)', type: 'number' },
];

export const APP_FIELDS: SettingField[] = [
  { section: 'app', key: 'closeToTray', label: 'Closing the window keeps RelayDeck running in the tray (desktop app)', type: 'boolean' },
  { section: 'app', key: 'trafficLogEntries', label: 'Requests kept by the Traffic page', type: 'number' },
];
