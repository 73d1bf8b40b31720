/**
 * The relay's log files: the access log (every finished request) and the session records (one
 * per viewer session), in the folder logs.dir names. The session registry tells it of each
 * finished request (FinishedRequestSink), which it only queues; the files are written off the
 * hot path (log-file.ts, line-queue.ts). It follows the `logs` settings live (`apply`, called by
 * the engine at start and on each change: a file whose settings changed is closed and opened
 * again), and reads past records back for the API (record-reader.ts).
 */
import type { LogsSettings } from '../../../shared/config.js';
import type { LogFileStatusDto, LogRecordsDto, LogsStatusDto } from '../../../shared/dto.js';
import type { Logger } from '../core/log.js';
import type { LoggedRequest } from '../relay/request-log.js';
import type { FinishedRequestSink } from '../relay/sessions.js';
import { LOG_NAMING, logDirOf, type LogNaming } from './file-names.js';
import { accessLineFormat, sessionJsonLine, type FinishedItem } from './line-format.js';
import { LOG_CLOSE_TIMEOUT_MS, LogFileWriter, type LogFileSpec } from './log-file.js';
import type { RecordQuery } from './record-query.js';
import { readRecords } from './record-reader.js';

export interface LogBookDeps {
  /** The `logs` settings in force (read at each apply and each read). */
  settings: () => LogsSettings;
  /** The config file, whose folder a relative logs.dir is taken from; undefined: only an absolute logs.dir is used. */
  configPath?: string;
  log: Logger;
}

/** The settings one file is written with. */
type FileSettings = Pick<LogsSettings['sessions'], 'enabled' | 'rotateBytes' | 'rotateInterval' | 'maxFiles'>;

function specOf(
  dir: string | undefined,
  naming: LogNaming,
  settings: FileSettings,
  formatName: string,
  format: (item: FinishedItem) => string,
): LogFileSpec | undefined {
  if (!dir || !settings.enabled) return undefined;
  const { rotateBytes, rotateInterval, maxFiles } = settings;
  return { dir, naming, rotateBytes, rotateInterval, maxFiles, formatName, format };
}

function fileStatus(writer: LogFileWriter, format: LogFileStatusDto['format'], queueLimit: number): LogFileStatusDto {
  const { queue } = writer;
  return {
    enabled: writer.enabled,
    path: writer.path,
    format,
    written: queue.written,
    dropped: queue.dropped,
    queued: queue.queued,
    queueLimit,
    rotations: writer.rotations,
    removed: writer.removed,
    errors: writer.errors,
    lastError: writer.lastError,
  };
}

export class LogBook implements FinishedRequestSink {
  private readonly access: LogFileWriter;
  private readonly sessions: LogFileWriter;
  private applying: Promise<void> = Promise.resolve();

  constructor(private readonly deps: LogBookDeps) {
    this.access = new LogFileWriter(() => deps.settings().access.queueLines, deps.log.child('access'));
    this.sessions = new LogFileWriter(() => deps.settings().sessions.queueLines, deps.log.child('sessions'));
  }

  /** The folder the files go in now, or undefined (no config file and a relative logs.dir). */
  get dir(): string | undefined {
    return logDirOf(this.deps.settings().dir, this.deps.configPath);
  }

  /** Open, reopen or close the files as the settings say now; calls run one after the other. */
  apply(): Promise<void> {
    const run = this.applying.then(() => this.applyNow());
    this.applying = run.catch((error: Error) => this.deps.log.error(`applying the logs settings: ${error.message}`));
    return run;
  }

  private async applyNow(): Promise<void> {
    const settings = this.deps.settings();
    const dir = this.dir;
    const { format } = settings.access;
    await Promise.all([
      this.access.apply(specOf(dir, LOG_NAMING.access, settings.access, format, accessLineFormat(format))),
      this.sessions.apply(specOf(dir, LOG_NAMING.sessions, settings.sessions, 'json', sessionJsonLine)),
    ]);
  }

  request(request: LoggedRequest, endedAt: number): void {
    this.access.push({ request, endedAt });
  }

  session(request: LoggedRequest, endedAt: number): void {
    // One item in both files: its JSON text is made once (line-format.ts jsonParts).
    const item: FinishedItem = { request, endedAt };
    this.access.push(item);
    this.sessions.push(item);
  }

  status(): LogsStatusDto {
    const settings = this.deps.settings();
    return {
      dir: this.dir ?? '',
      access: fileStatus(this.access, settings.access.format, settings.access.queueLines),
      sessions: fileStatus(this.sessions, 'json', settings.sessions.queueLines),
    };
  }

  /** A page of past records (a validated query), newest first; an empty page when there is no folder. */
  async read(query: RecordQuery): Promise<LogRecordsDto> {
    const dir = this.dir;
    if (!dir) return { file: query.file, records: [], cursor: null, scannedBytes: 0, skippedLines: 0, filesRead: 0 };
    const page = await readRecords({ ...query, dir, naming: LOG_NAMING[query.file], maxBytes: this.deps.settings().readMaxBytes });
    return { file: query.file, ...page };
  }

  /** Write out what is queued and close both files; bounded (about 2 × LOG_CLOSE_TIMEOUT_MS) even on a stalled disk. */
  async close(): Promise<void> {
    // A settings change still opening a file on a stalled disk is not waited for past the bound: its open gives up once it sees the file closed.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.applying, new Promise<void>((resolve) => (timer = setTimeout(resolve, LOG_CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    await Promise.all([this.access.close(), this.sessions.close()]);
  }
}
