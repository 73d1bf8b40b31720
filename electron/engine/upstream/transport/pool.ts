/**
 * Keep-alive connection pools, one per node origin (protocol, host and port): each a Node
 * Agent whose idle sockets are bounded by relay.maxIdleUpstreamSockets. At most
 * MAX_NODE_POOLS pools are kept; the least recently used one past that is closed (node
 * origins come from config, so this bound is only reached by configs churning through nodes).
 */
import http from 'node:http';
import https from 'node:https';

/** Most node origins with a pool of their own at once; past it the least recently used pool is closed. */
export const MAX_NODE_POOLS = 1_024;

/** Sockets of one node's pool. */
export interface PoolSockets {
  /** Sockets open to the node (serving a request or idle). */
  open: number;
  /** Idle keep-alive sockets waiting for the next request. */
  idle: number;
}

/** An Agent as the pool reads it (sockets and free sockets by host key). */
type AgentLike = http.Agent;

export class NodePools {
  private readonly pools = new Map<string, AgentLike>();

  constructor(private readonly maxIdleSockets: number) {}

  /** The keep-alive agent for the node at `origin` ("http://host:port"). */
  agentFor(origin: string, protocol: string): AgentLike {
    let agent = this.pools.get(origin);
    if (agent) {
      this.pools.delete(origin);
      this.pools.set(origin, agent);
      return agent;
    }
    agent = createAgent(this.maxIdleSockets, protocol === 'https:');
    this.pools.set(origin, agent);
    while (this.pools.size > MAX_NODE_POOLS) {
      const oldest = this.pools.keys().next().value as string;
      this.pools.get(oldest)?.destroy();
      this.pools.delete(oldest);
    }
    return agent;
  }

  /** Open and idle sockets to the node at `origin` (zeros when it has no pool). */
  sockets(origin: string): PoolSockets {
    const agent = this.pools.get(origin);
    if (!agent) return { open: 0, idle: 0 };
    const count = (lists: NodeJS.ReadOnlyDict<unknown[]>) => Object.values(lists).reduce((sum, list) => sum + (list?.length ?? 0), 0);
    const idle = count(agent.freeSockets);
    return { open: count(agent.sockets) + idle, idle };
  }

  /** Close every pool and its sockets. */
  destroy(): void {
    for (const agent of this.pools.values()) agent.destroy();
    this.pools.clear();
  }
}

/** A keep-alive agent keeping at most `maxIdleSockets` idle sockets per host. */
export function createAgent(maxIdleSockets: number, secure: boolean): AgentLike {
  // Node's Agent reads maxFreeSockets 0 as "its default (256)": no idle pool means no keep-alive.
  const options = maxIdleSockets > 0 ? { keepAlive: true, maxFreeSockets: maxIdleSockets, scheduling: 'lifo' as const } : { keepAlive: false };
  return secure ? new https.Agent(options) : new http.Agent(options);
}
