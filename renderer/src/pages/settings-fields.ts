/**
 * The settings the Settings page edits, with their labels and input kinds. Each field's
 * default, unit, meaning, choices and validation come from the shared schema (the metadata
 * written once on the field in shared/config/), not from here.
 */
import {
  adminSettingsSchema,
  appSettingsSchema,
  flvSettingsSchema,
  hlsSettingsSchema,
  relaySettingsSchema,
  tlsSettingsSchema,
} from '../../../shared/config.js';
import type { FieldMeta, Schema, Unit } from '../../../shared/schema.js';

export type SectionName = 'relay' | 'tls' | 'admin' | 'flv' | 'hls' | 'app';

export interface SettingField {
  section: SectionName;
  key: string;
  label: string;
  /** "number" fields are integers; "boolean" a checkbox; "choice" a select (options from the schema); "list" a comma-separated list of strings; "text" a string as typed (trimmed). */
  type: 'number' | 'boolean' | 'choice' | 'list' | 'text';
  /** Applies only after a restart (listen addresses). */
  restart?: boolean;
}

export const SECTION_SCHEMAS: Record<SectionName, { shape: Record<string, Schema<unknown>> }> = {
  relay: relaySettingsSchema,
  tls: tlsSettingsSchema,
  admin: adminSettingsSchema,
  flv: flvSettingsSchema,
  hls: hlsSettingsSchema,
  app: appSettingsSchema,
};

/** The default of a field, from the schema (undefined when it has none). */
export function defaultOf(section: SectionName, key: string): unknown {
  return SECTION_SCHEMAS[section].shape[key]?.whenMissing?.();
}

/** A field's meaning and unit, from the schema. */
export function metaOf(field: SettingField): FieldMeta | undefined {
  return SECTION_SCHEMAS[field.section].shape[field.key]?.meta;
}

/** A select's options, from the schema. */
export function choicesOf(field: SettingField): readonly string[] {
  return (SECTION_SCHEMAS[field.section].shape[field.key]?.choices ?? []).map(String);
}

/** Units shown after a label; counts ("requests", "streams") are left out, as the label already names what is counted. */
const SHOWN_UNITS: Partial<Record<Unit, string>> = { ms: 'ms', bytes: 'bytes', percent: '%', entries: 'entries', nodes: 'nodes' };

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

export const RELAY_FIELDS: SettingField[] = [
  { section: 'relay', key: 'connectTimeoutMs', label: 'Connect timeout to a node', type: 'number' },
  { section: 'relay', key: 'headerTimeoutMs', label: 'Response header timeout', type: 'number' },
  { section: 'relay', key: 'idleStreamTimeoutMs', label: 'Idle stream timeout (0 = off)', type: 'number' },
  { section: 'relay', key: 'maxSessions', label: 'Most requests in flight', type: 'number' },
  { section: 'relay', key: 'requestLogEntries', label: 'Finished requests kept by the engine', type: 'number' },
  { section: 'relay', key: 'shutdownGraceMs', label: 'Shutdown grace for streams', type: 'number' },
  { section: 'relay', key: 'proxyEngine', label: 'Proxy implementation', type: 'choice' },
];

export const FLV_FIELDS: SettingField[] = [
  { section: 'flv', key: 'gopCacheMaxBytes', label: 'GOP cache per stream', type: 'number' },
  { section: 'flv', key: 'viewerQueueMaxBytes', label: 'Queue per viewer', type: 'number' },
  { section: 'flv', key: 'slowViewerTimeoutMs', label: 'Slow viewer cut after', type: 'number' },
  { section: 'flv', key: 'idleCloseMs', label: 'Pull closes after the last viewer', type: 'number' },
  { section: 'flv', key: 'failoverGraceMs', label: 'Viewers kept while the upstream is lost', type: 'number' },
  { section: 'flv', key: 'maxStreams', label: 'Most live streams', type: 'number' },
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
