/**
 * The RelayDeck engine: config, relay server, admin server and the operator API, wired
 * together. Runs under plain Node (headless `relaydeck serve`, tests) and inside
 * Electron's main process alike; it never imports `electron`.
 */
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isLoopbackHost, parseConfig, type RelayDeckConfig } from '../../shared/config.js';
import type { RelayDeckApi } from '../../shared/api.js';
import { previewNodeUrls, type PreviewSources } from './admin/csp.js';
import { AdminServer } from './admin/server.js';
import { createApiService, relayStateOf } from './admin/api-service.js';
import { nodeViews, type NodeViewSources } from './admin/node-views.js';
import type { ApiOperations } from './admin/operations.js';
import { saveConfigChange } from './config/store.js';
import { createLogger, type Logger } from './core/log.js';
import { createMetricsRegistry, registerAdmissionMetrics } from './relay/metrics.js';
import { registerHlsMetrics } from './relay/hls/metrics.js';
import { LogBook } from './logs/log-book.js';
import { registerLogMetrics } from './logs/metrics.js';
import { RouteTable } from './routing/route-table.js';
import { RelayServer } from './relay/server.js';
import { SessionRegistry } from './relay/sessions.js';
import { StatsBook } from './relay/stats.js';
import type { RelayStateDto, TlsStatusDto } from '../../shared/dto.js';
import { CertificateStore } from './relay/tls/certificates.js';
import { AcmeManager } from './relay/tls/acme.js';
import { AcmeAlpnCertificates } from './relay/tls/acme-alpn.js';
import { AcmeChallenges } from './relay/tls/acme-challenges.js';
import { EventStreamServer } from './admin/events.js';
import { listenKey } from './admin/settings.js';
import { DemoController } from './demo/controller.js';
import { engineSources } from './live/engine-sources.js';
import { PauseSwitch } from './routing/pause-switch.js';
import { UpstreamTransport } from './upstream/transport.js';
import { LiveTicker } from './live/ticker.js';
import { HistoryBook } from './history/book.js';
import type { NodeConfig } from '../../shared/config.js';
import type { NodeDto } from '../../shared/dto.js';
import { EVENT_INTERVAL_MS } from '../../shared/events.js';
import { StreamLocator } from './upstream/locator.js';
import { StreamProbe } from './upstream/probe.js';
import { MemoryStreamRegistry, type StreamRegistryView } from './upstream/stream-registry-view.js';
import type { StreamRegistrySink } from './relay/node-hooks.js';
import { FleetStreamRegistry } from './fleet/stream-registry.js';
import { SharedProbes } from './fleet/shared-probes.js';
import { NodeRegistry } from './upstream/registry.js';
import { AuditLog } from './admin/audit-log.js';
import { aloneFleetDto, Fleet, fleetRelayId } from './fleet/fleet.js';
import { FleetPresence } from './fleet/presence.js';
import { FleetViewerCounts } from './fleet/viewer-counts.js';
import { describeLiveFleet } from './fleet/describe.js';
import { VERSION } from './core/version.js';
import { saveLocalSections } from './fleet/shared-config.js';
import { mergeSharedPart, sameLocalPart, sharedPartOf } from './fleet/shared-part.js';
import { TierStreamsCache, tierStreams } from './admin/tier-streams.js';
import type { Registry } from 'prom-client';

export interface EngineOptions {
  config: RelayDeckConfig;
  /** Where changes are saved; undefined keeps changes in memory only. */
  configPath?: string;
  /** Folder of the built renderer served on the admin port; undefined serves no UI. */
  uiDir?: string;
}

function urlOf(address: AddressInfo, scheme = 'http'): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${scheme}://${host}:${address.port}`;
}

/**
 * Builds the parts and wires them together; the admin API reaches them only through the
 * operations it declares (admin/operations.ts), the ticker through live/engine-sources.ts.
 */
