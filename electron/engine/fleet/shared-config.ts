/**
 * The fleet's shared config: one versioned document in Redis (key `config`: JSON
 * {version, config, by, at}, `config` being the shared part of the config, shared-part.ts).
 *
 * - A change made on any relay (Engine.changeConfig, admin API or IPC) that touches the shared
 *   part is validated whole by the engine, then written here with compare-and-set on the version
 *   (one Lua script): it succeeds only when the store still holds the version this relay serves,
 *   and gets version + 1; otherwise CONFIG_CONFLICT (409: read the new version and retry) and
 *   nothing changes. While Redis is unreachable such a change fails with FLEET_UNAVAILABLE (503).
 * - The new version is announced on channel `config`; every relay reads the document and applies
 *   it live through the engine's swap path, in the engine's change queue, only when it is newer
 *   than what it serves (versions only go up) and only when the whole merged config validates: a
 *   document that does not is reported (log, status().lastRejected) and the running config kept.
 * - Each applied version is kept on disk (last-good.ts). At start: Redis up, the store's document
 *   (none yet: the local file's shared part is seeded as version 1, SET-if-absent, and whichever
 *   relay won is loaded); Redis down, the last good copy, else the local file. When Redis comes
 *   back (and when the subscription is back, as pub/sub messages sent meanwhile are lost) the
 *   relay reads the document again and applies it if newer. A store that lost its data (a Redis
 *   restarted without persistence) is seeded again from the newest version a relay holds.
 */
