/**
 * The settings the Settings page edits, with their labels and units. Defaults and
 * validation come from the shared schema (each field's own default), not from here.
 */
import { adminSettingsSchema, appSettingsSchema, flvSettingsSchema, relaySettingsSchema } from '../../../shared/config.js';
import type { Schema } from '../../../shared/schema.js';

export type SectionName = 'relay' | 'admin' | 'flv' | 'app';

export interface SettingField {
  section: SectionName;
  key: string;
  label: string;
  unit?: string;
  /** "number" fields are integers; "boolean" a checkbox; "choice" a select. */
  type: 'number' | 'boolean' | 'choice';
  choices?: readonly string[];
  /** Applies only after a restart (listen addresses). */
  restart?: boolean;
}

export const SECTION_SCHEMAS: Record<SectionName, { shape: Record<string, Schema<unknown>> }> = {
  relay: relaySettingsSchema,
  admin: adminSettingsSchema,
  flv: flvSettingsSchema,
  app: appSettingsSchema,
};

/** The default of a field, from the schema (undefined when it has none). */
export function defaultOf(section: SectionName, key: string): unknown {
  return SECTION_SCHEMAS[section].shape[key]?.whenMissing?.();
}

export const LISTEN_FIELDS: SettingField[] = [
  { section: 'relay', key: 'port', label: 'Relay port (viewers)', type: 'number', restart: true },
  { section: 'admin', key: 'port', label: 'Admin port (API and this UI)', type: 'number', restart: true },
];

export const RELAY_FIELDS: SettingField[] = [
  { section: 'relay', key: 'connectTimeoutMs', label: 'Connect timeout to a node', unit: 'ms', type: 'number' },
  { section: 'relay', key: 'headerTimeoutMs', label: 'Response header timeout', unit: 'ms', type: 'number' },
  { section: 'relay', key: 'idleStreamTimeoutMs', label: 'Idle stream timeout (0 = off)', unit: 'ms', type: 'number' },
  { section: 'relay', key: 'maxSessions', label: 'Most requests in flight', type: 'number' },
  { section: 'relay', key: 'requestLogEntries', label: 'Finished requests kept by the engine', type: 'number' },
  { section: 'relay', key: 'shutdownGraceMs', label: 'Shutdown grace for streams', unit: 'ms', type: 'number' },
  { section: 'relay', key: 'proxyEngine', label: 'Proxy implementation', type: 'choice', choices: ['native', 'http-proxy-3'] },
];

export const FLV_FIELDS: SettingField[] = [
  { section: 'flv', key: 'gopCacheMaxBytes', label: 'GOP cache per stream', unit: 'bytes', type: 'number' },
  { section: 'flv', key: 'viewerQueueMaxBytes', label: 'Queue per viewer', unit: 'bytes', type: 'number' },
  { section: 'flv', key: 'slowViewerTimeoutMs', label: 'Slow viewer cut after', unit: 'ms', type: 'number' },
  { section: 'flv', key: 'idleCloseMs', label: 'Pull closes after the last viewer', unit: 'ms', type: 'number' },
  { section: 'flv', key: 'failoverGraceMs', label: 'Viewers kept while the upstream is lost', unit: 'ms', type: 'number' },
  { section: 'flv', key: 'maxStreams', label: 'Most live streams', type: 'number' },
];

export const APP_FIELDS: SettingField[] = [
  { section: 'app', key: 'closeToTray', label: 'Closing the window keeps RelayDeck running in the tray (desktop app)', type: 'boolean' },
  { section: 'app', key: 'trafficLogEntries', label: 'Requests kept by the Traffic page', unit: 'entries', type: 'number' },
];
