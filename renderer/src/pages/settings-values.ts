/**
 * The Settings page's form values: from the settings as loaded to what the inputs show
 * (text, or a checkbox's boolean; lists comma-separated), and back to a patch of the
 * changed fields, each checked with the shared schema (errors keyed "section.key", or
 * "section.object.key" for a field of a nested object such as tls.acme). A nested object is
 * sent whole, with the page's changes in it, as the API replaces it whole. An engine error
 * that names one of the page's fields is mapped back to that field.
 */
import type { SettingsDto, SettingsPatch } from '../../../shared/dto.js';
import type { SchemaError } from '../../../shared/schema.js';
import { integerOrUndefined, type FieldErrors } from '../forms/validate.js';
import {
  ACME_FIELDS,
  ADDRESS_LIMIT_FIELDS,
  APP_FIELDS,
  defaultOf,
  FLV_FIELDS,
  HLS_FIELDS,
  HTTP2_FIELDS,
  LISTEN_FIELDS,
  RELAY_FIELDS,
  schemaOf,
  TLS_FIELDS,
  WEBHOOK_FIELDS,
  type SectionName,
  type SettingField,
} from './settings-fields.js';

/** Input values by "section.key". */
export type Values = Record<string, string | boolean>;

export const keyOf = (f: { section: string; key: string }) => `${f.section}.${f.key}`;
export const ALL_FIELDS = [
  ...LISTEN_FIELDS,
  ...TLS_FIELDS,
  ...HTTP2_FIELDS,
  ...ACME_FIELDS,
  ...RELAY_FIELDS,
  ...ADDRESS_LIMIT_FIELDS,
  ...WEBHOOK_FIELDS,
  ...FLV_FIELDS,
  ...HLS_FIELDS,
  ...APP_FIELDS,
];
/** Fields the page shows an error under: the listed ones and the two bind addresses. */
const PAGE_KEYS: ReadonlySet<string> = new Set([...ALL_FIELDS.map(keyOf), 'relay.host', 'admin.host']);

/** A setting's value as its input shows it: a boolean as is, a list comma-separated, anything else as text. */
export function displayOf(value: unknown): string | boolean {
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.join(', ');
  return String(value ?? '');
}

/** An input's value as the setting's value: an integer ("" = the default), a list of trimmed non-empty items, or as is. */
function settingOf(field: SettingField, raw: string | boolean): unknown {
  if (field.type === 'number') return integerOrUndefined(String(raw)) ?? defaultOf(field.section, field.key);
  if (field.type === 'list')
    return String(raw)
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  if (field.type === 'text') return String(raw).trim();
  return raw;
}

/** The value at a dotted `key` ("port", "acme.domains") in a section of the settings. */
function valueIn(settings: SettingsDto, section: SectionName, key: string): unknown {
  let value: unknown = settings[section];
  for (const part of key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
  return value;
}

/**
 * Put a checked value into the patch at a dotted `key`: a section's own field directly; a
 * field of a nested object into a copy of that object as saved, since the API replaces it whole.
 */
function putIn(patch: Record<string, Record<string, unknown>>, settings: SettingsDto, section: SectionName, key: string, value: unknown): void {
  const into = (patch[section] ??= {});
  const dot = key.lastIndexOf('.');
  if (dot === -1) {
    into[key] = value;
    return;
  }
  const objectKey = key.slice(0, dot);
  const nested = (into[objectKey] ??= { ...(valueIn(settings, section, objectKey) as Record<string, unknown>) }) as Record<string, unknown>;
  nested[key.slice(dot + 1)] = value;
}

export function valuesOf(settings: SettingsDto): Values {
  const values: Values = { 'relay.host': settings.relay.host, 'admin.host': settings.admin.host, 'admin.allowRemote': settings.admin.allowRemote };
  for (const field of ALL_FIELDS) values[keyOf(field)] = displayOf(valueIn(settings, field.section, field.key));
  return values;
}

/** The changed fields as a patch, and the errors of the bad ones (named "section.key"). */
export function buildPatch(values: Values, settings: SettingsDto): { patch: SettingsPatch; errors: FieldErrors } {
  const patch: Record<string, Record<string, unknown>> = {};
  const errors: FieldErrors = {};
  const consider = (section: SectionName, key: string, value: unknown) => {
    const name = `${section}.${key}`;
    const schema = schemaOf(section, key);
    if (!schema || JSON.stringify(value) === JSON.stringify(valueIn(settings, section, key))) return;
    try {
      schema.parse(value, name);
      putIn(patch, settings, section, key, value);
    } catch (error) {
      const { path, detail } = error as Partial<SchemaError>;
      errors[name] = detail === undefined ? String(error) : path && path !== name ? `${path}: ${detail}` : detail;
    }
  };
  consider('relay', 'host', String(values['relay.host']).trim());
  consider('admin', 'host', String(values['admin.host']).trim());
  consider('admin', 'allowRemote', values['admin.allowRemote'] === true);
  for (const field of ALL_FIELDS) consider(field.section, field.key, settingOf(field, values[keyOf(field)]));
  return { patch: patch as SettingsPatch, errors };
}

/**
 * The field error in an engine error message: a field check's "body.hls.segmentTtlMs: ..."
 * or a whole-config check's "hls.carryParams[0]: ..." or "tls.acme.domains[1]: ..." (a list
 * item keeps its index in the text). Undefined when the message names no field the page shows.
 */
export function fieldErrorOfApi(message: string): FieldErrors | undefined {
  const match = /^(?:body\.)?(\w+(?:\.\w+)+)(\[\d+\])?: (.*)$/s.exec(message);
  if (!match || !PAGE_KEYS.has(match[1])) return undefined;
  return { [match[1]]: match[2] ? `${match[1]}${match[2]}: ${match[3]}` : match[3] };
}
