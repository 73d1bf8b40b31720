/**
 * Reads one file's lines backwards, newest first, in chunks of READ_CHUNK_BYTES: memory stays
 * within a chunk plus the longest line kept (READ_MAX_LINE_BYTES), whatever the file holds. A
 * longer line is returned without its bytes (the caller counts it as unreadable). Each line
 * comes with the offset of its first byte, which is where a later read goes on from (a
 * cursor); a read stopped by its budget inside an overlong line goes on from inside it, so
 * every read makes progress.
 */
import type { FileHandle } from 'node:fs/promises';

/** Bytes read per step. */
export const READ_CHUNK_BYTES = 65_536;
/** Lines of this many bytes or more (never written by the relay, whose fields are capped) are skipped, holding no more than a chunk. */
export const READ_MAX_LINE_BYTES = 65_536;

/** A line: its bytes (without "\n") and where it starts; `overlong` lines have no bytes. */
export interface BackwardLine {
  start: number;
  bytes: Buffer | undefined;
}

export class BackwardLineReader {
  /** Bytes [bufStart, end) held (while skipping an overlong line: only bytes before it); lines at or after `end` were returned. */
  private buf: Buffer = Buffer.alloc(0);
  private bufStart: number;
  private end: number;
  private overlong = false;
  /** False until a trailing part without "\n" was left out (reading from the file's end). */
  private tailDone: boolean;
  /** Bytes read from the file so far. */
  bytesRead = 0;

  /**
   * `from`: the offset to read back from, a line start (a cursor) or the file's size. At the
   * file's size, a last line without its "\n" (a write in progress) is left out.
   */
  constructor(
    private readonly file: FileHandle,
    from: number,
    atFileEnd: boolean,
  ) {
    this.tailDone = !atFileEnd;
    this.bufStart = from;
    this.end = from;
  }

  /** Offset before which nothing was returned yet: where to go on from. */
  get position(): number {
    return this.overlong ? this.bufStart : this.end;
  }

  /** Reads one more chunk before the bytes held; false at the file's start. */
  private async readChunk(): Promise<boolean> {
    const length = Math.min(READ_CHUNK_BYTES, this.bufStart);
    if (length === 0) return false;
    // A short read (never expected: log files only grow) leaves zeros, which make a malformed line, not a shifted one.
    const chunk = Buffer.alloc(length);
    await this.file.read(chunk, 0, length, this.bufStart - length);
    this.bytesRead += length;
    this.buf = Buffer.concat([chunk, this.buf]);
    this.bufStart -= length;
    return true;
  }

  /**
   * Leaves out a trailing part without "\n" when reading from the file's end (a line being
   * written). False when the budget stopped it first (`position` is then inside that part).
   */
  private async dropUnfinishedTail(mayRead: () => boolean): Promise<boolean> {
    for (;;) {
      const at = this.buf.lastIndexOf(0x0a);
      if (at >= 0) {
        this.end = this.bufStart + at + 1;
        this.buf = this.buf.subarray(0, at + 1);
        return true;
      }
      // No "\n" in what is held: all of it belongs to the unfinished part.
      this.end = this.bufStart;
      this.buf = Buffer.alloc(0);
      if (this.end === 0) return true;
      if (!mayRead()) return false;
      await this.readChunk();
    }
  }

  /**
   * The next line going back, or undefined at the file's start. Reads as it needs, unless the
   * budget `mayRead()` says no: then it answers undefined with `position` where it stopped.
   */
  async previous(mayRead: () => boolean): Promise<BackwardLine | undefined> {
    if (!this.tailDone) {
      this.tailDone = await this.dropUnfinishedTail(mayRead);
      if (!this.tailDone) return undefined;
    }
    for (;;) {
      if (this.end === 0) return undefined;
      if (this.overlong) {
        if (await this.skipOverlong(mayRead)) return { start: this.end, bytes: undefined };
        return undefined;
      }
      // The line ends with the "\n" at end - 1; it starts after the "\n" before that, or at 0.
      const last = this.end - 1 - this.bufStart;
      const before = last > 0 ? this.buf.lastIndexOf(0x0a, last - 1) : -1;
      if (last >= 0 && (before >= 0 || this.bufStart === 0)) {
        const from = before + 1;
        const bytes = this.buf.subarray(from, last);
        this.end = this.bufStart + from;
        this.buf = this.buf.subarray(0, from);
        return { start: this.end, bytes };
      }
      if (this.buf.length >= READ_MAX_LINE_BYTES) {
        // Longer than a line is kept: none of its bytes are kept, only where it starts is looked for.
        this.overlong = true;
        this.buf = Buffer.alloc(0);
        continue;
      }
      if (!mayRead()) return undefined;
      await this.readChunk();
    }
  }

  /**
   * Reads back to the start of an overlong line, holding no more than a chunk. True once found
   * (`end` is then its start); false when the budget stopped it (`position` is then inside the
   * line, so the next read makes progress: the part before counts as one more unreadable line).
   */
  private async skipOverlong(mayRead: () => boolean): Promise<boolean> {
    for (;;) {
      const at = this.buf.lastIndexOf(0x0a);
      if (at >= 0 || this.bufStart === 0) {
        const from = at + 1;
        this.overlong = false;
        this.end = this.bufStart + from;
        this.buf = this.buf.subarray(0, from);
        return true;
      }
      this.buf = Buffer.alloc(0);
      if (!mayRead()) return false;
      await this.readChunk();
    }
  }
}
