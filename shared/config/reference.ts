/**
 * The configuration reference as data: every section with its key path and title, and each
 * field's default, unit and meaning read from the schema's metadata. The README's reference
 * (build/config-reference.mjs) and the metadata tests read it, so a setting is documented
 * where it is defined and nowhere else.
 */
import type { FieldMeta, Schema } from '../schema.js';
import { adminSettingsSchema } from './admin.js';
import { appSettingsSchema, demoSettingsSchema } from './app.js';
import { fleetSettingsSchema } from './fleet.js';
import { flvSettingsSchema } from './flv.js';
import { healthSettingsSchema } from './health.js';
import { hlsSettingsSchema } from './hls.js';
import { locatorSettingsSchema } from './locator.js';
import { accessLogSchema, logsSettingsSchema, sessionRecordsSchema } from './logs.js';
import { nodeApiSchema, nodeSchema } from './nodes.js';
import { relaySettingsSchema } from './relay.js';
import { routeSchema, staticRuleSchema, viewerAuthSchema } from './routes.js';
import { tlsAcmeSchema, tlsCertificateSchema, tlsSettingsSchema } from './tls.js';
import { routeLimitsSchema, routeWebhookSchema, webhookSettingsSchema } from './webhook.js';
import { jwtAuthSchema } from './jwt.js';

/** One section of the reference: where its keys sit in the file, a title, and its object schema. */
export interface ReferenceSection {
  /** The key path shown, e.g. "relay" or "routes[].auth". */
  readonly path: string;
  readonly title: string;
  readonly schema: { readonly shape: Record<string, Schema<unknown>> };
}

/** The sections in the order the README lists them. */
export const REFERENCE_SECTIONS: readonly ReferenceSection[] = [
  { path: 'relay', title: 'Relay server (viewer-facing)', schema: relaySettingsSchema },
  { path: 'tls', title: 'HTTPS listener', schema: tlsSettingsSchema },
  { path: 'tls.certificates[]', title: 'A certificate of the HTTPS listener', schema: tlsCertificateSchema },
  { path: 'tls.acme', title: 'Automatic certificates (ACME)', schema: tlsAcmeSchema },
  { path: 'admin', title: 'Admin API and UI', schema: adminSettingsSchema },
  { path: 'flv', title: 'HTTP-FLV fan-out', schema: flvSettingsSchema },
  { path: 'hls', title: 'HLS', schema: hlsSettingsSchema },
  { path: 'health', title: 'Node health checks (defaults; a node may override them in `nodes[].health`)', schema: healthSettingsSchema },
  { path: 'locator', title: 'Stream location by probe', schema: locatorSettingsSchema },
  { path: 'webhooks', title: 'Admission webhooks (bounds all routes share)', schema: webhookSettingsSchema },
  { path: 'logs', title: 'Access log and session records on disk', schema: logsSettingsSchema },
  { path: 'logs.access', title: 'The access log (access.log)', schema: accessLogSchema },
  { path: 'logs.sessions', title: 'The session records (sessions.jsonl)', schema: sessionRecordsSchema },
  { path: 'fleet', title: 'Fleet of relays on Redis (stays local to each relay)', schema: fleetSettingsSchema },
  { path: 'app', title: 'Desktop app', schema: appSettingsSchema },
  { path: 'demo', title: 'Built-in demo node', schema: demoSettingsSchema },
  { path: 'nodes[]', title: 'Nodes', schema: nodeSchema },
  { path: 'nodes[].api', title: "A node's stream-list API", schema: nodeApiSchema },
  { path: 'routes[]', title: 'Routes', schema: routeSchema },
  { path: 'routes[].auth', title: 'Viewer auth of a route', schema: viewerAuthSchema },
  { path: 'routes[].auth.webhook', title: 'Admission webhook of a route', schema: routeWebhookSchema },
  { path: 'routes[].auth.jwt', title: 'JWT viewer tokens of a route', schema: jwtAuthSchema },
  { path: 'routes[].limits', title: 'Viewer limits of a route', schema: routeLimitsSchema },
  { path: 'routes[].static[]', title: 'Static location rules', schema: staticRuleSchema },
];

/** One field as the reference shows it. */
export interface ReferenceRow extends FieldMeta {
  readonly key: string;
  /** "required", "optional", or the default value. */
  readonly presence: 'required' | 'optional' | 'default';
  readonly defaultValue?: unknown;
}

/** The rows of a section, in field order. A field without metadata gets an empty doc (the metadata test refuses that). */
export function referenceRows(section: ReferenceSection): ReferenceRow[] {
  return Object.entries(section.schema.shape).map(([key, field]) => {
    const meta = { doc: field.meta?.doc ?? '', unit: field.meta?.unit };
    if (!field.whenMissing) return { key, presence: 'required', ...meta };
    if ((field as { isOptional?: boolean }).isOptional) return { key, presence: 'optional', ...meta };
    return { key, presence: 'default', defaultValue: field.whenMissing(), ...meta };
  });
}