export class Engine {
  private readonly log: Logger = createLogger('engine');
  readonly stats = new StatsBook();
  readonly sessions: SessionRegistry;
  /** The access log and session records on disk (logs/): fed by the session registry, following the `logs` settings live. */
  readonly logs: LogBook;
  readonly api: RelayDeckApi;
  private table: RouteTable;
  /** Pause switch for new requests: relay admission refuses them while on (routing/pause-switch.ts, routing/admission.ts). */
  private readonly pause = new PauseSwitch();
  /** The one upstream transport (upstream/transport.ts): proxied requests, FLV pulls, HLS fetches, health checks and node API probes; its pools keep relay.maxIdleUpstreamSockets idle sockets per node (read at start). */
  private readonly transport: UpstreamTransport;
  /** 1 Hz heartbeat: throughput history, savings estimate, pushed events (live/ticker.ts). */
  readonly ticker: LiveTicker;
  /** The SSE event stream on the admin port. */
  readonly events: EventStreamServer;
  /** The built-in demo node (demo/controller.ts). */
  private readonly demo: DemoController;
  /** Listen addresses as started: a saved change differs from these until a restart. */
  private readonly startedListenKey: string;
  /** Record of every changing admin call, HTTP or IPC (admin/audit-log.ts). */
  readonly audit: AuditLog;
  /** Live node state: health checks, passive failures, traffic (upstream/registry.ts). */
  readonly nodes: NodeRegistry;
  /** Which node holds a stream, by asking the nodes (upstream/probe.ts). */
  private readonly probe: StreamProbe;
  /** The node-choice seam used by the relay and the resolve check (upstream/locator.ts). */
  private readonly locator: StreamLocator;
  /** What node views read (admin/node-views.ts). */
  private readonly nodeSources: NodeViewSources;
  /** What the operator API calls (admin/operations.ts). */
  private readonly operations: ApiOperations;
  private readonly relay: RelayServer;
  private readonly admin: AdminServer;
  /** The Prometheus registry /metrics serves (relay/metrics.ts); every series carries the `relay` label once the relay port listens. */
  private readonly metrics: Registry;
  /** Relay tiers: the last answer to the relays below this one, reused briefly (admin/tier-streams.ts). */
  private readonly tierAnswers = new TierStreamsCache();
  private relayAddress?: AddressInfo;
  /** The HTTPS listener's address (tls.enabled), once listening. */
  private relayTlsAddress?: AddressInfo;
  /** The HTTPS listener's certificates (relay/tls/certificates.ts). */
  private readonly certificates: CertificateStore;
  /** Automatic certificates (tls.acme, relay/tls/acme.ts), and the HTTP-01 tokens and TLS-ALPN-01 certificates the relay answers for it. */
  private readonly acme: AcmeManager;
  private readonly acmeChallenges = new AcmeChallenges();
  private readonly acmeAlpn = new AcmeAlpnCertificates();
  private adminAddress?: AddressInfo;
  /** Fleet mode (fleet.redisUrl set): the Redis link and the shared parts (fleet/); undefined when the relay runs alone. */
  private fleet?: Fleet;
  /** The stream registry (locate "registry", node hooks on the relay port): the fleet's through Redis, or this relay's own in memory when alone (upstream/stream-registry-view.ts). */
  private streamRegistry: StreamRegistryView & StreamRegistrySink = new MemoryStreamRegistry(() => this.config.fleet.registryTtlMs);
  /** Probe answers shared with the fleet (fleet.shareProbes, fleet/shared-probes.ts); undefined alone. */
  private sharedProbes?: SharedProbes;
  /** Fleet mode: this relay's heartbeat and the fleet's relays and load (fleet/presence.ts). */
  private presence?: FleetPresence;
  private pendingChange: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: EngineOptions) {
    this.table = new RouteTable(options.config);
    this.startedListenKey = listenKey(options.config);
    this.logs = new LogBook({ settings: () => this.config.logs, configPath: options.configPath, log: createLogger('logs') });
    this.sessions = new SessionRegistry(this.stats, options.config.relay.requestLogEntries, this.logs);
    this.transport = new UpstreamTransport({ maxIdleSockets: options.config.relay.maxIdleUpstreamSockets });
    this.nodes = new NodeRegistry(createLogger('nodes'), this.transport);
    const configDir = options.configPath ? path.dirname(options.configPath) : path.join(os.tmpdir(), `relaydeck-${process.pid}`);
    this.certificates = new CertificateStore({
      settings: () => this.config.tls,
      configDir,
      log: createLogger('tls'),
      acmeCertificate: () => this.acme.certificate(),
    });
    this.acme = new AcmeManager({
      settings: () => this.config.tls.acme,
      configDir,
      log: createLogger('acme'),
      challenges: this.acmeChallenges,
      alpnCertificates: this.acmeAlpn,
      install: () => this.installAcmeCertificate(),
    });
    this.nodes.sync(options.config);
    this.probe = new StreamProbe(this.nodes, () => this.config.locator, createLogger('probe'), this.transport, {
      sharing: () => this.sharedProbes,
      // Only while a route reads the registry: a fleet locating by probe alone pays no Redis writes for it.
      onListed: (nodeId, keys) => {
        if (this.config.routes.some((r) => r.locate === 'registry')) this.streamRegistry.confirm(nodeId, keys);
      },
    });
    this.locator = new StreamLocator({
      registry: this.nodes,
      probe: this.probe,
      sessionsByNode: () => this.sessionsByNode(),
      streams: () => this.streamRegistry,
    });
    this.relay = new RelayServer({
      table: () => this.table,
      sessions: this.sessions,
      stats: this.stats,
      log: createLogger('relay'),
      locator: this.locator,
      nodes: this.nodes,
      pause: this.pause,
      transport: this.transport,
      acmeChallenges: this.acmeChallenges,
      acmeAlpn: this.acmeAlpn,
      // In fleet mode, hooks before the fleet's registry is joined are not kept in a memory registry that is about to be replaced.
      hookSink: () => (options.config.fleet.redisUrl && this.streamRegistry instanceof MemoryStreamRegistry ? undefined : this.streamRegistry),
    });
    this.nodeSources = { registry: this.nodes, probe: this.probe, hub: this.relay.hub, sessions: this.sessions };
    this.demo = new DemoController(
      {
        config: () => this.config,
        persisted: options.configPath !== undefined,
        changeConfig: (change) => this.changeConfig(change),
        closeStreamsOfRoutes: (ids) => this.closeStreamsOfRoutes(ids),
      },
      createLogger('demo'),
    );
    // The history is built here so the API can read it without the ticker, and the ticker reads through the API.
    const history = new HistoryBook();
    this.operations = this.apiOperations(history);
    this.api = createApiService(this.operations);
    const counters = { sessionCount: () => this.sessions.size, relayState: () => this.relayState() };
    this.ticker = new LiveTicker(engineSources(this.api, counters), createLogger('live'), EVENT_INTERVAL_MS, history);
    const metrics = createMetricsRegistry(
      this.stats,
      this.sessions,
      () => this.relay.hub.list(),
      () => this.nodeDtos(),
    );
    registerAdmissionMetrics(metrics, {
      webhook: () => ({ ...this.relay.webhooks.counters }),
      stop: () => ({ ...this.relay.stops.counters }),
      hlsViewerSessions: () => this.relay.hlsSessions.size,
      jwt: () => ({ ...this.relay.jwt.counters }),
    });
    registerHlsMetrics(
      metrics,
      () => this.relay.hls.listStreams(),
      () => this.relay.hls.cacheStats(),
    );
    registerLogMetrics(metrics, () => this.logs.status());
    this.metrics = metrics;
    this.events = new EventStreamServer(this.ticker, createLogger('events'));
    // Streams first (a disabled node's pulls end, a drain starts), so the pushed node state shows it.
    this.nodes.onStatusChange((change) => this.relay.hub.onNodeStatus(change));
    this.nodes.onStatusChange((change) => {
      const node = this.config.nodes.find((n) => n.id === change.nodeId);
      if (node) this.ticker.publishNodeStatus({ type: 'node', at: Date.now(), ...change, node: this.nodeDtos([node])[0] });
    });
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
    // The files open in the background: lines queue (bounded) until they do; the relay never waits for the disk.
    void engine.logs.apply();
    engine.relayAddress = await engine.relay.listen(relay.host, relay.port);
    if (options.config.fleet.redisUrl) await engine.joinFleet();
    engine.metrics.setDefaultLabels({ relay: engine.relayId });
    try {
      if (options.config.tls.enabled) await engine.listenTls();
      engine.adminAddress = await engine.admin.listen(admin.host, admin.port);
    } catch (error) {
      await engine.relay.close(0);
      await engine.fleet?.stop();
      engine.transport.destroy();
      await engine.logs.close();
      throw error;
    }
    if (!isLoopbackHost(admin.host)) engine.log.warn(`admin API is bound to ${admin.host}, reachable from other machines; keep the token secret`);
    await engine.demo.start();
    engine.probe.start();
    engine.ticker.start();
    engine.presence?.start(); // after the admin port listens: the record advertises its URL
    return engine;
  }

  /** Fleet mode: connect to the fleet's Redis (a relay starts whether it answers or not) and start the shared parts. */
  private async joinFleet(): Promise<void> {
    const fleet = new Fleet({
      settings: this.config.fleet,
      relayPort: this.relayAddress?.port ?? 0,
      log: createLogger('fleet'),
      // The fleet's versions are applied in the change queue, through the same swap as a local change.
      configHost: { current: () => this.table.config, serialize: (task) => this.serialized(task), swap: (next) => this.swapConfig(next) },
      configPath: this.options.configPath,
    });
    this.fleet = fleet;
    await fleet.start();
    await this.joinStreamRegistry(fleet);
    // Fleet-wide viewer caps (relay/viewer-limits.ts FleetViewerCaps) and the heartbeat that keeps their counts and the fleet's load.
    // Read at each use: heartbeatMs, expiryMs and advertiseUrl apply live (a config file reload); the rest of fleet.* after a restart.
    const settings = () => this.config.fleet;
    const counts = new FleetViewerCounts({ link: fleet.link, relayId: fleet.relayId, expiryMs: () => settings().expiryMs });
    this.relay.viewers.fleet = counts;
    this.presence = new FleetPresence({
      link: fleet.link,
      relayId: fleet.relayId,
      heartbeatMs: () => settings().heartbeatMs,
      expiryMs: () => settings().expiryMs,
      counts,
      // A version another relay serves that this one never heard of (its announcement lost): read it, unless it is the one this relay refused.
      onNewerConfig: (version) => {
        if ((fleet.sharedConfig.status().lastRejected?.version ?? 0) < version) fleet.sharedConfig.requestSync();
      },
      log: createLogger('fleet'),
      sources: {
        url: () => settings().advertiseUrl || this.adminUrl,
        startedAt: this.stats.startedAt,
        version: VERSION,
        configVersion: () => fleet.sharedConfig.status().version,
        routes: () => this.config.routes,
        sessions: () => this.sessions.all(),
        traffic: () => this.stats.snapshot().totals,
      },
    });
  }

  /** Fleet mode: the fleet's stream registry replaces this relay's own, and probe answers are shared (fleet.shareProbes). */
  private async joinStreamRegistry(fleet: Fleet): Promise<void> {
    const registry = new FleetStreamRegistry({ link: fleet.link, settings: () => this.config.fleet, log: createLogger('registry') });
    await registry.start();
    this.streamRegistry = registry;
    if (this.config.fleet.shareProbes) this.sharedProbes = new SharedProbes(fleet.link, fleet.relayId, createLogger('probe'));
  }

  /** Load the certificates (a configured one that fails stops the start, naming it), then listen over HTTPS and watch the files. */
  private async listenTls(): Promise<void> {
    await this.acme.start();
    await this.certificates.load();
    this.relayTlsAddress = await this.relay.listenTls(this.config.relay.host, this.config.tls.port, this.certificates);
    this.certificates.startWatching();
    this.acme.schedule();
  }

  /** Serve the certificate ACME just obtained; throws when the listener did not take it (the order then counts as failed). */
  private async installAcmeCertificate(): Promise<void> {
    await this.certificates.check(true);
    if (!this.certificates.describe().some((c) => c.acme))
      throw new Error(`the listener did not take the certificate: ${this.certificates.lastErrors().join('; ')}`);
  }

  /** The HTTPS listener now: its URL and certificates. */
  private tlsStatus(): TlsStatusDto {
    const { tls } = this.config;
    const running = this.relayTlsAddress !== undefined;
    return {
      enabled: running,
      url: this.relayTlsAddress ? urlOf(this.relayTlsAddress, 'https') : '',
      minVersion: tls.minVersion,
      certificates: running ? this.certificates.describe() : [],
      lastCheckAt: running ? this.certificates.lastCheckAt : 0,
      acme: this.acme.status(),
    };
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

  /** Nodes' configuration with their live state, as the API shows them (admin/node-views.ts). */
  private nodeDtos(nodes: readonly NodeConfig[] = this.config.nodes): NodeDto[] {
    return nodeViews(this.nodeSources, nodes);
  }

  /** The operator API's operations, each delegating to the part that holds it (built once the parts exist). */
  private apiOperations(history: HistoryBook): ApiOperations {
    const { sessions, stats, relay, demo, locator } = this;
    return {
      server: { relayUrl: () => this.relayUrl, adminUrl: () => this.adminUrl, startedAt: () => stats.startedAt },
      config: { current: () => this.config, change: (edit) => this.changeConfig(edit), restartNeeded: () => this.restartNeeded },
      relay: {
        isPaused: () => this.paused,
        setPaused: (paused) => void this.setPaused(paused),
        removeDemo: async () => {
          await demo.remove();
        },
      },
      nodes: { list: (nodes) => this.nodeDtos(nodes) },
      sessions: {
        list: () => sessions.list(),
        recent: () => sessions.recent(),
        kick: (id, reason) => {
          const session = sessions.get(id);
          session?.abort(reason);
          return session !== undefined;
        },
      },
      streams: {
        listFlv: () => relay.hub.list(),
        closeFlv: (id) => relay.hub.closeStream(id),
        listHls: () => relay.hls.listStreams(),
        hlsCache: () => relay.hls.cacheStats(),
        tierStreams: () => {
          const now = Date.now();
          return this.tierAnswers.get(now, () =>
            tierStreams({
              relayId: this.relayId,
              table: this.table,
              flv: relay.hub.list(),
              hls: relay.hls.listStreams(),
              known: this.probe.knownKeys(),
              ttlMs: this.config.locator.probeTtlMs,
              now,
            }),
          );
        },
      },
      traffic: {
        stats: () => ({
          ...stats.snapshot(),
          admission: {
            webhook: { ...relay.webhooks.counters },
            stop: { ...relay.stops.counters },
            hlsViewerSessions: relay.hlsSessions.size,
            jwt: relay.jwt.counters,
          },
        }),
        history: () => history.toDto(),
      },
      // The table's match knows nothing of the pause (relay admission refuses paused requests), so it serves the check as is.
      tls: {
        status: () => this.tlsStatus(),
        verify: (certificates) => this.certificates.verify(certificates),
        reload: async () => {
          if (this.relayTlsAddress) await this.certificates.check(true);
          return this.tlsStatus();
        },
        renew: async () => {
          await this.acme.renewNow();
          return this.tlsStatus();
        },
      },
      logs: { status: () => this.logs.status(), read: (query) => this.logs.read(query) },
      fleet: { describe: async () => (this.fleet && this.presence ? describeLiveFleet(this.fleet, this.presence) : aloneFleetDto()) },
      routing: {
        lookup: () => {
          const table = this.table;
          return { table, locator, match: (path) => table.match(path) };
        },
      },
    };
  }

  /** This relay's id: its fleet id, or fleet.relayId / host-port when it runs alone (the `relay` label on /metrics, tier answers). */
  get relayId(): string {
    return this.fleet?.relayId ?? fleetRelayId(this.config.fleet, this.relayAddress?.port ?? 0);
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
   * Fleet mode: a change of the shared part is first written to the fleet (compare-and-set on its
   * version, fleet/shared-config.ts; CONFIG_CONFLICT or FLEET_UNAVAILABLE change nothing), and
   * the file keeps only the local sections (fleet/shared-config.ts saveLocalSections).
   */
  async changeConfig(change: (draft: RelayDeckConfig) => void): Promise<RelayDeckConfig> {
    return this.serialized(async () => {
      const current = this.table.config;
      const draft = structuredClone(current);
      change(draft);
      const next = parseConfig(draft);
      const fleet = this.fleet;
      if (!fleet) {
        if (this.options.configPath) await saveConfigChange(this.options.configPath, next); // sparse: config/sparse.ts
        this.swapConfig(next);
        return next;
      }
      const shared = await fleet.sharedConfig.commit(current, next);
      try {
        if (this.options.configPath && !sameLocalPart(current, next)) await saveLocalSections(this.options.configPath, next);
      } catch (error) {
        // The fleet took the shared part: serve it, with the local sections as they were.
        if (shared) this.swapConfig(parseConfig(mergeSharedPart(current, sharedPartOf(next))));
        throw error;
      }
      this.swapConfig(next);
      return next;
    });
  }

  /** Run `task` after the config changes before it (local or from the fleet), before the next. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.pendingChange.then(task);
    this.pendingChange = run.catch(() => undefined);
    return run;
  }

  /**
   * Replace the whole running config (e.g. a file reload on SIGHUP). Listen addresses need a restart.
   * Fleet mode: only the file's local sections are taken; the shared part stays the fleet's.
   */
  async replaceConfig(next: RelayDeckConfig): Promise<void> {
    await this.changeConfig((draft) => Object.assign(draft, structuredClone(this.fleet ? mergeSharedPart(next, sharedPartOf(draft)) : next)));
  }

  private swapConfig(next: RelayDeckConfig): void {
    const previous = this.table.config;
    this.table = new RouteTable(next);
    this.nodes.sync(next);
    void this.ticker.publishConfig();
    this.stats.retainRoutes(next.routes.map((r) => r.id));
    // The HLS handler reads config.hls per request; lowered cache bounds are applied now rather than at the next sweep.
    if (JSON.stringify(previous.hls) !== JSON.stringify(next.hls)) this.relay.hls.cache.sweep();
    // Certificates apply live: the listed files are read now (a failing one is reported, the rest served).
    if (
      this.relayTlsAddress &&
      JSON.stringify([previous.tls.certificates, previous.tls.selfSigned]) !== JSON.stringify([next.tls.certificates, next.tls.selfSigned])
    )
      void this.certificates.check().catch((error: Error) => this.log.warn(`certificates: ${error.message}`));
    // ACME follows its settings live: on, off, other domains or authority (ordered at once); the store then serves or drops its certificate.
    if (this.relayTlsAddress && JSON.stringify(previous.tls.acme) !== JSON.stringify(next.tls.acme))
      void this.acme
        .reconfigure()
        .then(() => this.certificates.check(true))
        .catch((error: Error) => this.log.warn(`acme: ${error.message}`));
    if (previous.fleet.heartbeatMs !== next.fleet.heartbeatMs) this.presence?.heartbeatChanged();
    // The log files follow their settings live: a file whose settings changed is closed (its queue written out) and opened again.
    if (JSON.stringify(previous.logs) !== JSON.stringify(next.logs)) void this.logs.apply();
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
    this.certificates.stopWatching();
    this.acme.stop();
    await Promise.all([this.relay.close(grace), this.admin.close()]);
    // After the relay: the sessions it ended are in the queues, and get written (each file waits at most LOG_CLOSE_TIMEOUT_MS).
    await this.logs.close();
    await this.presence?.stop();
    await this.fleet?.stop();
    this.transport.destroy();
    await this.demo.stop();
    await this.pendingChange;
  }

  /** Sessions per node for the least-load locator: this relay's, plus the other live relays' at their last heartbeat in fleet mode. */
  private sessionsByNode(): ReadonlyMap<string, number> {
    const local = this.sessions.countByNode();
    return this.presence ? this.presence.sessionsByNode(local) : local;
  }

  /** True while new requests are refused (routing/pause-switch.ts). */
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
  private get restartNeeded(): boolean {
    return listenKey(this.config) !== this.startedListenKey;
  }

  private relayState(): RelayStateDto {
    return relayStateOf(this.operations);
  }

  /** End the live FLV streams of some routes now (viewers included). */
  private closeStreamsOfRoutes(routeIds: readonly string[]): void {
    const ids = new Set(routeIds);
    for (const stream of this.relay.hub.list()) if (ids.has(stream.routeId)) this.relay.hub.closeStream(stream.id);
  }
}
