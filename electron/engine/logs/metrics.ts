/**
 * The log files' series for /metrics, read at scrape time from the counters getLogs shows: one
 * label set per file ("access", "sessions").
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LogFileName, LogFileStatusDto, LogsStatusDto } from '../../../shared/dto.js';

const FILES: readonly LogFileName[] = ['access', 'sessions'];

const COUNTERS: [string, string, (f: LogFileStatusDto) => number][] = [
  ['relaydeck_log_lines_written_total', 'Lines written to a log file (access, sessions).', (f) => f.written],
  [
    'relaydeck_log_lines_dropped_total',
    'Lines of a log file dropped: its queue was full (the disk slower than the traffic, logs.*.queueLines) or a write failed.',
    (f) => f.dropped,
  ],
  ['relaydeck_log_errors_total', 'Failed opens and writes of a log file.', (f) => f.errors],
  ['relaydeck_log_rotations_total', 'Rotations of a log file.', (f) => f.rotations],
];

export function registerLogMetrics(registry: Registry, status: () => LogsStatusDto): void {
  for (const [name, help, pick] of COUNTERS) {
    new Counter({
      name,
      help,
      labelNames: ['file'],
      registers: [registry],
      collect() {
        this.reset();
        const now = status();
        for (const file of FILES) this.inc({ file }, pick(now[file]));
      },
    });
  }
  new Gauge({
    name: 'relaydeck_log_queue_lines',
    help: 'Lines of a log file waiting to be written, the batch in flight included.',
    labelNames: ['file'],
    registers: [registry],
    collect() {
      const now = status();
      for (const file of FILES) this.set({ file }, now[file].queued);
    },
  });
}
