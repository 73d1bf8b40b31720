/**
 * The admin audit log: every call that changes something, as one JSON line (who, what,
 * when, from where), appended to audit.log beside the config file. It rolls over to
 * audit.log.1 past admin.auditLogMaxBytes, so it never grows without bound. Secrets in
 * the call's input (tokens, keys, passwords) are masked.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../core/log.js';

/** One audited call. */
export interface AuditEntry {
  /** ISO time. */
  at: string;
  /** "admin-token" (HTTP with the bearer token) or "desktop" (Electron IPC). */
  who: string;
  /** Client address (HTTP) or "ipc". */
  from: string;
  /** The API call name, e.g. "updateRoute". */
  call: string;
  /** Target id, when the call has one. */
  id?: string;
  /** The input body with secrets masked. */
  body?: unknown;
  /** "ok" or the error code. */
  outcome: string;
}

const SECRET_KEYS = /^(token|secret|password|keys|tokens)$/i;

/** A copy of `value` with secret-looking fields replaced by "***" (bounded depth). */
export function maskSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => maskSecrets(v, depth + 1));
  const out = Object.create(null) as Record<string, unknown>; // a "__proto__" key stays a plain key
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEYS.test(key) ? '***' : maskSecrets(v, depth + 1);
  return out;
}

export class AuditLog {
  private pending: Promise<void> = Promise.resolve();

  constructor(
    /** audit.log path; undefined = audit to the process log only (no config file). */
    readonly file: string | undefined,
    private readonly maxBytes: () => number,
    private readonly log: Logger,
  ) {}

  static besideConfig(configPath: string | undefined, maxBytes: () => number, log: Logger): AuditLog {
    return new AuditLog(configPath ? path.join(path.dirname(configPath), 'audit.log') : undefined, maxBytes, log);
  }

  /** Append an entry (serialized; failures are logged, never thrown at the caller). */
  write(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    const line = `${JSON.stringify({ at: new Date().toISOString(), ...entry, body: maskSecrets(entry.body) })}\n`;
    this.log.info(`audit: ${entry.who} from ${entry.from} ${entry.call}${entry.id ? ` ${entry.id}` : ''} → ${entry.outcome}`);
    if (!this.file) return Promise.resolve();
    const file = this.file;
    this.pending = this.pending.then(() => this.append(file, line)).catch((error) => this.log.error(`audit log write failed: ${(error as Error).message}`));
    return this.pending;
  }

  private async append(file: string, line: string): Promise<void> {
    const size = (await fs.stat(file).catch(() => undefined))?.size ?? 0;
    if (size + line.length > this.maxBytes()) await fs.rename(file, `${file}.1`).catch(() => undefined);
    await fs.appendFile(file, line, { mode: 0o600 });
  }
}
