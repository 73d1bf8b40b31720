/**
 * Names of the log files in the logs folder, for the writer (rotating-file-stream's name
 * generator) and the reader (which lists them newest first). The file written now keeps a
 * fixed name (`access.log`, `sessions.jsonl`); a rotated one is renamed with its rotation
 * time in UTC and a counter (`access-20261204T101500123Z-1.log`), so names sort by age.
 * rotating-file-stream's own list of rotated files (for maxFiles) is a hidden file beside them.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { LogFileName } from '../../../shared/dto.js';

/** How one log's files are named. */
export interface LogNaming {
  readonly stem: string;
  readonly ext: string;
}

export const LOG_NAMING: Readonly<Record<LogFileName, LogNaming>> = {
  access: { stem: 'access', ext: '.log' },
  sessions: { stem: 'sessions', ext: '.jsonl' },
};

/** The file being written. */
export function currentName(naming: LogNaming): string {
  return `${naming.stem}${naming.ext}`;
}

/** rotating-file-stream's list of rotated files (read and rewritten at each rotation, for maxFiles). */
export function historyName(naming: LogNaming): string {
  return `.${naming.stem}${naming.ext}.history`;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A rotation time as it appears in a name: 20261204T101500123Z (UTC, to the ms). */
function stampOf(time: Date): string {
  return (
    `${time.getUTCFullYear()}${pad(time.getUTCMonth() + 1)}${pad(time.getUTCDate())}T` +
    `${pad(time.getUTCHours())}${pad(time.getUTCMinutes())}${pad(time.getUTCSeconds())}${pad(time.getUTCMilliseconds(), 3)}Z`
  );
}

/** The name of a file rotated at `time`; `index` counts up when that name exists already. */
export function rotatedName(naming: LogNaming, time: Date, index: number): string {
  return `${naming.stem}-${stampOf(time)}-${index}${naming.ext}`;
}

/** rotating-file-stream's name generator: the current name for a null time, else a rotated one. */
export function nameGenerator(naming: LogNaming): (time: Date | number | null, index?: number) => string {
  return (time, index) => (time === null ? currentName(naming) : rotatedName(naming, new Date(time), index ?? 1));
}

/** A rotated file's sort key (its stamp and counter), or undefined for any other name. */
export function rotatedKey(naming: LogNaming, name: string): { stamp: string; index: number } | undefined {
  if (!name.startsWith(`${naming.stem}-`) || !name.endsWith(naming.ext)) return undefined;
  const match = /^(\d{8}T\d{9}Z)-(\d{1,4})$/.exec(name.slice(naming.stem.length + 1, name.length - naming.ext.length));
  return match ? { stamp: match[1], index: Number(match[2]) } : undefined;
}

/** The log's files in `dir`, newest first: the current file (when it exists), then the rotated ones by rotation time. */
export async function filesNewestFirst(dir: string, naming: LogNaming): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const rotated = names
    .map((name) => ({ name, key: rotatedKey(naming, name) }))
    .filter((entry): entry is { name: string; key: { stamp: string; index: number } } => entry.key !== undefined)
    .sort((a, b) => (a.key.stamp === b.key.stamp ? b.key.index - a.key.index : a.key.stamp < b.key.stamp ? 1 : -1))
    .map((entry) => entry.name);
  const current = names.includes(currentName(naming)) ? [currentName(naming)] : [];
  return [...current, ...rotated].map((name) => path.join(dir, name));
}

/** The folder logs go in: logs.dir resolved against the config file's folder ("" = "logs" there); undefined without a config file unless absolute. */
export function logDirOf(dir: string, configPath: string | undefined): string | undefined {
  if (path.isAbsolute(dir)) return path.normalize(dir);
  if (!configPath) return undefined;
  return path.resolve(path.dirname(configPath), dir || 'logs');
}
