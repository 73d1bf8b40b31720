/**
 * The engine's throughput history: every second the live counters are sampled into a
 * point (counts are the change since the last sample, gauges the value now) kept in a ring
 * of HISTORY_SECOND_POINTS; every minute the second points of that minute are folded into
 * one point (counts summed, gauges at their highest) kept in a ring of HISTORY_MINUTE_POINTS.
 * Both rings are fixed-size, so memory does not grow with uptime.
 */
import type { HistoryDto, HistoryPointDto } from '../../../shared/dto.js';
import { HistoryRing } from './ring.js';

/** Length of a second point, ms. */
export const HISTORY_SECOND_MS = 1_000;
/** Second points kept: 600 = the last 10 minutes. */
export const HISTORY_SECOND_POINTS = 600;
/** Length of a minute point, ms. */
export const HISTORY_MINUTE_MS = 60_000;
/** Minute points kept: 1440 = the last 24 hours. */
export const HISTORY_MINUTE_POINTS = 1_440;

/** Running totals and gauges read from the engine at one instant. */
export interface HistorySample {
  /** Epoch ms of the reading. */
  at: number;
  /** Cumulative counters (they may drop when a route is removed; a drop counts as 0). */
  bytesIn: number;
  bytesOut: number;
  requests: number;
  redirects: number;
  errors: number;
  savedBytes: number;
  /** Gauges now. */
  viewers: number;
  streams: number;
  pulls: number;
}

const COUNTERS = ['bytesIn', 'bytesOut', 'requests', 'redirects', 'errors', 'savedBytes'] as const;
const GAUGES = ['viewers', 'streams', 'pulls'] as const;

/** What one sample produced: its second point, and the minute point when a minute closed. */
export interface HistoryStep {
  point: HistoryPointDto;
  minutePoint?: HistoryPointDto;
}

function emptyPoint(t: number): HistoryPointDto {
  return { t, bytesIn: 0, bytesOut: 0, requests: 0, redirects: 0, errors: 0, viewers: 0, streams: 0, pulls: 0, savedBytes: 0 };
}

export class HistoryBook {
  readonly seconds: HistoryRing;
  readonly minutes: HistoryRing;
  private previous: HistorySample | undefined;
  /** The minute being filled: its index (epoch minutes) and running aggregate. */
  private minuteIndex = -1;
  private minute: HistoryPointDto = emptyPoint(0);

  constructor(secondPoints = HISTORY_SECOND_POINTS, minutePoints = HISTORY_MINUTE_POINTS) {
    this.seconds = new HistoryRing(secondPoints, HISTORY_SECOND_MS);
    this.minutes = new HistoryRing(minutePoints, HISTORY_MINUTE_MS);
  }

  /** Take one sample; the first one only sets the baseline for the counters (its counts are 0). */
  record(sample: HistorySample): HistoryStep {
    const point = emptyPoint(sample.at);
    const previous = this.previous ?? sample;
    for (const key of COUNTERS) point[key] = Math.max(0, sample[key] - previous[key]);
    for (const key of GAUGES) point[key] = sample[key];
    this.previous = sample;
    this.seconds.push(point);
    return { point, minutePoint: this.foldIntoMinute(point) };
  }

  /** Add a second point to its minute; returns the finished minute when `point` starts a new one. */
  private foldIntoMinute(point: HistoryPointDto): HistoryPointDto | undefined {
    const index = Math.floor(point.t / HISTORY_MINUTE_MS);
    let finished: HistoryPointDto | undefined;
    if (index !== this.minuteIndex) {
      if (this.minuteIndex >= 0) {
        finished = { ...this.minute, t: (this.minuteIndex + 1) * HISTORY_MINUTE_MS };
        this.minutes.push(finished);
      }
      this.minuteIndex = index;
      this.minute = emptyPoint(0);
    }
    for (const key of COUNTERS) this.minute[key] += point[key];
    for (const key of GAUGES) this.minute[key] = Math.max(this.minute[key], point[key]);
    return finished;
  }

  toDto(): HistoryDto {
    return { seconds: this.seconds.toSeries(), minutes: this.minutes.toSeries() };
  }
}
