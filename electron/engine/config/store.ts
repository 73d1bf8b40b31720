/**
 * The configuration file: read and validate strictly, write atomically (temporary file,
 * fsync, rename) and sparsely (only what the operator set or changed; see sparse.ts), create
 * on first run. A bad file is never overwritten.
 * Temporary files (0600: they hold the admin token) left by a process killed mid-write are
 * removed when the config is next loaded.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseConfig, type RelayDeckConfig } from '../../../shared/config.js';
import { processAlive } from '../core/processes.js';
import { indentOf, sparseDocument } from './sparse.js';

/** The per-user folder: the same one Electron uses as userData for the app "RelayDeck". */
export function userDataDir(): string {
  if (process.env.RELAYDECK_HOME) return process.env.RELAYDECK_HOME;
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'RelayDeck');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'RelayDeck');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'RelayDeck');
}

export function defaultConfigPath(): string {
  return path.join(userDataDir(), 'config.json');
}

/** A config file that cannot be used; the message names the file and the field. */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'ConfigFileError';
  }
}

export function generateToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Parse file text as a config; errors name the file and the field path. */
export function parseConfigText(file: string, text: string): RelayDeckConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(file, `not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseConfig(raw);
  } catch (error) {
    throw new ConfigFileError(file, (error as Error).message);
  }
}

export async function readConfigFile(file: string): Promise<RelayDeckConfig> {
  return parseConfigText(file, await fs.readFile(file, 'utf8'));
}

/** A write's temporary file still unrenamed after this long is abandoned, even if its process lives, ms. */
export const STALE_CONFIG_TEMP_MS = 60_000;

/**
 * Remove the temporary files `.<name>.<pid>.<hex>.tmp` beside `file` (writeConfigAtomic's) whose
 * process is gone or that are older than STALE_CONFIG_TEMP_MS. Never the config itself; best effort.
 */
export async function removeStaleConfigTemps(file: string, now = Date.now()): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid === undefined) continue;
    const temp = path.join(dir, name);
    const stat = await fs.lstat(temp).catch(() => undefined);
    if (!stat?.isFile() || (processAlive(Number(pid)) && now - stat.mtimeMs < STALE_CONFIG_TEMP_MS)) continue;
    await fs.rm(temp, { force: true }).catch(() => undefined);
  }
}

/** The file's text and its JSON object, or undefined parts when it is missing or not a JSON object. */
async function readRawDocument(file: string): Promise<{ text?: string; raw?: Record<string, unknown> }> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return {};
  try {
    const raw: unknown = JSON.parse(text);
    return { text, raw: typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined };
  } catch {
    return { text };
  }
}

/**
 * Save a config change: as writeConfigAtomic, but nothing is written when the file on disk
 * already means `config` (e.g. a SIGHUP reload of the file as the operator left it).
 */
export async function saveConfigChange(file: string, config: RelayDeckConfig): Promise<void> {
  const { raw } = await readRawDocument(file);
  if (raw && isDeepStrictEqual(sparseDocument(raw, config), raw)) return;
  await writeConfigAtomic(file, config);
}

/**
 * Write `config` atomically with mode 0600 (it holds the admin token), sparsely: the document on
 * disk is patched with what differs (config/sparse.ts), defaults stay implicit, and its key order
 * and indentation are kept.
 */
export async function writeConfigAtomic(file: string, config: RelayDeckConfig): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const { text, raw } = await readRawDocument(file);
  const doc = sparseDocument(raw, config);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(doc, null, text ? indentOf(text) : 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

export interface LoadedConfig {
  config: RelayDeckConfig;
  /** True when the file was created or the token was generated and saved. */
  written: boolean;
}

/** Load `file`, creating it with defaults when missing and adding a token when it has none. */
export async function loadOrCreateConfig(file: string): Promise<LoadedConfig> {
  await removeStaleConfigTemps(file);
  let config: RelayDeckConfig;
  try {
    config = await readConfigFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    config = parseConfig({});
  }
  if (config.admin.token) return { config, written: false };
  config = { ...config, admin: { ...config.admin, token: generateToken() } };
  await writeConfigAtomic(file, config);
  return { config, written: true };
}
