/**
 * Whole-config rules that a per-field schema cannot express (node URLs, unique ids, references
 * between sections, ports that must differ), and parseConfig, which runs them after the
 * schema.
 */
import { SchemaError } from '../schema.js';
import { normalisePath, type NormalPath } from '../request-path.js';
import { corsCredentialsProblem } from './cors.js';
import { HLS_RESERVED_PARAMS } from './hls.js';
import { tlsAcmeProblem } from './tls.js';
import { configSchema, type RelayDeckConfig } from './schema.js';

function checkNodeUrl(url: string, path: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SchemaError(path, `expected an absolute http:// or https:// URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new SchemaError(path, `expected http:// or https://, got "${parsed.protocol}"`);
  if (parsed.search || parsed.hash || url.includes('#')) throw new SchemaError(path, 'must not have a query or fragment');
  if (parsed.username || parsed.password) throw new SchemaError(path, 'must not hold credentials');
}

/** relay.publicUrl: a node-style URL (http/https, no query, fragment or credentials) viewers can reach. */
function checkPublicUrl(url: string, path: string): void {
  checkNodeUrl(url, path);
  const host = new URL(url).hostname;
  if (host === '0.0.0.0' || host === '[::]')
    throw new SchemaError(path, `"${host}" is a bind address, not one viewers can reach: give the host name or address they use`);
}

function checkUnique<T>(items: T[], key: (item: T) => string, listPath: string, field: string): void {
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const value = key(item);
    if (seen.has(value)) throw new SchemaError(`${listPath}[${index}].${field}`, `duplicate ${field} "${value}"`);
    seen.add(value);
  });
}

/** Cross-field rules that a per-field schema cannot express. */
function checkCrossFields(config: RelayDeckConfig): void {
  config.nodes.forEach((node, i) => checkNodeUrl(node.url, `nodes[${i}].url`));
  checkUnique(config.nodes, (n) => n.id, 'nodes', 'id');
  checkUnique(config.routes, (r) => r.id, 'routes', 'id');
  checkUnique(config.routes, (r) => r.path, 'routes', 'path');
  const nodeIds = new Set(config.nodes.map((n) => n.id));
  config.nodes.forEach((node, i) => {
    if (node.api?.url) checkNodeUrl(node.api.url, `nodes[${i}].api.url`);
    if (node.api?.type === 'nms' && (!node.api.username || !node.api.password)) {
      throw new SchemaError(`nodes[${i}].api`, `'username' and 'password' are required when type is 'nms'`);
    }
  });
  config.routes.forEach((route, i) => {
    route.nodes?.forEach((nodeId, j) => {
      if (!nodeIds.has(nodeId)) throw new SchemaError(`routes[${i}].nodes[${j}]`, `no node with id "${nodeId}"`);
    });
    route.static?.forEach((rule, j) => {
      if (!nodeIds.has(rule.node)) throw new SchemaError(`routes[${i}].static[${j}].node`, `no node with id "${rule.node}"`);
    });
    if (route.locate === 'static' && !route.static?.length) {
      throw new SchemaError(`routes[${i}].static`, `is required when locate is 'static'`);
    }
    if (route.static && route.locate !== 'static') {
      throw new SchemaError(`routes[${i}].static`, `is useless when locate is '${route.locate}'`);
    }
  });
  config.routes.forEach((route, i) => checkRoutePath(route.path, `routes[${i}].path`));
  config.routes.forEach((route, i) => {
    const problem = corsCredentialsProblem(route);
    if (problem) throw new SchemaError(`routes[${i}].corsCredentials`, problem);
  });
  const acmeProblem = tlsAcmeProblem(config.tls);
  if (acmeProblem) throw new SchemaError(...acmeProblem);
  if (config.relay.publicUrl) checkPublicUrl(config.relay.publicUrl, 'relay.publicUrl');
  if (config.relay.readyPath && config.relay.readyPath === config.relay.healthPath)
    throw new SchemaError('relay.readyPath', `must differ from relay.healthPath ("${config.relay.healthPath}")`);
  config.routes.forEach((route, i) => {
    const auth = route.auth;
    if (!auth) return;
    auth.tokens?.forEach((token, j) => {
      if (token.expiresAt !== undefined && Number.isNaN(parseExpiry(token.expiresAt))) {
        throw new SchemaError(`routes[${i}].auth.tokens[${j}].expiresAt`, `expected an ISO date or epoch ms, got "${token.expiresAt}"`);
      }
    });
  });
  if (!isLoopbackHost(config.admin.host) && !config.admin.allowRemote) {
    throw new SchemaError('admin.host', `"${config.admin.host}" is not a loopback address: set admin.allowRemote to true to expose the admin API`);
  }
  if (config.flv.reconnectMinMs > config.flv.reconnectMaxMs) {
    throw new SchemaError('flv.reconnectMinMs', `must not exceed flv.reconnectMaxMs (${config.flv.reconnectMaxMs})`);
  }
  if (config.hls.playlistWorkMaxBytes < config.hls.playlistMaxBytes) {
    throw new SchemaError(
      'hls.playlistWorkMaxBytes',
      `must be at least hls.playlistMaxBytes (${config.hls.playlistMaxBytes}), or no playlist of that size could be fetched`,
    );
  }
  config.hls.carryParams.forEach((name, i) => {
    if (HLS_RESERVED_PARAMS.includes(name) || name.startsWith('_HLS_'))
      throw new SchemaError(`hls.carryParams[${i}]`, `"${name}" is reserved by the relay and LL-HLS`);
  });
  if (config.fleet.expiryMs <= config.fleet.heartbeatMs) {
    throw new SchemaError(
      'fleet.expiryMs',
      `must be more than fleet.heartbeatMs (${config.fleet.heartbeatMs}), or a live relay is shown gone between its heartbeats (three heartbeats or more is safe)`,
    );
  }
  const { relay, admin } = config;
  if (relay.port !== 0 && relay.port === admin.port && relay.host === admin.host) {
    throw new SchemaError('admin.port', `must differ from relay.port (${relay.port})`);
  }
}

/** A token expiry as epoch ms: an ISO date or a number of ms; NaN when neither. */
export function parseExpiry(text: string): number {
  return /^\d+$/.test(text) ? Number(text) : Date.parse(text);
}

/** True for loopback host names and addresses (the admin API's safe default). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** Requests are matched on their normal form (shared/request-path.ts), so a prefix in another form would never match. */
function checkRoutePath(path: string, field: string): void {
  let normal: NormalPath;
  try {
    normal = normalisePath(path);
  } catch (error) {
    throw new SchemaError(field, (error as Error).message);
  }
  if (normal.encodedSlash) throw new SchemaError(field, 'must not hold an encoded "/" or "\\" (%2F, %5C)');
  if (normal.path !== path) throw new SchemaError(field, `must be in normal form (requests are matched on it): write "${normal.path}"`);
}

/** Validate untrusted data as a full configuration, filling defaults. Throws SchemaError. */
export function parseConfig(value: unknown): RelayDeckConfig {
  const config = configSchema.parse(value, '');
  checkCrossFields(config);
  return config;
}
