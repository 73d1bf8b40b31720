/**
 * The bounded queue between the relay and a log file. `push` is what the hot path calls: it
 * only appends to an array (or counts a drop) and never waits for the disk. Lines are formatted
 * and written later, off the request's call stack, in batches, one write in flight at a time.
 * When the disk is slower than the traffic the queue fills up to its bound (logs.*.queueLines,
 * read at each push) and further lines are dropped and counted, so memory stays bounded and
 * viewers never slow down; once the disk catches up, writing goes on.
 */

/** Where a queue writes: `done` is called once the chunk is written, or with the error that stopped it. */
export interface LineSink {
  write(chunk: string, done: (error?: Error | null) => void): void;
}

/** Most lines written in one batch (one write call): bounds the chunk in flight; a file is never rotated in the middle of one. */
export const MAX_BATCH_LINES = 512;

export class LineQueue<T> {
  private pending: T[] = [];
  /** Lines of the batch being written (0 when none is in flight). */
  private inFlight = 0;
  private sink: LineSink | undefined;
  /** Counts sink changes: the late answer of a batch given up with its sink is ignored. */
  private generation = 0;
  private scheduled = false;
  /** drain() calls in progress: while any, lines are written without the flush delay. */
  private draining = 0;
  /** The flush timer while lines wait for flushDelayMs. */
  private flushTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Lines written since the queue was made. */
  written = 0;
  /** Lines dropped: the queue was full, or the write of their batch failed. */
  dropped = 0;

  constructor(
    /** The text of one item: one line, ending in "\n". */
    private readonly format: (item: T) => string,
    /** The bound, in lines (queued and in flight together), read at each push. */
    private readonly limit: () => number,
    /** Told of a failed write (its lines are already counted as dropped). */
    private readonly onError: (error: Error) => void = () => {},
    /**
     * How long the first waiting line waits for others before a write, ms (0: the next event-loop
     * turn). A full batch (MAX_BATCH_LINES) and drain() write at once.
     */
    private readonly flushDelayMs = 0,
  ) {}

  /** Lines waiting or being written now. */
  get queued(): number {
    return this.pending.length + this.inFlight;
  }

  /** Queue one item, or count it dropped when the queue is full; never waits. */
  push(item: T): boolean {
    if (this.queued >= this.limit()) {
      this.dropped += 1;
      return false;
    }
    this.pending.push(item);
    this.schedule();
    return true;
  }

  /**
   * Write to `sink` from now on (undefined: hold lines, within the bound, until a sink is set
   * again). A batch still in flight on the old sink (a stuck disk) is given up: counted as
   * dropped at once, and its late answer ignored.
   */
  setSink(sink: LineSink | undefined): void {
    if (sink === this.sink) return;
    this.sink = sink;
    this.generation += 1;
    if (this.inFlight > 0) this.batchDone(this.inFlight, new Error('the file was closed with this batch unwritten'), false);
    this.schedule();
  }

  /** Resolves once no batch is in flight (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves once every queued line is written or dropped, or after `timeoutMs` (a stuck disk); true when drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // Meanwhile every batch goes out as soon as the one before is written: no flush delay.
    this.draining += 1;
    try {
      this.writeSoon();
      while (this.queued > 0 && this.sink && Date.now() < deadline) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
        await Promise.race([this.inFlight > 0 ? this.whenIdle() : new Promise<void>((resolve) => setImmediate(resolve)), timeout]);
        clearTimeout(timer);
      }
    } finally {
      this.draining -= 1;
    }
    return this.queued === 0;
  }

  /** Count every waiting line as dropped and forget it (the file is turned off). */
  discard(): void {
    this.dropped += this.pending.length;
    this.pending = [];
  }

  private schedule(): void {
    if (!this.sink || this.inFlight > 0 || this.pending.length === 0) return;
    if (this.flushTimer && (this.pending.length >= MAX_BATCH_LINES || this.draining > 0)) this.writeSoon();
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.flushDelayMs > 0 && this.draining === 0 && this.pending.length < MAX_BATCH_LINES)
      this.flushTimer = setTimeout(() => this.pump(), this.flushDelayMs);
    else setImmediate(() => this.pump());
  }

  /** Write what waits on the next turn instead of at the end of flushDelayMs. */
  private writeSoon(): void {
    if (!this.flushTimer) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.scheduled = false;
    const sink = this.sink;
    if (!sink || this.inFlight > 0 || this.pending.length === 0) return;
    const batch = this.pending.splice(0, MAX_BATCH_LINES);
    let text = '';
    for (const item of batch) text += this.format(item);
    this.inFlight = batch.length;
    const generation = this.generation;
    sink.write(text, (error) => {
      if (generation === this.generation) this.batchDone(batch.length, error ?? undefined, true);
    });
  }

  private batchDone(lines: number, error: Error | undefined, report: boolean): void {
    this.inFlight = 0;
    if (error) {
      this.dropped += lines;
      if (report) this.onError(error);
    } else this.written += lines;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
    this.schedule();
  }
}
