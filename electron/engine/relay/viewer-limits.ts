/**
 * Viewer caps (routes[].limits.maxViewers, maxViewersPerStream) and connections per client
 * address (relay.maxConnectionsPerAddress). Counts live only while something is counted:
 * a key leaves its map at zero, so the maps are bounded by the viewers and connections open
 * (relay.maxSessions, the HLS viewer sessions' bound, the listeners' sockets).
 *
 * A viewer is an FLV or WebSocket-FLV connection, a proxied request in flight, or an HLS
 * viewer session (hls/viewer-sessions.ts): each takes one place (ViewerPlace) that it gives
 * back once, however it ends.
 *
 * In fleet mode the caps hold across the fleet: a route with caps asks the fleet for each
 * place (FleetViewerCaps, implemented in fleet/viewer-counts.ts and set by the engine; relay/
 * never imports fleet/), one Redis call per join and one per leave. When the fleet cannot
 * answer (Redis away), the place is decided by this relay's own count, as when it runs alone.
 */
import type { Socket } from 'node:net';
import type { RouteConfig } from '../../../shared/config.js';
import { peerAddressBytes } from '../../../shared/cidr.js';
import { RelayError } from '../core/errors.js';

/** Seconds a refused viewer is told to wait before trying again (Retry-After). */
export const VIEWER_LIMIT_RETRY_AFTER_S = 5;

/** The limit that refused a viewer, as stats and the error name it. */
export type LimitName = 'maxViewers' | 'maxViewersPerStream' | 'maxConnectionsPerAddress';

/** A refusal by a limit: the RelayError to answer with, the limit's name, and Retry-After. */
export class LimitRefusal extends RelayError {
  constructor(
    readonly limit: LimitName,
    code: 'VIEWER_LIMIT' | 'ADDRESS_LIMIT',
    message: string,
  ) {
    super(code, message);
  }
}

/** One viewer's place in the counts; leave() gives it back (later calls do nothing). */
export interface ViewerPlace {
  leave(): void;
}

/** The fleet's answer to a viewer joining a capped route: admitted (and counted), refused by a cap, or unknown (Redis could not answer). */
export type FleetCapAnswer =
  { kind: 'admitted' } | { kind: 'refused'; limit: 'maxViewers' | 'maxViewersPerStream'; viewers: number } | { kind: 'unavailable'; reason: string };

/**
 * Viewer counts summed over the fleet's live relays, for routes with caps (fleet mode only).
 * Injected by the engine (fleet/viewer-counts.ts).
 */
export interface FleetViewerCaps {
  /**
   * Count a viewer of `streamKey` on `routeId` fleet-wide when the fleet's sums are under the
   * caps (0 = no cap); never rejects: "unavailable" when Redis could not answer.
   */
  join(routeId: string, streamKey: string, maxViewers: number, maxViewersPerStream: number): Promise<FleetCapAnswer>;
  /** The fleet could not answer and this relay admitted the viewer by its own count: the fleet counts it from now on. */
  joinedLocally(routeId: string, streamKey: string): void;
  /** A viewer counted by join() or joinedLocally() left. */
  leave(routeId: string, streamKey: string): void;
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next > 0) map.set(key, next);
  else map.delete(key);
}

export class ViewerCounts {
  private readonly byRoute = new Map<string, number>();
  private readonly byStream = new Map<string, number>();
  /** Fleet-wide caps (fleet mode), set by the engine once it joined the fleet; undefined: the caps count this relay's viewers. */
  fleet?: FleetViewerCaps;

  /** Viewers of a route now. */
  ofRoute(routeId: string): number {
    return this.byRoute.get(routeId) ?? 0;
  }

  /** Viewers of one stream of a route now. */
  ofStream(routeId: string, streamKey: string): number {
    return this.byStream.get(`${routeId}\n${streamKey}`) ?? 0;
  }

  /** Take a place for a viewer of `streamKey` on `route`, or throw the LimitRefusal naming the cap it would pass. */
  join(route: RouteConfig, streamKey: string): ViewerPlace {
    const streamId = `${route.id}\n${streamKey}`;
    const { maxViewers, maxViewersPerStream } = route.limits;
    if (maxViewers > 0 && this.ofRoute(route.id) >= maxViewers) {
      throw new LimitRefusal('maxViewers', 'VIEWER_LIMIT', `route "${route.id}" has routes[].limits.maxViewers (${maxViewers}) viewers`);
    }
    if (maxViewersPerStream > 0 && (this.byStream.get(streamId) ?? 0) >= maxViewersPerStream) {
      throw new LimitRefusal(
        'maxViewersPerStream',
        'VIEWER_LIMIT',
        `stream "${streamKey}" of route "${route.id}" has routes[].limits.maxViewersPerStream (${maxViewersPerStream}) viewers`,
      );
    }
    return this.take(route.id, streamKey);
  }

