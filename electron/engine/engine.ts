/**
 * The RelayDeck engine: config, relay server, admin server and the operator API, wired
 * together. Runs under plain Node (headless `relaydeck serve`, tests) and inside
 * Electron's main process alike; it never imports `electron`.
 */
import type { AddressInfo } from 'node:net';
import { isLoopbackHost, parseConfig, type RelayDeckConfig } from '../../shared/config.js';
import type { RelayDeckApi } from '../../shared/api.js';
import { previewNodeUrls, type PreviewSources } from './admin/csp.js';
import { AdminServer } from './admin/server.js';
import { createApiService } from './admin/api-service.js';
import { saveConfigChange } from './config/store.js';
import { createLogger, type Logger } from './core/log.js';
import { createMetricsRegistry } from './relay/metrics.js';
import { registerHlsMetrics } from './relay/hls/metrics.js';
import { RouteTable } from './routing/route-table.js';
import { RelayServer } from './relay/server.js';
import { SessionRegistry } from './relay/sessions.js';
import { StatsBook } from './relay/stats.js';
import type { RelayStateDto } from '../../shared/dto.js';
import { EventStreamServer } from './admin/events.js';
import { listenKey } from './admin/settings.js';
import { demoState } from './demo/config.js';
import { DemoController } from './demo/controller.js';
import { engineSources } from './live/engine-sources.js';
import { GatedRouteTable, PauseGate } from './live/pause-gate.js';
import { LiveTicker } from './live/ticker.js';
import type { NodeConfig } from '../../shared/config.js';
import type { NodeDto, StreamDto } from '../../shared/dto.js';
import { StreamLocator } from './upstream/locator.js';
import { StreamProbe } from './upstream/probe.js';
import { NodeRegistry } from './upstream/registry.js';
import { AuditLog } from './admin/audit-log.js';

export interface EngineOptions {
  config: RelayDeckConfig;
  /** Where changes are saved; undefined keeps changes in memory only. */
  configPath?: string;
  /** Folder of the built renderer served on the admin port; undefined serves no UI. */
  uiDir?: string;
}