import { parseConfig, type RelayDeckConfig } from '../../../shared/config.js';
import { RelayError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { readConfigFile, saveConfigChange } from '../config/store.js';
import { LAST_GOOD_MAX_BYTES, LastGoodCopy } from './last-good.js';
import type { FleetLink } from './link.js';
import { mergeSharedPart, sameSharedPart, sharedPartOf } from './shared-part.js';

/** The Redis key (under the fleet prefix) and the pub/sub channel of the shared document. */
export const SHARED_CONFIG_KEY = 'config';
export const SHARED_CONFIG_CHANNEL = 'config';
/** Longest validation error kept in status().lastRejected and logged, characters. */
const MAX_ERROR_CHARS = 500;

/** The shared document as stored in Redis and in the last good copy. */
export interface SharedConfigDocument {
  /** Starts at 1; +1 per accepted change. */
  version: number;
  /** The shared part of the config (shared-part.ts); validated by each relay with its local sections. */
  config: Record<string, unknown>;
  /** fleet.relayId of the relay that wrote it. */
  by: string;
  /** Epoch ms it was written. */
  at: number;
  /** "file" when a relay seeded it from its config file (no fleet version at hand): a relay holding the same version from the fleet may write over it. */
  from?: 'file';
}

/** Where the config this relay serves came from: the fleet's store, the last good copy on disk, or the local file. */
export type SharedConfigSource = 'fleet' | 'last-good' | 'local';

/** What the shared config part reports (getFleet reads it). */
export interface SharedConfigStatus {
  /** The shared version this relay serves; 0 while it serves its local file. */
  version: number;
  source: SharedConfigSource;
  /** fleet.relayId that wrote the version served, and when (epoch ms); "" and 0 for the local file. */
  by: string;
  at: number;
  /** The last document this relay refused to apply (it did not validate), with why; undefined when none. */
  lastRejected?: { version: number; at: number; error: string };
  /** The last good copy on disk, and its last write error ("" when fine). */
  lastGoodFile: string;
  lastGoodError: string;
}

/** What the shared config needs from the engine. */
export interface SharedConfigHost {
  /** The running config. */
  current(): RelayDeckConfig;
  /** Run `task` in the engine's change queue (after the changes before it, before the next). */
  serialize<T>(task: () => Promise<T>): Promise<T>;
  /** Swap in a validated whole config (the engine's live apply path). */
  swap(next: RelayDeckConfig): void;
}

export interface SharedConfigOptions {
  link: FleetLink;
  relayId: string;
  host: SharedConfigHost;
  /** The last good copy's file (last-good.ts lastGoodPath). */
  lastGoodFile: string;
  log: Logger;
}

/**
 * Compare-and-set. KEYS[1] the document; ARGV[1] the version the change was made on, ARGV[2]
 * the new document, ARGV[3] "1" to replace a stored document that cannot be read. The stored
 * version is 0 when there is none, -1 when it cannot be read. Returns {1, stored} when written,
 * {0, stored} when not.
 */
const CAS_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
local stored = 0
if raw then
  local ok, doc = pcall(cjson.decode, raw)
  if ok and type(doc) == 'table' and type(doc.version) == 'number' then stored = doc.version else stored = -1 end
end
if stored == tonumber(ARGV[1]) or (stored == -1 and ARGV[3] == '1') then
  redis.call('SET', KEYS[1], ARGV[2])
  return {1, stored}
end
return {0, stored}
`;

/**
 * Seed: write ARGV[2] (a document of version ARGV[1]) only when the store has no document or an
 * older readable one (a Redis that lost its data), or the same version seeded from a config file
 * while this seed (ARGV[3] "1") holds that version from the fleet. Returns 1 when written.
 */
const SEED_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
local stored = 0
local fromFile = false
if raw then
  local ok, doc = pcall(cjson.decode, raw)
  if ok and type(doc) == 'table' and type(doc.version) == 'number' then stored = doc.version else return 0 end
  fromFile = doc.from == 'file'
end
if stored < tonumber(ARGV[1]) or (stored == tonumber(ARGV[1]) and fromFile and ARGV[3] == '1') then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** A document read from Redis or disk: its checked shape, or why it cannot be used (with its version when readable). */
export type DecodedDocument = { ok: true; document: SharedConfigDocument } | { ok: false; version: number; error: string };

/** Check the shape of a stored document (text or parsed JSON); the config inside is validated later, merged. */
export function decodeSharedDocument(value: unknown): DecodedDocument {
  let parsed = value;
  if (typeof value === 'string') {
    if (value.length > LAST_GOOD_MAX_BYTES) return { ok: false, version: 0, error: `larger than ${LAST_GOOD_MAX_BYTES} characters` };
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      return { ok: false, version: 0, error: `not valid JSON: ${(error as Error).message}` };
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { ok: false, version: 0, error: 'expected a JSON object' };
  const doc = parsed as Record<string, unknown>;
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    return { ok: false, version: 0, error: 'version: expected an integer from 1' };
  if (typeof doc.config !== 'object' || doc.config === null || Array.isArray(doc.config)) return { ok: false, version, error: 'config: expected an object' };
  const document: SharedConfigDocument = {
    version,
    config: doc.config as Record<string, unknown>,
    by: typeof doc.by === 'string' ? doc.by : '',
    at: typeof doc.at === 'number' ? doc.at : 0,
  };
  if (doc.from === 'file') document.from = 'file';
  return { ok: true, document };
}

function shortError(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

/**
 * Save a change to the config file in fleet mode: the local sections (and local relay keys) of
 * `next`, beside the shared part the file already has (the fleet's document lives in Redis and
 * in the last good copy; the file's shared part only seeds a new fleet). A file that cannot be
 * read is written with `next` whole, as a relay alone would.
 */
export async function saveLocalSections(file: string, next: RelayDeckConfig): Promise<void> {
  let onDisk: RelayDeckConfig | undefined;
  try {
    onDisk = await readConfigFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') onDisk = parseConfig({});
  }
  let merged = next;
  if (onDisk) {
    try {
      merged = parseConfig(mergeSharedPart(next, sharedPartOf(onDisk)));
    } catch {
      merged = next;
    }
  }
  await saveConfigChange(file, merged);
}

export class SharedConfig {
  private version = 0;
  private source: SharedConfigSource = 'local';
  private by = '';
  private at = 0;
  private lastRejected?: { version: number; at: number; error: string; unreadable: boolean };
  private readonly lastGood: LastGoodCopy;
  private readonly key: string;
  /** The sync running (at most one), and whether another was asked for meanwhile (coalesced into one). */
  private syncing?: Promise<void>;
  private syncAgain = false;
  private stopped = false;
  private readonly unlisten: (() => void)[] = [];
  /** Last sync failure logged, so a Redis away is not logged once per message. */
  private lastSyncError = '';

  constructor(private readonly options: SharedConfigOptions) {
    this.lastGood = new LastGoodCopy(options.lastGoodFile, options.log);
    this.key = options.link.keys.key(SHARED_CONFIG_KEY);
  }

  /** Load the fleet's document (Redis up) or the last good copy (Redis down), and follow the fleet's changes. */
  async start(): Promise<void> {
    const { link, log } = this.options;
    await link.subscribe(SHARED_CONFIG_CHANNEL, (message) => this.onMessage(message));
    this.unlisten.push(link.onUp(() => this.requestSync()));
    this.unlisten.push(link.onSubscribed(() => this.requestSync()));
    if (link.up) {
      try {
        await this.sync();
      } catch (error) {
        log.warn(`fleet config not loaded from Redis: ${shortError(error)}`);
      }
    }
    if (this.source !== 'fleet') await this.loadLastGood();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const off of this.unlisten.splice(0)) off();
    await this.syncing;
    await this.lastGood.flush();
  }

  status(): SharedConfigStatus {
    const rejected = this.lastRejected;
    return {
      version: this.version,
      source: this.source,
      by: this.by,
      at: this.at,
      lastRejected: rejected ? { version: rejected.version, at: rejected.at, error: rejected.error } : undefined,
      lastGoodFile: this.lastGood.file,
      lastGoodError: this.lastGood.lastError,
    };
  }

  /**
   * Write the shared part of `next` to the fleet when it differs from `current`'s (call it in the
   * engine's change queue, after validating `next` whole). Throws CONFIG_CONFLICT when the store
   * moved past the version this relay serves, FLEET_UNAVAILABLE when Redis is unreachable; either
   * way nothing is written. Returns true when the shared part was written.
   */
  async commit(current: RelayDeckConfig, next: RelayDeckConfig): Promise<boolean> {
    if (sameSharedPart(current, next)) return false;
    const { link, relayId, log } = this.options;
    if (!link.up)
      throw new RelayError(
        'FLEET_UNAVAILABLE',
        `the fleet's Redis is unreachable (${link.lastError || link.state}): shared settings (routes, nodes, relay, flv, hls, health, locator, webhooks) cannot change until it is back; this relay keeps serving version ${this.version}`,
      );
    const rejected = this.lastRejected;
    // A document this relay refused (it did not validate) may be replaced by a valid change made on top of it.
    const base = rejected && rejected.version > this.version ? rejected.version : this.version;
    const document: SharedConfigDocument = { version: base + 1, config: sharedPartOf(next), by: relayId, at: Date.now() };
    let answer: [number, number];
    try {
      answer = (await link.command(() =>
        link.redis.eval(CAS_SCRIPT, 1, this.key, String(base), JSON.stringify(document), rejected?.unreadable ? '1' : '0'),
      )) as [number, number];
    } catch (error) {
      // A timeout may hide a write that happened: the next read (now, or when Redis is back) tells.
      this.requestSync();
      throw error;
    }
    const [written, stored] = answer;
    if (written !== 1) {
      this.requestSync();
      throw new RelayError(
        'CONFIG_CONFLICT',
        `the fleet's shared config changed meanwhile (this relay serves version ${this.version}, the fleet has ${stored < 0 ? 'an unreadable document' : `version ${stored}`}): read the new version and retry the change`,
      );
    }
    this.served(document, 'fleet');
    link.publish(SHARED_CONFIG_CHANNEL, JSON.stringify({ version: document.version, by: relayId })).catch((error: Error) => {
      // The document is stored: the others read it when their link is back (resync).
      log.warn(`fleet config version ${document.version} stored but not announced: ${error.message}`);
    });
    return true;
  }

  /** A message on channel `config`: read the document unless it names a version already served. */
  private onMessage(message: string): void {
    try {
      const { version, by } = JSON.parse(message) as { version?: unknown; by?: unknown };
      if (typeof version === 'number' && (version < this.version || (version === this.version && by === this.options.relayId))) return;
    } catch {
      // an unreadable message still means "the document changed"
    }
    this.requestSync();
  }

  /** Read the document soon (one read at a time; asks made during a read give one more read after it). */
  requestSync(): void {
    if (this.stopped) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        try {
          await this.sync();
          this.lastSyncError = '';
        } catch (error) {
          const text = shortError(error);
          if (text !== this.lastSyncError) this.options.log.warn(`fleet config not synchronised: ${text}`);
          this.lastSyncError = text;
        }
      } while (this.syncAgain && !this.stopped);
    })().finally(() => (this.syncing = undefined));
  }

  /** Read the store's document, seed it when it has none (or an older one), and apply it when newer. */
  private async sync(): Promise<void> {
    const { link } = this.options;
    let text = await link.command(() => link.redis.get(this.key));
    const decoded = text === null ? undefined : decodeSharedDocument(text);
    const held = this.source !== 'local'; // a fleet version at hand (from Redis or the last good copy), not just the file
    const stale =
      decoded?.ok &&
      (decoded.document.version < this.version ||
        (held && decoded.document.version === this.version && decoded.document.from === 'file' && !this.serves(decoded.document)));
    if (text === null || stale) {
      const seed: SharedConfigDocument = {
        version: Math.max(1, this.version),
        config: sharedPartOf(this.options.host.current()),
        by: this.options.relayId,
        at: Date.now(),
      };
      if (!held) seed.from = 'file';
      const written = await link.command(() => link.redis.eval(SEED_SCRIPT, 1, this.key, String(seed.version), JSON.stringify(seed), held ? '1' : '0'));
      if (written === 1) {
        this.options.log.info(`fleet config seeded at version ${seed.version} from this relay's ${held ? 'copy' : 'config file'}`);
        // Relays that read a seed of the same version meanwhile read again.
        await link.publish(SHARED_CONFIG_CHANNEL, JSON.stringify({ version: seed.version, by: this.options.relayId, seed: true }));
      }
      text = await link.command(() => link.redis.get(this.key));
      if (text === null) return;
    }
    await this.apply(decodeSharedDocument(text), 'fleet');
  }

  /** Apply a decoded document in the engine's change queue when it is newer and validates; report it otherwise. */
  private async apply(decoded: DecodedDocument, source: SharedConfigSource): Promise<void> {
    if (!decoded.ok) {
      this.reject(decoded.version, decoded.error, decoded.version === 0, source);
      return;
    }
    const document = decoded.document;
    await this.options.host.serialize(async () => {
      if (document.version < this.version) return; // versions only go up
      const current = this.options.host.current();
      let next: RelayDeckConfig;
      try {
        next = parseConfig(mergeSharedPart(current, document.config));
      } catch (error) {
        this.reject(document.version, shortError(error), false, source);
        return;
      }
      // The same version with other content: a seed raced another (Redis lost its data); the store's wins.
      const changed = !sameSharedPart(current, next);
      if (changed) this.options.host.swap(next);
      if (document.version === this.version && this.source === source && !changed) return;
      this.options.log.info(
        `fleet config version ${document.version} (by ${document.by || 'unknown'}) applied from ${source === 'fleet' ? 'Redis' : 'the last good copy'}`,
      );
      this.served(document, source);
    });
  }

  /** True when `document`'s shared part is the one running (a document that does not validate is not). */
  private serves(document: SharedConfigDocument): boolean {
    const current = this.options.host.current();
    try {
      return sameSharedPart(current, parseConfig(mergeSharedPart(current, document.config)));
    } catch {
      return false;
    }
  }

  private served(document: SharedConfigDocument, source: SharedConfigSource): void {
    this.version = document.version;
    this.source = source;
    this.by = document.by;
    this.at = document.at;
    if (source === 'fleet') this.lastGood.save(document);
  }

  private reject(version: number, error: string, unreadable: boolean, source: SharedConfigSource): void {
    const previous = this.lastRejected;
    const origin = source === 'fleet' ? 'in Redis' : `in ${this.lastGood.file}`;
    if (!previous || previous.version !== version || previous.error !== error)
      this.options.log.warn(`fleet config ${version ? `version ${version} ` : ''}${origin} not applied (kept version ${this.version}): ${error}`);
    if (source === 'fleet') this.lastRejected = { version, at: Date.now(), error, unreadable };
  }

  /** Redis was unreachable at start: serve the last good copy when there is one (else the local file). */
  private async loadLastGood(): Promise<void> {
    const { log } = this.options;
    let stored: unknown;
    try {
      stored = await this.lastGood.load();
    } catch (error) {
      log.warn(`last good copy of the fleet config not read: ${shortError(error)}; serving the config file`);
      return;
    }
    if (stored === undefined) {
      log.warn(`no last good copy of the fleet config (${this.lastGood.file}); serving the config file until Redis answers`);
      return;
    }
    await this.apply(decodeSharedDocument(stored), 'last-good');
  }
}
