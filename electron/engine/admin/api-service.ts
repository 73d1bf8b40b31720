/**
 * The operator API implemented once against the operations it needs (admin/operations.ts),
 * never against the engine. The admin HTTP routes and the Electron IPC handlers both call
 * this object, so every transport behaves the same. Inputs are untrusted: each is validated
 * here, with errors that name the field, before any operation runs.
 */
import type { RelayDeckApi } from '../../../shared/api.js';
import { nodePatchSchema, nodeSchema, routePatchSchema, routeSchema, type RelayDeckConfig, type RouteConfig } from '../../../shared/config.js';
import type { RelayStateDto, RouteSavedDto } from '../../../shared/dto.js';
import { nodeChoiceOf, routeWarnings } from '../../../shared/route-nodes.js';
import { viewerBaseUrl } from '../../../shared/viewer-url.js';
import { object, optional, string } from '../../../shared/schema.js';
import { VERSION } from '../core/version.js';
import { RelayError } from '../core/errors.js';
import { demoState } from '../demo/config.js';
import { parseTtl, signPath } from '../relay/auth/sign-url.js';
import { parseRecordQuery } from '../logs/record-query.js';
import type { ApiOperations, ConfigAccess, RelayControls } from './operations.js';
import { resolvePath, RESOLVE_MAX_PATH_CHARS } from './resolve.js';
import { applySettingsPatch, settingsDto, settingsPatchSchema } from './settings.js';

const idSchema = string({ min: 1, max: 64 });
const signBodySchema = object({
  routeId: string({ min: 1, max: 64 }),
  path: string({ min: 1, max: 4096 }),
  ttl: string({ min: 1, max: 16 }),
  prefix: optional(string({ min: 1, max: 4096 })),
});
const resolveBodySchema = object({ path: string({ min: 1, max: RESOLVE_MAX_PATH_CHARS }) });

function inputObject(input: unknown): Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new RelayError('BAD_CONFIG', 'input: expected an object');
  return input as Record<string, unknown>;
}

function idOf(input: unknown): string {
  return idSchema.parse(inputObject(input).id, 'id');
}

function indexOf<T extends { id: string }>(items: T[], id: string, what: string): number {
  const index = items.findIndex((item) => item.id === id);
  if (index < 0) throw new RelayError('NOT_FOUND', `no ${what} with id "${id}"`);
  return index;
}

function refuseDuplicate(items: { id: string }[], id: string, what: string): void {
  if (items.some((item) => item.id === id)) throw new RelayError('CONFLICT', `a ${what} with id "${id}" exists already`);
}

function pickRoute(config: RelayDeckConfig, id: string): RouteConfig {
  return config.routes[indexOf(config.routes, id, 'route')];
}

/** A saved route with what the operator should know about it (shared/route-nodes.ts). */
function savedRoute(config: RelayDeckConfig, id: string): RouteSavedDto {
  const route = pickRoute(config, id);
  return { ...route, warnings: routeWarnings(route, nodeChoiceOf(config)) };
}

/** The relay's state as the API and the pushed snapshots show it. */
export function relayStateOf(parts: { config: ConfigAccess; relay: Pick<RelayControls, 'isPaused'> }): RelayStateDto {
  return { paused: parts.relay.isPaused(), demo: demoState(parts.config.current()), restartNeeded: parts.config.restartNeeded() };
}

