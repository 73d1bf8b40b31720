/**
 * HLS node failover: the nodes one request may try, in order, and whether what a node
 * gave may be replaced by another node's answer.
 *
 * A request moves on to the next node when its node failed (no connection, reset, timeout:
 * the failures below) or answered 5xx, and, only between nodes the locator offered, when
 * it answered 404 (it lacks the stream; a hinted node's 404 is the answer: the segment is
 * gone from its stream's node). It moves on only before anything was written to the viewer
 * (the delivery asks before its first byte), only for GET and HEAD, and on at most
 * hls.maxNodeAttempts nodes in all. A request pinned by its hint starts on the hinted node;
 * the locator is asked for the others only when that node fails. A "probe" route asks the
 * locator again once its nodes are used up (the failed node's location is forgotten first,
 * so the probe looks afresh).
 *
 * Each node is still asked through the cache, so viewers that move on together join one
 * fetch on the next node (coalescing), and a node's failure stays cached for
 * hls.errorCacheMs: later requests move past it without asking it again. A failure counts
 * against its node once per fetch, however many viewers shared it (fetch.ts; a 5xx as
 * UPSTREAM_STATUS), and drops a probed location naming the node (handler.ts).
 *
 * With no node left the viewer gets the last node's failure (naming the other nodes tried),
 * 502 UPSTREAM_STATUS for a 5xx when other nodes were tried too (a lone node's 5xx passes
 * through as it was sent), or the 404 as the node sent it.
 */
import type { NodeConfig } from '../../../../shared/config.js';
import type { Location } from '../../upstream/locator.js';
import { RelayError, type ErrorCode } from '../../core/errors.js';
import type { SharedFetch } from './fetch.js';

/** Fetch failures that are the node's, and that another node may not have. */
const NODE_FAILURES: ReadonlySet<ErrorCode> = new Set(['DIAL', 'UPSTREAM_PROTOCOL', 'UPSTREAM_RESET', 'UPSTREAM_TIMEOUT', 'IDLE_TIMEOUT']);
/** Viewer methods whose request may be sent to another node (idempotent, no body). */
const RETRYABLE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);
/** Status a node answers for a stream or object it does not have. */
const NOT_FOUND = 404;

/** Why a fetch's answer should not reach the viewer while another node may answer. */
export type Shortfall = 'failed' | 'server-error' | 'not-found';

/** What is wrong with a fetch that has its status (or failed), if anything another node could fix. */
export function shortfallOf(fetch: SharedFetch): Shortfall | undefined {
  if (fetch.state === 'failed') return fetch.error && NODE_FAILURES.has(fetch.error.code) ? 'failed' : undefined;
  if (fetch.state === 'pending') return undefined;
  if (fetch.status >= 500) return 'server-error';
  return fetch.status === NOT_FOUND ? 'not-found' : undefined;
}

export interface AttemptOptions {
  /** Most nodes tried in all, the first included (hls.maxNodeAttempts). */
  maxAttempts: number;
  /** The viewer's request method: only GET and HEAD move on. */
  method: string;
  /** Whether the first nodes came from the locator (false: the first is the hinted node). */
  located: boolean;
  /** Asks the locator for more nodes, other than `tried`, once the given ones are used up (once per request); absent: the given list is final. */
  locate?: (tried: ReadonlySet<string>) => Location | Promise<Location>;
}

/** The nodes one request tries, in order; `current` is the node asked now. */
export class NodeAttempts {
  current: NodeConfig;
  /** Ids of the nodes that failed this request, in order. */
  readonly failed: string[] = [];
  private readonly queue: NodeConfig[];
  private located: boolean;
  private locate: AttemptOptions['locate'];

  constructor(
    nodes: readonly NodeConfig[],
    private readonly options: AttemptOptions,
  ) {
    if (nodes.length === 0) throw new RelayError('NO_NODE', 'no node to try');
    [this.current, ...this.queue] = nodes;
    this.located = options.located;
    this.locate = options.locate;
  }

  /** Whether an answer of the current node that falls short so may give way to the next node's. */
  mayMoveOn(why: Shortfall): boolean {
    if (!RETRYABLE_METHODS.has(this.options.method)) return false;
    if (this.failed.length + 1 >= this.options.maxAttempts) return false;
    if (why === 'not-found') return this.located && this.queue.length > 0;
    return this.queue.length > 0 || this.locate !== undefined;
  }

  /**
   * Give up on the current node and take the next one not tried yet; undefined when none is
   * left (or the locator, asked now, has none). Never rejects.
   */
  advance(): NodeConfig | undefined | Promise<NodeConfig | undefined> {
    this.failed.push(this.current.id);
    if (this.queue.length > 0 || !this.locate) return this.take();
    const locate = this.locate;
    this.locate = undefined;
    let location: Location | Promise<Location>;
    try {
      location = locate(new Set([...this.failed, this.current.id]));
    } catch {
      return undefined; // no usable node besides the ones that failed (NO_NODE)
    }
    if (!(location instanceof Promise)) return this.takeFrom(location);
    return location.then(
      (found) => this.takeFrom(found),
      () => undefined,
    );
  }

  /**
   * The error to answer when a fetch fell short and no node is left: the node's failure
   * naming the others tried, or UPSTREAM_STATUS for a 5xx after other nodes failed too.
   * Undefined delivers the fetch as it is: a node that was the only one asked keeps its own
   * answer (its 503 and Retry-After, its 404) or its own error.
   */
  finalError(fetch: SharedFetch, why: Shortfall): RelayError | undefined {
    const others = this.failed.filter((id) => id !== fetch.spec.nodeId);
    const tried = others.length > 0 ? ` (also tried node${others.length > 1 ? 's' : ''} ${others.join(', ')})` : '';
    if (why === 'server-error' && tried) return new RelayError('UPSTREAM_STATUS', `node ${fetch.spec.nodeId} answered ${fetch.status}${tried}`);
    if (why === 'failed' && fetch.error && tried)
      return new RelayError(fetch.error.code, `${fetch.error.message} on node ${fetch.spec.nodeId}${tried}`, { cause: fetch.error });
    return undefined; // the fetch as it is: its own error, or the node's 404
  }

  private takeFrom(location: Location): NodeConfig | undefined {
    this.located = true;
    const skip = new Set([...this.failed, this.current.id]);
    this.queue.push(...location.nodes.filter((node) => !skip.has(node.id)));
    return this.take();
  }

  private take(): NodeConfig | undefined {
    const next = this.queue.shift();
    if (next) this.current = next;
    return next;
  }
}
