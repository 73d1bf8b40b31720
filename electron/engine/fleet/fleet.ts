/**
 * Fleet mode (the `fleet` section): this relay's membership in a fleet of relays sharing
 * config, stream locations and load through Redis. Built only when fleet.redisUrl is set; a
 * relay without it never loads this folder's Redis client. The parts:
 *   link.ts           the Redis connection (commands never queue while Redis is away)
 *   shared-config.ts  the versioned shared document, compare-and-set, last good copy on disk
 *   presence.ts       this relay's heartbeat (load, counts) and the fleet's relays and streams
 *   viewer-counts.ts  fleet-wide viewer counts for per-stream and per-route caps
 *   stream-registry.ts  what the nodes publish (hooks), with expiry, for the registry locator
 *   shared-probes.ts  nodes' stream lists asked by one relay and shared with the others (fleet.shareProbes)
 * Redis is never asked per media chunk: a bounded number of calls per viewer join and leave,
 * and a heartbeat per fleet.heartbeatMs.
 */
import os from 'node:os';
import type { FleetSettings } from '../../../shared/config.js';
import type { FleetDto } from '../../../shared/dto.js';
import type { Logger } from '../core/log.js';
import { lastGoodPath } from './last-good.js';
import { FleetLink } from './link.js';
import { SharedConfig, type SharedConfigHost } from './shared-config.js';

export interface FleetOptions {
  settings: FleetSettings;
  /** The relay port as listening (for the default relay id). */
  relayPort: number;
  log: Logger;
  /** The engine's side of the shared config (its running config, change queue and swap). */
  configHost: SharedConfigHost;
  /** The relay's config file (the last good copy is kept beside it); undefined: the os temporary folder. */
  configPath?: string;
}

/** The relay's id in the fleet: fleet.relayId, or the host name and relay port. */
export function fleetRelayId(settings: FleetSettings, relayPort: number): string {
  if (settings.relayId) return settings.relayId;
  const host = os
    .hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 50);
  return `${host}-${relayPort}`;
}

/** What getFleet answers for a relay that runs alone. */
export function aloneFleetDto(): FleetDto {
  return {
    enabled: false,
    name: '',
    relayId: '',
    redis: { state: 'down', lastError: '' },
    configVersion: 0,
    configSource: 'local',
    relays: [],
    streams: [],
    totals: { relays: 0, viewers: 0, streams: 0, mbpsIn: 0, mbpsOut: 0 },
  };
}

export class Fleet {
  readonly link: FleetLink;
  readonly relayId: string;
  /** The fleet's versioned shared config (shared-config.ts): compare-and-set changes, live apply, last good copy. */
  readonly sharedConfig: SharedConfig;

  constructor(readonly options: FleetOptions) {
    this.link = new FleetLink({ settings: options.settings, log: options.log });
    this.relayId = fleetRelayId(options.settings, options.relayPort);
    this.sharedConfig = new SharedConfig({
      link: this.link,
      relayId: this.relayId,
      host: options.configHost,
      lastGoodFile: lastGoodPath(options.configPath, options.settings.name),
      log: options.log,
    });
  }

  get settings(): FleetSettings {
    return this.options.settings;
  }

  /** Connect (bounded by fleet.connectTimeoutMs; a relay starts whether Redis answers or not). */
  async start(): Promise<void> {
    await this.link.connect();
    await this.sharedConfig.start();
  }

  async stop(): Promise<void> {
    await this.sharedConfig.stop();
    await this.link.close();
  }
}
