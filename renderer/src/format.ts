/** Display helpers for the operator page. */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 -> "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

/** Milliseconds -> "2h 03m" / "4m 05s" / "12s". */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * Codes logged when a viewer left or an operator kicked it: not failures of the relay or a
 * node, so no page counts them as errors (as electron/engine/live/ticker.ts NOT_FAILURE_CODES).
 */
export const VIEWER_EXIT_CODES: ReadonlySet<string> = new Set(['CLIENT_CLOSED', 'KICKED']);

/** True when an error code is a failure (not a viewer leaving or being kicked). */
export function isFailureCode(code: string | undefined): boolean {
  return code !== undefined && !VIEWER_EXIT_CODES.has(code);
}

/** Error counts without the viewer exits, and how many viewer exits there were. */
export function splitErrorCounts(errors: Record<string, number>): { failures: Record<string, number>; viewerExits: number } {
  const failures: Record<string, number> = {};
  let viewerExits = 0;
  for (const [code, n] of Object.entries(errors)) {
    if (VIEWER_EXIT_CODES.has(code)) viewerExits += n;
    else failures[code] = n;
  }
  return { failures, viewerExits };
}

/** { DIAL: 2, CLIENT_CLOSED: 5 } -> "CLIENT_CLOSED 5, DIAL 2"; "none" when empty. */
export function formatErrorCounts(errors: Record<string, number>): string {
  const entries = Object.entries(errors).filter(([, n]) => n > 0);
  if (entries.length === 0) return 'none';
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
}

/** bytes per second → "3.2 Mbit/s", "850 kbit/s", "0 bit/s" (decimal units, as networks count). */
export function formatBitsPerSecond(bytesPerSecond: number): string {
  const bits = bytesPerSecond * 8;
  if (bits >= 1e9) return `${(bits / 1e9).toFixed(2)} Gbit/s`;
  if (bits >= 1e6) return `${(bits / 1e6).toFixed(1)} Mbit/s`;
  if (bits >= 1e3) return `${Math.round(bits / 1e3)} kbit/s`;
  return `${Math.round(bits)} bit/s`;
}

/** kbit/s → "1.2 Mbit/s" / "850 kbit/s". */
export function formatKbps(kbps: number): string {
  return formatBitsPerSecond((kbps * 1000) / 8);
}

/** Epoch ms → "14:03:07" (local time). */
export function formatClock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour12: false });
}

/** Epoch ms → "14:03" (local time). */
export function formatHourMinute(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

/** 12345 → "12,345". */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 0.0123 → "1.2 %". */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(ratio < 0.1 ? 1 : 0)} %`;
}

/** ms → "12 ms" / "1.4 s"; undefined → "—". */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
