/**
 * The node registry: live state per configured node, the active check timers, passive
 * failure windows and traffic rates. It follows config changes (nodes added, removed or
 * edited) without losing the state of nodes that stay, and reports every status change.
 */
import type { HealthSettings, NodeConfig, RelayDeckConfig } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import { applyCheck, checkOnce, recordPassiveFailure, updatePassive } from './health.js';
import type { UpstreamTransport } from './transport.js';
import { NodeState, type NodeStatus } from './node-state.js';

/** How often traffic rates and passive windows are refreshed, ms. */
export const NODE_SAMPLE_INTERVAL_MS = 1_000;

export interface NodeStatusChange {
  nodeId: string;
  from: NodeStatus;
  to: NodeStatus;
  reason: string;
}

export class NodeRegistry {
  private readonly states = new Map<string, NodeState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private sampler: NodeJS.Timeout | undefined;
  private config: RelayDeckConfig | undefined;
  private listeners: ((change: NodeStatusChange) => void)[] = [];
  private stopped = false;

  constructor(
    private readonly log: Logger,
    /** The engine's upstream transport (upstream/transport.ts): health checks go through it. */
    private readonly transport: UpstreamTransport,
  ) {}

  onStatusChange(listener: (change: NodeStatusChange) => void): void {
    this.listeners.push(listener);
  }

  /** Follow a new config: keep state of nodes that stay, start/stop checks, report status changes. */
  sync(config: RelayDeckConfig): void {
    this.config = config;
    const ids = new Set(config.nodes.map((n) => n.id));
    for (const id of [...this.states.keys()]) {
      if (!ids.has(id)) {
        clearTimeout(this.timers.get(id));
        this.timers.delete(id);
        this.states.delete(id);
      }
    }
    for (const node of config.nodes) {
      const state = this.states.get(node.id);
      if (!state) {
        this.states.set(node.id, new NodeState(node));
        this.scheduleCheck(node.id, 0);
        continue;
      }
      const before = state.status;
      const urlChanged = state.config.url !== node.url;
      state.config = node;
      if (urlChanged) {
        state.health = 'up';
        state.consecutiveFails = 0;
        state.passiveFailures = [];
        state.passivelyDown = false;
      }
      this.report(state, before, 'configuration changed');
      if (urlChanged || !this.timers.has(node.id)) this.scheduleCheck(node.id, 0);
    }
    this.sampler ??= setInterval(() => this.sample(), NODE_SAMPLE_INTERVAL_MS);
    this.sampler.unref();
  }

  healthSettings(node: NodeConfig): HealthSettings {
    return { ...this.config!.health, ...(node.health ?? {}) };
  }

  get(id: string): NodeState | undefined {
    return this.states.get(id);
  }

  all(): NodeState[] {
    return [...this.states.values()];
  }

  /** A proxy or pull failure that is the node's fault (dial, timeout, bad answer). */
  recordFailure(nodeId: string, why: string): void {
    const state = this.states.get(nodeId);
    if (!state) return;
    const before = state.status;
    if (recordPassiveFailure(state, this.healthSettings(state.config))) this.report(state, before, `passive: ${why}`);
  }

  private scheduleCheck(id: string, delayMs: number): void {
    clearTimeout(this.timers.get(id));
    const state = this.states.get(id);
    if (!state || this.stopped) return;
    const settings = this.healthSettings(state.config);
    if (settings.intervalMs === 0) return;
    const timer = setTimeout(() => void this.runCheck(id), delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  private async runCheck(id: string): Promise<void> {
    const state = this.states.get(id);
    if (!state || this.stopped) return;
    const node = state.config;
    const settings = this.healthSettings(node);
    if (node.enabled) {
      const result = await checkOnce(node.url, settings, this.transport);
      if (this.states.get(id) !== state || this.stopped) return;
      const before = state.status;
      if (applyCheck(state, result, settings))
        this.report(state, before, result.ok ? `${settings.passes} check(s) passed` : `${settings.fails} check(s) failed: ${result.error}`);
    }
    this.scheduleCheck(id, settings.intervalMs);
  }

  private sample(): void {
    const now = Date.now();
    for (const state of this.states.values()) {
      state.sampleRates(now);
      const before = state.status;
      if (updatePassive(state, this.healthSettings(state.config), now)) this.report(state, before, 'passive failures expired');
    }
  }

  private report(state: NodeState, before: NodeStatus, reason: string): void {
    const after = state.status;
    if (after === before) return;
    const change = { nodeId: state.config.id, from: before, to: after, reason };
    this.log.info(`node ${change.nodeId}: ${before} → ${after} (${reason})`);
    for (const listener of this.listeners) listener(change);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    clearInterval(this.sampler);
  }
}
