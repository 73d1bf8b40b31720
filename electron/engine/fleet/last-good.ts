/**
 * The last good copy of the fleet's shared document on this relay's disk: the last version
 * it applied, so a relay that starts while Redis is unreachable serves the fleet's config
 * rather than a stale local file. Beside the config file (`fleet-<name>.last-good.json`; the
 * os temporary folder when the relay has no config file), written atomically (temporary file,
 * fsync, rename) with mode 0600. Writes run in the background, one at a time; while one runs,
 * only the newest document waits (at most one pending write), so a burst of versions costs at
 * most two writes and the relay never waits for its disk to serve or to answer a change.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../core/log.js';
import { removeStaleConfigTemps } from '../config/store.js';

/** Largest shared document read back, from the last good copy (bytes) or from Redis (characters): a config of MAX_ROUTES routes and MAX_NODES nodes stays well under it. */
export const LAST_GOOD_MAX_BYTES = 16 * 1024 * 1024;

/** Where the last good copy of fleet `fleetName` lives for a relay with config file `configPath` (or none). */
export function lastGoodPath(configPath: string | undefined, fleetName: string): string {
  const dir = configPath ? path.dirname(configPath) : os.tmpdir();
  return path.join(dir, `fleet-${fleetName}.last-good.json`);
}

export class LastGoodCopy {
  private writing?: Promise<void>;
  /** The newest document waiting while a write runs (at most one). */
  private pending?: string;
  /** The last write's error ("" after a successful one). */
  lastError = '';

  constructor(
    readonly file: string,
    private readonly log: Logger,
  ) {}

  /** The stored document (parsed JSON, shape unchecked), or undefined when there is none; throws naming the file when it cannot be read. */
  async load(): Promise<unknown> {
    await removeStaleConfigTemps(this.file);
    let text: string;
    try {
      const stat = await fs.stat(this.file);
      if (stat.size > LAST_GOOD_MAX_BYTES) throw new Error(`larger than ${LAST_GOOD_MAX_BYTES} bytes`);
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`${this.file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new Error(`${this.file}: not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Write `document` in the background (a newer call replaces a write still waiting). */
  save(document: unknown): void {
    this.pending = `${JSON.stringify(document, null, 2)}\n`;
    if (!this.writing) this.writing = this.drain().finally(() => (this.writing = undefined));
  }

  /** Resolves when every requested write is done. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const text = this.pending;
      this.pending = undefined;
      try {
        await this.write(text);
        this.lastError = '';
      } catch (error) {
        this.lastError = (error as Error).message;
        this.log.warn(`last good copy of the fleet config not written to ${this.file}: ${this.lastError}`);
      }
    }
  }

  private async write(text: string): Promise<void> {
    const dir = path.dirname(this.file);
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = path.join(dir, `.${path.basename(this.file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temp, this.file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }
}
