/**
 * The settings calls: read every section, and apply a partial change to any of them. The
 * change is validated field by field here (errors name the field, e.g.
 * "body.relay.port: expected an integer from 0 to 65535") and then as a whole config by
 * Engine.changeConfig. Listen addresses (host, port, tls.enabled, tls.port) and what the HTTPS listener reads once
 * when it starts (tls.http2, tls.http2MaxConcurrentStreams, tls.http2MaxSessionMemoryBytes: nghttp2's server settings)
 * are saved at once and apply after a restart (tls.certificates apply live: the files are read at once; tls.acme too:
 * the engine reconfigures ACME); everything else applies from the next request or connection. `tls.acme` is one
 * value in a patch: it replaces the saved object whole (its fields left out take their defaults). The file on disk gets only the
 * changed keys (config/sparse.ts): a value set back to its default stays written explicitly.
 *
 * The `hls` section applies live too: the HLS handler reads `config.hls` on every request
 * and every cache store, and lowered cache bounds (segmentCacheMaxBytes/Entries,
 * playlistCacheMaxBytes/Entries; 0 bytes turns segment caching off) evict at once (the
 * engine trims the cache when the section changes). Times to live (segmentTtlMs,
 * playlistCachePercent, staticPlaylistCacheMs, errorCacheMs) apply to objects cached from
 * then on; an object cached before keeps the expiry it was stored with. Size limits
 * (segmentMaxBytes, playlistMaxBytes) apply to fetches started from then on; carryParams
 * and foreignUris to the next playlist served; the stream-stats bounds to the next request.
 *
 * The `logs` section applies live too: a log file whose settings changed is closed (its queue
 * written out) and opened again with them; `logs.access` and `logs.sessions` are each one value
 * in a patch, replaced whole (their fields left out take their defaults).
 *
 * The `webhooks` section (bounds every admission webhook shares) and the per-address
 * connection limit (relay.maxConnectionsPerAddress, relay.addressLimitIpv6Prefix) apply live:
 * the relay reads them on every webhook call, stop record and connection.
 */
import {
  adminSettingsSchema,
  appSettingsSchema,
  flvSettingsSchema,
  hlsSettingsSchema,
  logsSettingsSchema,
  relaySettingsSchema,
  tlsSettingsSchema,
  webhookSettingsSchema,
  type RelayDeckConfig,
} from '../../../shared/config.js';
import type { SettingsDto, SettingsPatch } from '../../../shared/dto.js';
import { object, optional, partial, type Schema } from '../../../shared/schema.js';

export const settingsPatchSchema = object({
  relay: optional(partial(relaySettingsSchema)),
  tls: optional(partial(tlsSettingsSchema)),
  admin: optional(partial(adminSettingsSchema)),
  flv: optional(partial(flvSettingsSchema)),
  hls: optional(partial(hlsSettingsSchema)),
  app: optional(partial(appSettingsSchema)),
  logs: optional(partial(logsSettingsSchema)),
  webhooks: optional(partial(webhookSettingsSchema)),
}) as Schema<SettingsPatch>;

/** Merge a validated patch into a config draft. */
export function applySettingsPatch(draft: RelayDeckConfig, patch: SettingsPatch): void {
  if (patch.relay) draft.relay = { ...draft.relay, ...patch.relay };
  if (patch.tls) draft.tls = { ...draft.tls, ...patch.tls };
  if (patch.admin) draft.admin = { ...draft.admin, ...patch.admin };
  if (patch.flv) draft.flv = { ...draft.flv, ...patch.flv };
  if (patch.hls) draft.hls = { ...draft.hls, ...patch.hls };
  if (patch.app) draft.app = { ...draft.app, ...patch.app };
  if (patch.logs) draft.logs = { ...draft.logs, ...patch.logs };
  if (patch.webhooks) draft.webhooks = { ...draft.webhooks, ...patch.webhooks };
}

/** The listen addresses of a config and the HTTPS listener's start-time settings, to tell whether a restart is needed. */
export function listenKey(config: RelayDeckConfig): string {
  const { relay, tls, admin } = config;
  return JSON.stringify([
    relay.host,
    relay.port,
    tls.enabled,
    tls.port,
    tls.http2,
    tls.http2MaxConcurrentStreams,
    tls.http2MaxSessionMemoryBytes,
    admin.host,
    admin.port,
  ]);
}

export function settingsDto(config: RelayDeckConfig, listening: SettingsDto['listening'], restartNeeded: boolean): SettingsDto {
  return {
    relay: config.relay,
    tls: config.tls,
    admin: config.admin,
    flv: config.flv,
    hls: config.hls,
    app: config.app,
    logs: config.logs,
    webhooks: config.webhooks,
    listening,
    restartNeeded,
  };
}
