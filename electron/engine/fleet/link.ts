/**
 * The relay's connection to the fleet's Redis (ioredis): one client for commands and one for
 * subscriptions. Commands never queue while Redis is away (enableOfflineQueue off, one try per
 * command, fleet.commandTimeoutMs each): a caller gets FLEET_UNAVAILABLE at once and serves from
 * what it has. The link reconnects by itself (backoff up to RECONNECT_MAX_DELAY_MS) and tells
 * its listeners when Redis comes back, so the parts resynchronise without a restart.
 */
import { Redis } from 'ioredis';
import type { FleetSettings } from '../../../shared/config.js';
import { RelayError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

/** Longest wait between two reconnect attempts, ms. */
export const RECONNECT_MAX_DELAY_MS = 2_000;
/** Channel names sit under the fleet prefix after this. */
const CHANNEL_PREFIX = 'ch:';

/** Where the link is: connected, or away with the last error. */
export type LinkState = 'connecting' | 'up' | 'down';

/** A message handler for one pub/sub channel of the fleet. */
export type ChannelHandler = (message: string) => void;

export interface FleetLinkOptions {
  settings: FleetSettings;
  log: Logger;
}

/**
 * Keys of one fleet: every key starts with `relaydeck:{<fleet name>}:` (the braces keep a
 * fleet's keys in one Redis Cluster slot, so its scripts may touch several).
 */
export class FleetKeys {
  readonly prefix: string;
  constructor(fleetName: string) {
    this.prefix = `relaydeck:{${fleetName}}:`;
  }
  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }
  channel(name: string): string {
    return this.prefix + CHANNEL_PREFIX + name;
  }
}

export class FleetLink {
  readonly keys: FleetKeys;
  /** Commands (never queued while down). */
  readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Set<ChannelHandler>>();
  private readonly upListeners = new Set<() => void>();
  private readonly subscribedListeners = new Set<() => void>();
  private current: LinkState = 'connecting';
  private lastErrorText = '';
  private everUp = false;
  private closed = false;

  constructor(private readonly options: FleetLinkOptions) {
    const { settings } = options;
    this.keys = new FleetKeys(settings.name);
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: settings.commandTimeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      retryStrategy: (times: number) => (this.closed ? null : Math.min(100 * times, RECONNECT_MAX_DELAY_MS)),
      enableReadyCheck: true,
    };
    this.redis = new Redis(settings.redisUrl, { ...common, connectionName: 'relaydeck' });
    this.subscriber = new Redis(settings.redisUrl, { ...common, connectionName: 'relaydeck-sub', autoResubscribe: true, commandTimeout: undefined });
    this.redis.on('ready', () => this.setState('up'));
    this.redis.on('error', (error: Error) => (this.lastErrorText = error.message));
    this.redis.on('close', () => this.setState('down'));
    this.subscriber.on('error', () => undefined);
    // ioredis resubscribes only the channels whose SUBSCRIBE once succeeded: one asked while Redis was away is asked again here.
    this.subscriber.on('ready', () => {
      const channels = [...this.handlers.keys()];
      const subscribed = channels.length ? this.subscriber.subscribe(...channels) : Promise.resolve(0);
      subscribed.then(
        () => {
          for (const listener of this.subscribedListeners) listener();
        },
        () => undefined,
      );
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
  }

  /** Connect both clients; resolves when connected or when the first attempt failed (the link keeps retrying). */
  async connect(): Promise<void> {
    await Promise.all([
      this.redis.connect().catch((error: Error) => {
        this.lastErrorText = error.message;
        this.setState('down');
      }),
      this.subscriber.connect().catch(() => undefined),
    ]);
  }

  get state(): LinkState {
    return this.current;
  }

  get up(): boolean {
    return this.current === 'up';
  }

  get lastError(): string {
    return this.lastErrorText;
  }

  /** Call `listener` each time Redis is reachable again (and at the first connect). */
  onUp(listener: () => void): () => void {
    this.upListeners.add(listener);
    return () => this.upListeners.delete(listener);
  }

  /**
   * Call `listener` each time the subscription client is connected again and subscribed to the
   * channels: messages published while it was away are lost, so a part reads its state again then.
   */
  onSubscribed(listener: () => void): () => void {
    this.subscribedListeners.add(listener);
    return () => this.subscribedListeners.delete(listener);
  }

  /** Listen to one of the fleet's channels (`name` without the prefix). */
  async subscribe(name: string, handler: ChannelHandler): Promise<void> {
    const channel = this.keys.channel(name);
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.subscriber.subscribe(channel).catch(() => undefined); // resubscribed on reconnect
    }
    set.add(handler);
  }

  /** Publish on one of the fleet's channels; throws FLEET_UNAVAILABLE when Redis is away. */
  async publish(name: string, message: string): Promise<void> {
    await this.command(() => this.redis.publish(this.keys.channel(name), message));
  }

  /** Run one Redis call; any failure becomes FLEET_UNAVAILABLE naming the cause. */
  async command<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new RelayError('FLEET_UNAVAILABLE', 'the fleet link is closed');
    try {
      return await call();
    } catch (error) {
      if (error instanceof RelayError) throw error;
      throw new RelayError('FLEET_UNAVAILABLE', `the fleet's Redis is unreachable: ${(error as Error).message}`);
    }
  }

  private setState(next: LinkState): void {
    if (next === this.current) return;
    const previous = this.current;
    this.current = next;
    if (next === 'up') {
      if (this.everUp || previous === 'down') this.options.log.info('Redis reachable again');
      this.everUp = true;
      for (const listener of this.upListeners) listener();
    } else if (next === 'down' && !this.closed) {
      this.options.log.warn(`Redis unreachable (${this.lastErrorText || 'connection closed'}); serving from what this relay has`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.redis.disconnect();
    this.subscriber.disconnect();
  }
}
