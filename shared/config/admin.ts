/** The `admin` section: the admin API and UI server. */
import { array, boolean, documented, integer, object, optional, setting, string } from '../schema.js';
import { host, port } from './fields.js';

/** Most names in admin.allowedHosts. */
export const MAX_ADMIN_ALLOWED_HOSTS = 64;
/** A host name or IP literal without a port: "relay.lan", "192.168.1.20", "[fe80::1]". */
const ALLOWED_HOST_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

/** Admin API (and UI) server settings. */
export const adminSettingsSchema = object({
  host: setting(host(), '127.0.0.1', { doc: 'Address the admin API listens on (loopback by default; see allowRemote).' }),
  port: setting(port(), 8091, { unit: 'port', doc: 'Port of the admin API and UI; 0 picks a free port.' }),
  token: documented(optional(string({ min: 16, max: 256, pattern: /^[\x21-\x7e]+$/, patternName: 'printable ASCII without spaces' })), {
    doc: 'Bearer token for the admin API; generated and saved when absent.',
  }),
  maxBodyBytes: setting(integer(1_024, 64 * 1_048_576), 1_048_576, { unit: 'bytes', doc: 'Largest admin API request body accepted.' }),
  allowRemote: setting(boolean(), false, { doc: 'Must be true to bind the admin API to a non-loopback address (a warning is printed).' }),
  maxFailedAuthPerMinute: setting(integer(1, 10_000), 10, {
    unit: 'logins per minute',
    doc: 'Failed logins allowed per client address per minute; more get 429.',
  }),
  auditLogMaxBytes: setting(integer(4_096, 1_073_741_824), 5 * 1_048_576, {
    unit: 'bytes',
    doc: 'The admin audit log rolls over to audit.log.1 past this size.',
  }),
  allowedHosts: setting(
    array(string({ min: 1, max: 253, pattern: ALLOWED_HOST_PATTERN, patternName: 'a host name or IP address without port' }), MAX_ADMIN_ALLOWED_HOSTS),
    [],
    {
      doc:
        "Further names (no port; any port matches) the admin port answers in the Host header, e.g. the name a reverse proxy or the LAN's DNS gives it. " +
        `Besides these it answers only the address it is reached by (421 to any other Host: DNS rebinding). At most ${MAX_ADMIN_ALLOWED_HOSTS}.`,
    },
  ),
});

const defaults = adminSettingsSchema.parse({}, 'admin');

// Read from the schema, under the names code imports.
export const DEFAULT_ADMIN_PORT = defaults.port;
export const DEFAULT_ADMIN_MAX_BODY_BYTES = defaults.maxBodyBytes;
export const DEFAULT_ADMIN_MAX_FAILED_AUTH_PER_MINUTE = defaults.maxFailedAuthPerMinute;
export const DEFAULT_AUDIT_LOG_MAX_BYTES = defaults.auditLogMaxBytes;