  /**
   * Take a place under the route's caps: fleet-wide in fleet mode for a route with caps (then
   * asynchronous, one Redis call), else as join(). Rejects or throws the LimitRefusal.
   */
  admit(route: RouteConfig, streamKey: string): ViewerPlace | Promise<ViewerPlace> {
    const fleet = this.fleet;
    const { maxViewers, maxViewersPerStream } = route.limits;
    if (!fleet || (maxViewers === 0 && maxViewersPerStream === 0)) return this.join(route, streamKey);
    return fleet.join(route.id, streamKey, maxViewers, maxViewersPerStream).then((answer) => {
      let place: ViewerPlace;
      if (answer.kind === 'refused') {
        const message =
          answer.limit === 'maxViewers'
            ? `route "${route.id}" has routes[].limits.maxViewers (${maxViewers}) viewers across the fleet`
            : `stream "${streamKey}" of route "${route.id}" has routes[].limits.maxViewersPerStream (${maxViewersPerStream}) viewers across the fleet`;
        throw new LimitRefusal(answer.limit, 'VIEWER_LIMIT', message);
      }
      if (answer.kind === 'unavailable') {
        // Redis cannot answer: this relay's own count decides, and the fleet counts the viewer once it can.
        place = this.join(route, streamKey);
        fleet.joinedLocally(route.id, streamKey);
      } else place = this.take(route.id, streamKey);
      let left = false;
      return {
        leave: () => {
          if (left) return;
          left = true;
          place.leave();
          fleet.leave(route.id, streamKey);
        },
      };
    });
  }

  /** Count a viewer without checking the caps (they were checked). */
  private take(routeId: string, streamKey: string): ViewerPlace {
    const streamId = `${routeId}\n${streamKey}`;
    bump(this.byRoute, routeId, 1);
    bump(this.byStream, streamId, 1);
    let left = false;
    return {
      leave: () => {
        if (left) return;
        left = true;
        bump(this.byRoute, routeId, -1);
        bump(this.byStream, streamId, -1);
      },
    };
  }
}

/** An IPv4 address written as bytes.join('.') writes it: four decimal bytes without leading zeros. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * The key a client address is counted under: the address itself, or for IPv6 its network of
 * `ipv6Prefix` bits (an IPv4-mapped IPv6 address counts as its IPv4 address).
 */
export function addressKey(address: string, ipv6Prefix: number): string {
  if (CANONICAL_IPV4.test(address)) return address; // what parsing would give back (a socket's IPv4 peer, on every connection)
  const bytes = peerAddressBytes(address);
  if (!bytes) return address;
  if (bytes.length === 4) return bytes.join('.');
  const kept = Buffer.from(bytes);
  for (let bit = ipv6Prefix; bit < 128; bit += 1) kept[bit >> 3] &= ~(0x80 >> (bit & 7));
  return `${kept.toString('hex')}/${ipv6Prefix}`;
}

/** Open connections per client address on every listener (relay.maxConnectionsPerAddress). */
export class AddressConnections {
  private readonly open = new Map<string, number>();

  constructor(private readonly ipv6Prefix: () => number) {}

  /** Count a new connection until it closes (each listener's `connection` event). */
  track(socket: Socket): void {
    const key = addressKey(socket.remoteAddress ?? '', this.ipv6Prefix());
    bump(this.open, key, 1);
    socket.once('close', () => bump(this.open, key, -1));
  }

  /** Connections open now from the address of `socket` (its network for IPv6). */
  countOf(address: string): number {
    return this.open.get(addressKey(address, this.ipv6Prefix())) ?? 0;
  }

  /** Throw the LimitRefusal when `address` has more than `max` connections open (0 = no limit). */
  check(address: string, max: number): void {
    if (max > 0 && this.countOf(address) > max) {
      throw new LimitRefusal(
        'maxConnectionsPerAddress',
        'ADDRESS_LIMIT',
        `client address ${address} has more than relay.maxConnectionsPerAddress (${max}) connections open`,
      );
    }
  }

  /** Addresses (or IPv6 networks) with connections open. */
  get size(): number {
    return this.open.size;
  }
}
