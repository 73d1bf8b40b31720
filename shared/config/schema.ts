/** The whole configuration file: every section with its defaults filled, and the types code uses. */
import { array, object, optional, withDefault, type InputOf, type Infer, type Schema } from '../schema.js';
import { adminSettingsSchema } from './admin.js';
import { appSettingsSchema, demoSettingsSchema } from './app.js';
import { MAX_NODES, MAX_ROUTES } from './fields.js';
import { fleetSettingsSchema } from './fleet.js';
import { flvSettingsSchema } from './flv.js';
import { healthSettingsSchema } from './health.js';
import { hlsSettingsSchema } from './hls.js';
import { locatorSettingsSchema } from './locator.js';
import { accessLogSchema, logsSettingsSchema, sessionRecordsSchema } from './logs.js';
import { nodeApiSchema, nodeSchema } from './nodes.js';
import { relaySettingsSchema } from './relay.js';
import { LOCATORS, ROUTE_KINDS, ROUTE_MODES, routeSchema } from './routes.js';
import { tlsAcmeSchema, tlsCertificateSchema, tlsSettingsSchema } from './tls.js';
import { routeLimitsSchema, routeWebhookSchema, webhookSettingsSchema } from './webhook.js';

export const configSchema = object({
  relay: withDefault(relaySettingsSchema, relaySettingsSchema.parse({}, 'relay')),
  tls: withDefault(tlsSettingsSchema, tlsSettingsSchema.parse({}, 'tls')),
  admin: withDefault(adminSettingsSchema, adminSettingsSchema.parse({}, 'admin')),
  flv: withDefault(flvSettingsSchema, flvSettingsSchema.parse({}, 'flv')),
  hls: withDefault(hlsSettingsSchema, hlsSettingsSchema.parse({}, 'hls')),
  health: withDefault(healthSettingsSchema, healthSettingsSchema.parse({}, 'health')),
  locator: withDefault(locatorSettingsSchema, locatorSettingsSchema.parse({}, 'locator')),
  webhooks: withDefault(webhookSettingsSchema, webhookSettingsSchema.parse({}, 'webhooks')),
  nodes: withDefault(array(nodeSchema, MAX_NODES), []),
  routes: withDefault(array(routeSchema, MAX_ROUTES), []),
  logs: withDefault(logsSettingsSchema, logsSettingsSchema.parse({}, 'logs')),
  app: withDefault(appSettingsSchema, appSettingsSchema.parse({}, 'app')),
  fleet: withDefault(fleetSettingsSchema, fleetSettingsSchema.parse({}, 'fleet')),
  /** Undefined unless the demo was ever installed (see demoSettingsSchema). */
  demo: optional(demoSettingsSchema) as Schema<DemoSettings | undefined>,
});

export type RelaySettings = Infer<typeof relaySettingsSchema>;
export type AdminSettings = Infer<typeof adminSettingsSchema>;
export type TlsSettings = Infer<typeof tlsSettingsSchema>;
/** Automatic certificates (tls.acme). */
export type TlsAcmeSettings = Infer<typeof tlsAcmeSchema>;
/** One certificate of the HTTPS listener (PEM files). */
export type TlsCertificateConfig = Infer<typeof tlsCertificateSchema>;
export type FlvSettings = Infer<typeof flvSettingsSchema>;
export type HlsSettings = Infer<typeof hlsSettingsSchema>;
export type HealthSettings = Infer<typeof healthSettingsSchema>;
export type LocatorSettings = Infer<typeof locatorSettingsSchema>;
/** Bounds every admission webhook shares (the `webhooks` section). */
export type WebhookSettings = Infer<typeof webhookSettingsSchema>;
/** A route's admission webhook (routes[].auth.webhook). */
export type RouteWebhookConfig = Infer<typeof routeWebhookSchema>;
/** A route's viewer caps and pacing (routes[].limits). */
export type RouteLimits = Infer<typeof routeLimitsSchema>;
/** The access log and session records on disk (the `logs` section). */
export type LogsSettings = Infer<typeof logsSettingsSchema>;
/** The access log (logs.access). */
export type AccessLogSettings = Infer<typeof accessLogSchema>;
/** The session records file (logs.sessions). */
export type SessionRecordsSettings = Infer<typeof sessionRecordsSchema>;
export type NodeApiConfig = Infer<typeof nodeApiSchema>;
export type Locator = (typeof LOCATORS)[number];
export type AppSettings = Infer<typeof appSettingsSchema>;
/** Fleet mode (the `fleet` section): Redis, the fleet's name and this relay's name in it. */
export type FleetSettings = Infer<typeof fleetSettingsSchema>;
export type DemoSettings = Infer<typeof demoSettingsSchema>;
/** A media node as configured. */
export type NodeConfig = Infer<typeof nodeSchema>;
/** A media node as a caller gives it (createNode, replaceNode): the fields with a default may be left out. */
export type NodeInput = InputOf<typeof nodeSchema.shape>;
/** A route as configured. */
export type RouteConfig = Infer<typeof routeSchema>;
/** A route as a caller gives it (createRoute, replaceRoute): the fields with a default may be left out. */
export type RouteInput = InputOf<typeof routeSchema.shape>;
export type RouteKind = (typeof ROUTE_KINDS)[number];
export type RouteMode = (typeof ROUTE_MODES)[number];
/** The whole configuration file. */
export type RelayDeckConfig = Infer<typeof configSchema>;
