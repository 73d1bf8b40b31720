/**
 * A fixed-size ring of history points stored as columns (one Float64Array per field), so
 * 24 hours of minute points cost a few hundred kilobytes however long the engine runs.
 * Pushing past the capacity overwrites the oldest point.
 */
import type { HistoryPointDto, HistorySeriesDto } from '../../../shared/dto.js';

/** The fields of a point, in the order they are stored. */
export const HISTORY_FIELDS = [
  't',
  'bytesIn',
  'bytesOut',
  'requests',
  'redirects',
  'errors',
  'viewers',
  'streams',
  'pulls',
  'savedBytes',
] as const satisfies readonly (keyof HistoryPointDto)[];

type Field = (typeof HISTORY_FIELDS)[number];

export class HistoryRing {
  private readonly columns: Record<Field, Float64Array>;
  /** Index of the oldest point. */
  private start = 0;
  private count = 0;

  /**
   * @param capacity most points kept (at least 1)
   * @param stepMs length of one interval, ms (reported with the series)
   */
  constructor(
    readonly capacity: number,
    readonly stepMs: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    this.columns = Object.fromEntries(HISTORY_FIELDS.map((field) => [field, new Float64Array(capacity)])) as Record<Field, Float64Array>;
  }

  get size(): number {
    return this.count;
  }

  push(point: HistoryPointDto): void {
    const at = (this.start + this.count) % this.capacity;
    for (const field of HISTORY_FIELDS) this.columns[field][at] = point[field];
    if (this.count < this.capacity) this.count += 1;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** The newest point, if any. */
  last(): HistoryPointDto | undefined {
    if (this.count === 0) return undefined;
    return this.pointAt((this.start + this.count - 1) % this.capacity);
  }

  private pointAt(index: number): HistoryPointDto {
    const point = {} as HistoryPointDto;
    for (const field of HISTORY_FIELDS) point[field] = this.columns[field][index];
    return point;
  }

  /** Every point, oldest first, as plain arrays (safe to JSON or structured-clone). */
  toSeries(): HistorySeriesDto {
    const series = { stepMs: this.stepMs, capacity: this.capacity } as HistorySeriesDto;
    for (const field of HISTORY_FIELDS) {
      const column = this.columns[field];
      const values = new Array<number>(this.count);
      for (let i = 0; i < this.count; i += 1) values[i] = column[(this.start + i) % this.capacity];
      series[field] = values;
    }
    return series;
  }
}
