/**
 * One log file on disk (the access log or the session records): a rotating-file-stream
 * (rotation by size and by time, retention of logs.*.maxFiles rotated files) fed by a bounded
 * LineQueue. A failed open or write is counted and reported, never thrown at the relay: the
 * batch in flight counts as dropped, lines keep queueing within the bound, and the file is
 * opened again LOG_REOPEN_DELAY_MS later. A settings change closes the file (its queue written
 * out first, for at most LOG_CLOSE_TIMEOUT_MS) and opens it with the new settings.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import type { Logger } from '../core/log.js';
import { currentName, historyName, nameGenerator, type LogNaming } from './file-names.js';
import type { FinishedItem } from './line-format.js';
import { LineQueue } from './line-queue.js';

/**
 * Longest a finished request's line waits before it is written, ms: the lines of that interval go
 * out in one write (a busy relay writes a batch per interval, not one per request). A full batch
 * and closing the file write at once; logs.*.queueLines bounds what waits. Each write costs a
 * timer, the file stream's asynchronous write and a thread-pool round trip whatever it carries, so
 * at moderate request rates the interval sets the logs' CPU cost (README, "Logs on disk").
 */
export const LOG_FLUSH_DELAY_MS = 1_000;
/** Wait after a failed open or write before the file is opened again, ms. */
export const LOG_REOPEN_DELAY_MS = 5_000;
/** Longest wait for a file's queued lines to reach the disk when it closes (shutdown, settings change), ms; what is left is counted as dropped. */
export const LOG_CLOSE_TIMEOUT_MS = 2_000;
/** Mode of the folder when the relay creates it, and of the files (they hold client addresses and labels). */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** How one file is written; a change of any field but `format` itself reopens the file. */
export interface LogFileSpec {
  dir: string;
  naming: LogNaming;
  /** Bytes after which the file is rotated; 0 = never by size. */
  rotateBytes: number;
  /** rotating-file-stream interval ("1d", "30m"); "" = never by time. */
  rotateInterval: string;
  maxFiles: number;
  /** Name of the line format ("json", "combined"), and the function that makes a line. */
  formatName: string;
  format: (item: FinishedItem) => string;
}

function sameFile(a: LogFileSpec | undefined, b: LogFileSpec | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.dir === b.dir &&
    a.naming === b.naming &&
    a.rotateBytes === b.rotateBytes &&
    a.rotateInterval === b.rotateInterval &&
    a.maxFiles === b.maxFiles &&
    a.formatName === b.formatName
  );
}

/** Ends a stream, waiting at most `ms` for its file to close; destroys it after that. */
function endWithin(stream: RotatingFileStream, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      stream.destroy();
      resolve();
    }, ms);
    stream.once('finish', done);
    stream.once('close', done);
    stream.once('error', done);
    stream.end();
  });
}

export class LogFileWriter {
  readonly queue: LineQueue<FinishedItem>;
  /** Rotations done, and rotated files deleted by retention. */
  rotations = 0;
  removed = 0;
  /** Failed opens and writes, and the last one in words. */
  errors = 0;
  lastError = '';
  private spec: LogFileSpec | undefined;
  private stream: RotatingFileStream | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;

  constructor(
    /** The queue bound in lines (logs.*.queueLines), read at each push. */
    limit: () => number,
    private readonly log: Logger,
  ) {
    this.queue = new LineQueue((item) => this.spec?.format(item) ?? '', limit, undefined, LOG_FLUSH_DELAY_MS);
  }

  /** The file written now ("" when off). */
  get path(): string {
    return this.spec ? path.join(this.spec.dir, currentName(this.spec.naming)) : '';
  }

  get enabled(): boolean {
    return this.spec !== undefined;
  }

  /** Queue a finished request (hot path: never waits); ignored while the file is off. */
  push(item: FinishedItem): void {
    if (this.spec) this.queue.push(item);
  }

  /** Write with `spec` from now on; undefined turns the file off. The same file settings keep the file open. */
  async apply(spec: LogFileSpec | undefined): Promise<void> {
    if (sameFile(spec, this.spec)) {
      this.spec = spec;
      return;
    }
    await this.closeStream();
    this.spec = spec;
    if (spec) await this.open();
    else this.queue.discard();
  }

  /** Write out what is queued (bounded) and close the file. */
  close(): Promise<void> {
    return this.apply(undefined);
  }

  private async open(): Promise<void> {
    const spec = this.spec;
    if (!spec || this.stream) return;
    let stream: RotatingFileStream;
    try {
      await fs.mkdir(spec.dir, { recursive: true, mode: DIR_MODE });
      if (this.spec !== spec || this.stream) return;
      stream = createStream(nameGenerator(spec.naming), {
        path: spec.dir,
        ...(spec.rotateBytes > 0 ? { size: `${spec.rotateBytes}B` } : {}),
        ...(spec.rotateInterval ? { interval: spec.rotateInterval, intervalUTC: true } : {}),
        maxFiles: spec.maxFiles,
        history: historyName(spec.naming),
        mode: FILE_MODE,
      });
    } catch (error) {
      this.failed(error as Error);
      return;
    }
    stream.on('error', (error) => {
      if (this.stream === stream) this.failed(error);
    });
    stream.on('rotated', () => (this.rotations += 1));
    stream.on('removed', () => (this.removed += 1));
    stream.on('warning', (error) => this.log.warn(`${this.path}: ${error.message}`));
    this.stream = stream;
    this.queue.setSink({ write: (chunk, done) => stream.write(chunk, done) });
  }

  /** An open or a write failed: stop writing, keep queueing within the bound, open again later. */
  private failed(error: Error): void {
    this.errors += 1;
    this.lastError = error.message;
    this.log.warn(`${this.path}: ${error.message}; lines wait (up to the queue bound) and the file is opened again in ${LOG_REOPEN_DELAY_MS / 1000} s`);
    const stream = this.stream;
    this.stream = undefined;
    this.queue.setSink(undefined);
    stream?.destroy();
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = undefined;
      void this.open();
    }, LOG_REOPEN_DELAY_MS);
    this.reopenTimer.unref();
  }

  private async closeStream(): Promise<void> {
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    const stream = this.stream;
    if (!stream) return;
    const started = Date.now();
    await this.queue.drain(LOG_CLOSE_TIMEOUT_MS);
    this.stream = undefined;
    this.queue.setSink(undefined);
    await endWithin(stream, Math.max(100, LOG_CLOSE_TIMEOUT_MS - (Date.now() - started)));
  }
}