export function createApiService(ops: ApiOperations): RelayDeckApi {
  const { config, relay, nodes, sessions, streams, traffic } = ops;
  const findNode = (next: RelayDeckConfig, id: string) => nodes.list([next.nodes[indexOf(next.nodes, id, 'node')]])[0];
  const urls = () => ({ relayUrl: ops.server.relayUrl(), adminUrl: ops.server.adminUrl() });

  return {
    async getServerInfo() {
      const { relayUrl, adminUrl } = urls();
      return { relayUrl, adminUrl, publicUrl: config.current().relay.publicUrl || null, version: VERSION, startedAt: ops.server.startedAt() };
    },
    async listRoutes() {
      return config.current().routes;
    },
    async createRoute(input) {
      const route = routeSchema.parse(inputObject(input).body, 'body');
      const next = await config.change((draft) => {
        refuseDuplicate(draft.routes, route.id, 'route');
        draft.routes.push(route);
      });
      return savedRoute(next, route.id);
    },
    async replaceRoute(input) {
      const id = idOf(input);
      const route = routeSchema.parse(inputObject(input).body, 'body');
      const next = await config.change((draft) => {
        const index = indexOf(draft.routes, id, 'route');
        if (route.id !== id) refuseDuplicate(draft.routes, route.id, 'route');
        draft.routes[index] = route;
      });
      return savedRoute(next, route.id);
    },
    async updateRoute(input) {
      const id = idOf(input);
      const patch = routePatchSchema.parse(inputObject(input).body, 'body');
      const next = await config.change((draft) => {
        const index = indexOf(draft.routes, id, 'route');
        if (patch.id !== undefined && patch.id !== id) refuseDuplicate(draft.routes, patch.id, 'route');
        draft.routes[index] = { ...draft.routes[index], ...patch };
      });
      return savedRoute(next, patch.id ?? id);
    },
    async deleteRoute(input) {
      const id = idOf(input);
      await config.change((draft) => {
        draft.routes.splice(indexOf(draft.routes, id, 'route'), 1);
      });
      return { deleted: id };
    },
    async listNodes() {
      return nodes.list();
    },
    async createNode(input) {
      const node = nodeSchema.parse(inputObject(input).body, 'body');
      const next = await config.change((draft) => {
        refuseDuplicate(draft.nodes, node.id, 'node');
        draft.nodes.push(node);
      });
      return findNode(next, node.id);
    },
    async replaceNode(input) {
      const id = idOf(input);
      const node = nodeSchema.parse(inputObject(input).body, 'body');
      const next = await config.change((draft) => {
        const index = indexOf(draft.nodes, id, 'node');
        if (node.id !== id) throw new RelayError('BAD_CONFIG', `body.id: cannot rename node "${id}"; routes refer to it`);
        draft.nodes[index] = node;
      });
      return findNode(next, id);
    },
    async updateNode(input) {
      const id = idOf(input);
      const patch = nodePatchSchema.parse(inputObject(input).body, 'body');
      if (patch.id !== undefined && patch.id !== id) throw new RelayError('BAD_CONFIG', `body.id: cannot rename node "${id}"; routes refer to it`);
      const next = await config.change((draft) => {
        const index = indexOf(draft.nodes, id, 'node');
        draft.nodes[index] = { ...draft.nodes[index], ...patch };
      });
      return findNode(next, id);
    },
    async deleteNode(input) {
      const id = idOf(input);
      await config.change((draft) => {
        draft.nodes.splice(indexOf(draft.nodes, id, 'node'), 1);
        const users = draft.routes.filter((r) => r.nodes?.includes(id)).map((r) => r.id);
        if (users.length) throw new RelayError('CONFLICT', `node "${id}" is used by route(s) ${users.join(', ')}`);
      });
      return { deleted: id };
    },
    async listSessions() {
      return sessions.list();
    },
    async signUrl(input) {
      const body = signBodySchema.parse(inputObject(input).body, 'body');
      const running = config.current();
      const route = running.routes.find((r) => r.id === body.routeId);
      if (!route) throw new RelayError('NOT_FOUND', `no route with id "${body.routeId}"`);
      const signed = signPath(route, body.path, parseTtl(body.ttl), body.prefix);
      const base = viewerBaseUrl(running.relay.publicUrl, ops.server.relayUrl());
      return { url: base + signed.pathAndQuery, pathAndQuery: signed.pathAndQuery, expiresAt: signed.expiresAt, keyId: signed.keyId };
    },
    async kickSession(input) {
      const id = idOf(input);
      if (!sessions.kick(id, 'kicked by operator')) throw new RelayError('NOT_FOUND', `no session with id "${id}"`);
      return { kicked: id };
    },
    async listStreams() {
      return streams.listFlv();
    },
    async listHlsStreams() {
      return streams.listHls();
    },
    async getHlsCache() {
      return streams.hlsCache();
    },
    async listTierStreams() {
      return streams.tierStreams();
    },
    async closeStream(input) {
      const id = idOf(input);
      streams.closeFlv(id);
      return { closed: id };
    },
    async listRequestLog() {
      return sessions.recent();
    },
    async getLogs() {
      return ops.logs.status();
    },
    async listLogRecords(input) {
      const query = parseRecordQuery(inputObject(input).body, 'body', config.current().logs.readMaxRecords);
      return ops.logs.read(query);
    },
    async getStats() {
      return traffic.stats();
    },
    async getFleet() {
      return ops.fleet.describe();
    },
    async getHistory() {
      return traffic.history();
    },
    async resolvePath(input) {
      const { path } = resolveBodySchema.parse(inputObject(input).body, 'body');
      return resolvePath({ ...ops.routing.lookup(), paused: relay.isPaused() }, path);
    },
    async getRelayState() {
      return relayStateOf(ops);
    },
    async pauseRelay() {
      relay.setPaused(true);
      return relayStateOf(ops);
    },
    async resumeRelay() {
      relay.setPaused(false);
      return relayStateOf(ops);
    },
    async removeDemo() {
      await relay.removeDemo();
      return relayStateOf(ops);
    },
    async getSettings() {
      return settingsDto(config.current(), urls(), config.restartNeeded());
    },
    async getTls() {
      return ops.tls.status();
    },
    async reloadTls() {
      return ops.tls.reload();
    },
    async renewTls() {
      return ops.tls.renew();
    },
    async updateSettings(input) {
      const patch = settingsPatchSchema.parse(inputObject(input).body, 'body');
      // Certificate files are read before the change is saved: one that does not load is refused, naming it, and nothing changes.
      if (patch.tls?.certificates) await ops.tls.verify(patch.tls.certificates);
      const next = await config.change((draft) => applySettingsPatch(draft, patch));
      return settingsDto(next, urls(), config.restartNeeded());
    },
  };
}
