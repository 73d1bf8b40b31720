/**
 * The pure part of the Fleet page (pages/Fleet.tsx): how long ago a relay was heard from,
 * what the Redis link and the config source mean for the operator, and the per-relay
 * breakdown of a stream. No React here, so it is unit-tested alone.
 */
import type { FleetDto, FleetRelayDto, FleetStreamDto } from '../../../shared/dto.js';

/** Milliseconds since a heartbeat → "now" (under 1 s), "3 s ago", "4 min ago", "2 h ago"; a clock ahead of ours reads "now". */
export function formatAgo(ms: number): string {
  if (!Number.isFinite(ms) || ms < 1_000) return 'now';
  const seconds = Math.floor(ms / 1_000);
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ago`;
}

/** Mbit/s as the Nodes page shows them: 2 decimals under 10, 1 above. */
export function formatMbps(mbps: number): string {
  return mbps < 10 ? mbps.toFixed(2) : mbps.toFixed(1);
}

/** A relay's CPU, percent of one core: "12 %", "0.4 %" under 1. */
export function formatCpu(percent: number): string {
  if (!Number.isFinite(percent)) return '—';
  return `${percent < 1 ? percent.toFixed(1) : Math.round(percent)} %`;
}

/** Badge tone of a state: up is good, gone is bad; the Redis link connecting is a warning. */
export function stateTone(state: FleetRelayDto['state'] | FleetDto['redis']['state']): 'good' | 'warn' | 'bad' {
  return state === 'up' ? 'good' : state === 'connecting' ? 'warn' : 'bad';
}

/** Where the config this relay serves came from, in the operator's words. */
export function configSourceText(source: FleetDto['configSource']): string {
  switch (source) {
    case 'fleet':
      return "the fleet's shared config in Redis";
    case 'last-good':
      return 'the last good copy on disk (Redis was away when this relay started)';
    case 'local':
      return 'the local config file';
  }
}

/**
 * The warning the page puts above the tables, or undefined when all is well: changes to
 * routes, nodes and shared settings are refused while this relay cannot reach Redis.
 */
export function fleetWarning(fleet: FleetDto): string | undefined {
  if (!fleet.enabled) return undefined;
  if (fleet.configSource === 'last-good')
    return "Serving the last good copy of the fleet's config from disk. Route, node and setting changes are refused until Redis returns; viewers are served meanwhile.";
  if (fleet.redis.state === 'down')
    return 'Redis is away: this relay keeps serving with the config it has. Route, node and setting changes are refused until Redis returns.';
  return undefined;
}

/** True when the relay serves another config version than this one (a change not applied there yet, or refused). */
export function configBehind(relay: FleetRelayDto, configVersion: number): boolean {
  return relay.state === 'up' && relay.configVersion !== configVersion;
}

/** A stream's viewers per relay, most first: "relay-a 12 via node1". */
export function streamRelayLines(stream: FleetStreamDto): string[] {
  return [...stream.relays]
    .sort((a, b) => b.viewers - a.viewers || a.relayId.localeCompare(b.relayId))
    .map((r) => `${r.relayId} ${r.viewers} via ${r.nodeId || '—'}`);
}

/** The relays as the table lists them: this relay first, then up before gone, then by id. */
export function orderRelays(relays: readonly FleetRelayDto[]): FleetRelayDto[] {
  const rank = (r: FleetRelayDto) => (r.self ? 0 : r.state === 'up' ? 1 : 2);
  return [...relays].sort((a, b) => rank(a) - rank(b) || a.id.localeCompare(b.id, undefined, { numeric: true }));
}
