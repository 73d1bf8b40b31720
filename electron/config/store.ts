/**
 * The configuration file: read and validate strictly, write atomically (temporary file,
 * fsync, rename), create with defaults on first run. A bad file is never overwritten.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, type RelayDeckConfig } from '../../shared/config.js';

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

/** Write the config atomically with mode 0600 (it holds the admin token). */
export async function writeConfigAtomic(file: string, config: RelayDeckConfig): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'w', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(config, null, 2)}\n`);
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