function urlOf(address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export class Engine {
  readonly log: Logger = createLogger('engine');
  readonly stats = new StatsBook();
  readonly sessions: SessionRegistry;
  readonly api: RelayDeckApi;
  private table: RouteTable;
  /** Pause switch for new requests (live/pause-gate.ts). */
  readonly pause = new PauseGate();
  /** 1 Hz heartbeat: throughput history, savings estimate, pushed events (live/ticker.ts). */
  readonly ticker: LiveTicker;
  /** The SSE event stream on the admin port. */
  readonly events: EventStreamServer;
  /** The built-in demo node (demo/controller.ts). */
  readonly demo: DemoController;
  /** Listen addresses as started: a saved change differs from these until a restart. */
  private readonly startedListenKey: string;
  /** Record of every changing admin call, HTTP or IPC (admin/audit-log.ts). */
  readonly audit: AuditLog;
  /** Live node state: health checks, passive failures, traffic (upstream/registry.ts). */
  readonly nodes: NodeRegistry;
  /** Which node holds a stream, by asking the nodes (upstream/probe.ts). */
  readonly probe: StreamProbe;
  /** The node-choice seam used by the relay and the resolve check (upstream/locator.ts). */
  readonly locator: StreamLocator;
  private readonly relay: RelayServer;
  private readonly admin: AdminServer;
  private relayAddress?: AddressInfo;
  private adminAddress?: AddressInfo;
  private pendingChange: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: EngineOptions) {
    this.table = new GatedRouteTable(options.config, this.pause);
    this.startedListenKey = listenKey(options.config);
    this.sessions = new SessionRegistry(this.stats, options.config.relay.requestLogEntries);
    this.nodes = new NodeRegistry(createLogger('nodes'));
    this.nodes.sync(options.config);
    this.probe = new StreamProbe(this.nodes, () => this.config.locator, createLogger('probe'));
    this.locator = new StreamLocator({ registry: this.nodes, probe: this.probe, sessionsByNode: () => this.sessions.countByNode() });
    this.relay = new RelayServer({ table: () => this.table, sessions: this.sessions, stats: this.stats, log: createLogger('relay'), locator: this.locator, nodes: this.nodes });
    this.api = createApiService(this);
    const metrics = createMetricsRegistry(this.stats, this.sessions, () => this.relay.hub.list(), () => this.nodeDtos());
    registerHlsMetrics(metrics, () => this.relay.hls.listStreams(), () => this.relay.hls.cacheStats());
    this.ticker = new LiveTicker(engineSources(this), createLogger('live'));
    this.events = new EventStreamServer(this.ticker, createLogger('events'));
    // Streams first (a disabled node's pulls end, a drain starts), so the pushed node state shows it.
    this.nodes.onStatusChange((change) => this.relay.hub.onNodeStatus(change));
    this.nodes.onStatusChange((change) => {
      const node = this.config.nodes.find((n) => n.id === change.nodeId);
      if (node) this.ticker.publishNodeStatus({ type: 'node', at: Date.now(), ...change, node: this.nodeDto(node) });
    });
    this.demo = new DemoController(
      { config: () => this.config, persisted: options.configPath !== undefined, changeConfig: (change) => this.changeConfig(change), closeStreamsOfRoutes: (ids) => this.closeStreamsOfRoutes(ids) },
      createLogger('demo'),
    );
    this.audit = AuditLog.besideConfig(options.configPath, () => this.config.admin.auditLogMaxBytes, createLogger('audit'));
    this.admin = new AdminServer({
      api: this.api,
      token: () => this.config.admin.token ?? '',
      metrics,
      uiDir: options.uiDir,
      previewSources: () => this.previewSources(),
      log: createLogger('admin'),
      maxBodyBytes: () => this.config.admin.maxBodyBytes,
      events: this.events,
      maxFailedAuthPerMinute: () => this.config.admin.maxFailedAuthPerMinute,
      allowedHosts: () => this.config.admin.allowedHosts,
      audit: this.audit,
    });
  }

  /** Start both servers on the configured addresses (port 0 picks a free port). */
  static async start(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    const { relay, admin } = options.config;
    engine.relayAddress = await engine.relay.listen(relay.host, relay.port);
    try {
      engine.adminAddress = await engine.admin.listen(admin.host, admin.port);
    } catch (error) {
      await engine.relay.close(0);
      throw error;
    }
    if (!isLoopbackHost(admin.host)) engine.log.warn(`admin API is bound to ${admin.host}, reachable from other machines; keep the token secret`);
    await engine.demo.start();
    engine.probe.start();
    engine.ticker.start();
    return engine;
  }

  get config(): RelayDeckConfig {
    return this.table.config;
  }

  /** Live FLV fan-out streams. */
  get flvStreams() {
    return this.relay.hub;
  }

  /** HLS through the relay: per-stream stats and the segment/playlist cache. */
  get hls() {
    return this.relay.hls;
  }

  /** Nodes' configuration with their live state, as the API shows them (the stream list is read once). */
  nodeDtos(nodes: readonly NodeConfig[] = this.config.nodes): NodeDto[] {
    const streams = this.relay.hub.list();
    const sessionsByNode = this.sessions.countByNode();
    return nodes.map((node) => this.toNodeDto(node, streams, sessionsByNode.get(node.id) ?? 0));
  }

  /** One node's configuration with its live state. */
  nodeDto(node: NodeConfig): NodeDto {
    return this.nodeDtos([node])[0];
  }

  private toNodeDto(node: NodeConfig, allStreams: StreamDto[], sessions: number): NodeDto {
    const state = this.nodes.get(node.id);
    const streams = allStreams.filter((s) => s.nodeId === node.id);
    const pulledFlv = streams.filter((s) => s.upstreamOpen > 0).length;
    const viewersOfStreams = streams.reduce((n, s) => n + s.viewers, 0);
    return {
      ...node,
      status: state?.status ?? (node.enabled ? 'up' : 'disabled'),
      activeSessions: sessions,
      activePulls: pulledFlv + Math.max(0, sessions - viewersOfStreams),
      rttMs: state?.rttMs ?? -1,
      consecutivePasses: state?.consecutivePasses ?? 0,
      consecutiveFails: state?.consecutiveFails ?? 0,
      lastCheckAt: state?.lastCheckAt ?? 0,
      lastError: state?.lastError ?? '',
      passiveFailures: state?.passiveFailures.length ?? 0,
      mbpsIn: state?.mbpsIn ?? 0,
      mbpsOut: state?.mbpsOut ?? 0,
      streams: this.probe.streamsOn(node.id) ?? streams.map((s) => s.path).slice(0, 100),
      drain: this.relay.hub.drainProgress(node.id),
    };
  }

  get routeTable(): RouteTable {
    return this.table;
  }

  get relayUrl(): string {
    return this.relayAddress ? urlOf(this.relayAddress) : '';
  }

  get adminUrl(): string {
    return this.adminAddress ? urlOf(this.adminAddress) : '';
  }

  /** Where the UI's stream preview may fetch from (admin/csp.ts): the relay, and the nodes of redirect routes. */
  previewSources(): Omit<PreviewSources, 'pageHost'> {
    // relay.publicUrl too: the preview plays through it when set (renderer Preview).
    const publicUrl = this.config.relay.publicUrl;
    return { relayUrl: this.relayUrl, nodeUrls: publicUrl ? [...previewNodeUrls(this.config), publicUrl] : previewNodeUrls(this.config) };
  }

  /**
   * Apply a config change: `change` edits a copy, the result is validated as a whole,
   * saved atomically, then swapped in. On any error the running config is unchanged.
   * Changes are serialized so concurrent calls never overwrite each other.
   */
  async changeConfig(change: (draft: RelayDeckConfig) => void): Promise<RelayDeckConfig> {
    const run = this.pendingChange.then(async () => {
      const draft = structuredClone(this.table.config);
      change(draft);
      const next = parseConfig(draft);
      if (this.options.configPath) await saveConfigChange(this.options.configPath, next); // sparse: config/sparse.ts
      this.swapConfig(next);
      return next;
    });
    this.pendingChange = run.catch(() => undefined);
    return run;
  }

  /** Replace the whole running config (e.g. a file reload on SIGHUP). Listen addresses need a restart. */
  async replaceConfig(next: RelayDeckConfig): Promise<void> {
    await this.changeConfig((draft) => Object.assign(draft, structuredClone(next)));
  }

  private swapConfig(next: RelayDeckConfig): void {
    const previous = this.table.config;
    this.table = new GatedRouteTable(next, this.pause);
    this.nodes.sync(next);
    void this.ticker.publishConfig();
    this.stats.retainRoutes(next.routes.map((r) => r.id));
    // The HLS handler reads config.hls per request; lowered cache bounds are applied now rather than at the next sweep.
    if (JSON.stringify(previous.hls) !== JSON.stringify(next.hls)) this.relay.hls.cache.sweep();
    for (const key of ['host', 'port'] as const) {
      if (previous.relay[key] !== next.relay[key] || previous.admin[key] !== next.admin[key]) {
        this.log.warn(`listen address changes (relay/admin ${key}) apply after a restart`);
        break;
      }
    }
  }

  /** Stop accepting, end streams cleanly, wait for pending saves, close both servers. */
  async stop(): Promise<void> {
    const grace = this.config.relay.shutdownGraceMs;
    this.ticker.stop();
    this.events.closeAll();
    this.probe.stop();
    this.nodes.stop();
    await Promise.all([this.relay.close(grace), this.admin.close()]);
    await this.demo.stop();
    await this.pendingChange;
  }

  /** True while new requests are refused (see live/pause-gate.ts). */
  get paused(): boolean {
    return this.pause.paused;
  }

  /** Pause or resume the relay for new requests; requests in flight continue either way. */
  setPaused(paused: boolean): RelayStateDto {
    if (paused !== this.pause.paused) this.log.info(paused ? 'relay paused: new requests get 503' : 'relay resumed');
    this.pause.set(paused);
    return this.relayState();
  }

  /** True when a saved host or port differs from what the servers were started with. */
  get restartNeeded(): boolean {
    return listenKey(this.config) !== this.startedListenKey;
  }

  relayState(): RelayStateDto {
    return { paused: this.pause.paused, demo: demoState(this.config), restartNeeded: this.restartNeeded };
  }

  /** End the live FLV streams of some routes now (viewers included). */
  closeStreamsOfRoutes(routeIds: readonly string[]): void {
    const ids = new Set(routeIds);
    for (const stream of this.relay.hub.list()) if (ids.has(stream.routeId)) this.relay.hub.closeStream(stream.id);
  }
}

