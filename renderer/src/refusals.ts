/**
 * Viewers the relay refused, as the Dashboard and Streams pages group them: the refusal codes
 * of the stats (`errors`, by code) gathered into reasons (credentials, IP list or origin,
 * admission webhook, viewer limits, overload), the refusals by limit name (`limits`), and the
 * admitted requests by auth label (`tokens`). Codes that are not refusals (a node failing, a
 * viewer leaving) are left out. The codes are the engine's (electron/engine/core/errors.ts;
 * tests/unit/renderer/refusals.test.ts checks each exists there).
 */
import type { RouteStatsDto, StatsDto } from '../../shared/dto.js';

export interface RefusalReason {
  id: 'auth' | 'address' | 'webhook' | 'limits' | 'overload';
  label: string;
  /** What refuses for this reason, in a few words (a tooltip). */
  title: string;
  /** The refusal codes of this reason. */
  codes: readonly string[];
}

/** Every reason a viewer is refused for, in the order the relay checks them. */
export const REFUSAL_REASONS: readonly RefusalReason[] = [
  {
    id: 'overload',
    label: 'Overload',
    title: 'relay.maxSessions reached, paused or stopping, out of resources, HLS playlist work full',
    codes: ['OVERLOADED', 'RELAY_RESOURCES', 'HLS_BUSY'],
  },
  {
    id: 'address',
    label: 'IP list or origin',
    title: "the route's allow/deny lists, a WebSocket Origin its CORS list does not allow",
    codes: ['IP_DENIED', 'ORIGIN_DENIED'],
  },
  {
    id: 'auth',
    label: 'Credentials',
    title: 'no, invalid or expired signed URL, token or JWT',
    codes: ['AUTH_MISSING', 'AUTH_INVALID', 'AUTH_EXPIRED'],
  },
  {
    id: 'limits',
    label: 'Limits',
    title: 'routes[].limits (maxViewers, maxViewersPerStream), relay.maxConnectionsPerAddress, flv streams per client',
    codes: ['VIEWER_LIMIT', 'ADDRESS_LIMIT', 'CLIENT_STREAM_LIMIT'],
  },
  {
    id: 'webhook',
    label: 'Admission webhook',
    title: 'the webhook answered 401 or 403, failed (onError "deny") or had its queue full',
    codes: ['WEBHOOK_UNAUTHORIZED', 'WEBHOOK_FORBIDDEN', 'WEBHOOK_FAILED', 'WEBHOOK_BUSY'],
  },
];

/** Every refusal code of every reason. */
export const REFUSAL_CODES: ReadonlySet<string> = new Set(REFUSAL_REASONS.flatMap((r) => r.codes));

/** The limits the stats count refusals by, in this order (routes[].limits, then relay). */
export const LIMIT_NAMES = ['maxViewers', 'maxViewersPerStream', 'maxConnectionsPerAddress'] as const;

/** A reason with its count and the count of each of its codes that refused someone. */
export interface ReasonCount {
  reason: RefusalReason;
  total: number;
  codes: [code: string, count: number][];
}

/** Counts of a record with a positive count, in `order` first, then by name. */
function positive(counts: Record<string, number>, order: readonly string[] = []): [string, number][] {
  const rank = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Every reason (those that refused nobody included, with 0), with the codes that refused someone. */
export function refusalsByReason(errors: Record<string, number>): ReasonCount[] {
  return REFUSAL_REASONS.map((reason) => {
    const codes = positive(Object.fromEntries(reason.codes.map((code) => [code, errors[code] ?? 0])), reason.codes);
    return { reason, total: codes.reduce((sum, [, n]) => sum + n, 0), codes };
  });
}

/** Refusal codes only, with their counts (the order of REFUSAL_REASONS). */
export function refusalCodes(errors: Record<string, number>): [string, number][] {
  return refusalsByReason(errors).flatMap((r) => r.codes);
}

/** Every refusal counted. */
export function refusalTotal(errors: Record<string, number>): number {
  return refusalsByReason(errors).reduce((sum, r) => sum + r.total, 0);
}

/** Refusals by limit name (LIMIT_NAMES order, then any other), positive counts only. */
export function limitRefusals(limits: Record<string, number> | undefined): [string, number][] {
  return positive(limits ?? {}, LIMIT_NAMES);
}

/** Admitted requests by auth label, most first. */
export function labelCounts(tokens: Record<string, number> | undefined): [string, number][] {
  return positive(tokens ?? {}).sort(([, a], [, b]) => b - a);
}

/** A route's admission figures on the Streams page. */
export interface RouteAdmission {
  routeId: string;
  refused: number;
  byLimit: [string, number][];
  byCode: [string, number][];
  byLabel: [string, number][];
}

/** Routes that refused someone or admitted a labelled viewer, most refusals first. */
export function routeAdmissions(stats: StatsDto | undefined): RouteAdmission[] {
  if (!stats) return [];
  const rows = Object.entries(stats.routes).map(([routeId, route]: [string, RouteStatsDto]) => ({
    routeId,
    refused: refusalTotal(route.errors),
    byLimit: limitRefusals(route.limits),
    byCode: refusalCodes(route.errors),
    byLabel: labelCounts(route.tokens),
  }));
  return rows
    .filter((r) => r.refused > 0 || r.byLimit.length > 0 || r.byLabel.length > 0)
    .sort((a, b) => b.refused - a.refused || a.routeId.localeCompare(b.routeId));
}
