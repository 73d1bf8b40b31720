/**
 * Per-node traffic of the transport: requests made, bytes read, failures by taxonomy code
 * (and how many of them were the node's fault, errors.ts isNodeFault). Keyed by node id (or
 * the node's origin when the caller has no id); at most MAX_ACCOUNTED_NODES are kept, the
 * least recently active dropped first.
 */
import { isNodeFault, type ErrorCode } from '../../core/errors.js';

/** Most nodes whose traffic is kept; past it the least recently active node's counters are dropped. */
export const MAX_ACCOUNTED_NODES = 1_024;

/** Counters of one node (since the transport was made). */
export interface NodeTraffic {
  /** The node's origin (scheme://host[:port]) as last reached: its pool's key. */
  origin: string;
  /** Requests started. */
  requests: number;
  /** Requests in flight now. */
  active: number;
  /** Body bytes read from the node. */
  bytesIn: number;
  /** Failures by error code (viewer-caused ends such as CLIENT_CLOSED included, under their own code). */
  failures: Partial<Record<ErrorCode, number>>;
  /** The failures that were the node's fault. */
  nodeFaults: number;
}

export class TrafficBook {
  private readonly nodes = new Map<string, NodeTraffic>();

  /** The counters of `node`, made when new (and marked most recently active). */
  of(node: string, origin: string): NodeTraffic {
    let traffic = this.nodes.get(node);
    if (traffic) this.nodes.delete(node);
    else traffic = { origin, requests: 0, active: 0, bytesIn: 0, failures: {}, nodeFaults: 0 };
    traffic.origin = origin;
    this.nodes.set(node, traffic);
    while (this.nodes.size > MAX_ACCOUNTED_NODES) this.nodes.delete(this.nodes.keys().next().value as string);
    return traffic;
  }

  /** A request to `node` (at `origin`) started. */
  started(node: string, origin: string): NodeTraffic {
    const traffic = this.of(node, origin);
    traffic.requests += 1;
    traffic.active += 1;
    return traffic;
  }

  /** A request ended, failed with `code` or cleanly (undefined). */
  ended(traffic: NodeTraffic, code: ErrorCode | undefined): void {
    traffic.active -= 1;
    if (code === undefined) return;
    traffic.failures[code] = (traffic.failures[code] ?? 0) + 1;
    if (isNodeFault(code)) traffic.nodeFaults += 1;
  }

  /** Every node's counters (copies). */
  snapshot(): Map<string, NodeTraffic> {
    return new Map([...this.nodes].map(([node, traffic]) => [node, { ...traffic, failures: { ...traffic.failures } }]));
  }
}
