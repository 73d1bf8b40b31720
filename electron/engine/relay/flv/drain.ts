/**
 * The drain of one node's live FLV streams, from the moment the node turns "draining" until
 * it stops draining (or the relay stops). Each stream on the node is moved to another node
 * that holds it, make-before-break (moveOff: FlvStream.tryCandidate on each other node the
 * locator offers, in turn); a stream no other node holds stays, with the reason kept for
 * the API, and is tried again every DRAIN_RETRY_INTERVAL_MS. At relay.drainDeadlineMs
 * (0 = never) the streams still on the node are ended (DRAINED).
 */
import type { DrainProgressDto } from '../../../../shared/dto.js';
import type { NodeConfig } from '../../../../shared/config.js';
import type { Logger } from '../../core/log.js';
import { toRelayError } from '../../core/errors.js';
import type { FlvStream } from './stream.js';

/** How often a draining node's remaining streams are offered to the other nodes again, ms. */
export const DRAIN_RETRY_INTERVAL_MS = 2_000;
/** Most streams listed in a drain's progress (the count is always whole). */
export const MAX_DRAIN_STREAMS_LISTED = 100;

export class NodeDrain {
  /** Why each stream still on the node stays, by stream id; pruned every round to the streams on the node (so bounded by flv.maxStreams). */
  private readonly reasons = new Map<string, string>();
  private readonly deadlineAt: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly nodeId: string,
    deadlineMs: number,
    /** The live streams pulled from the node now. */
    private readonly streamsOnNode: () => FlvStream[],
    private readonly log: Logger,
  ) {
    if (deadlineMs > 0) {
      this.deadlineAt = Date.now() + deadlineMs;
      this.deadlineTimer = setTimeout(() => this.deadline(deadlineMs), deadlineMs);
    }
  }

  start(): void {
    this.log.info(`draining: moving ${this.streamsOnNode().length} live stream(s) to other nodes`);
    void this.round();
  }

  /** Offer every stream on the node to the other nodes (all at once), then again after the retry interval. */
  private async round(): Promise<void> {
    const streams = this.streamsOnNode();
    await Promise.all(
      streams.map(async (stream) => {
        const why = await moveOff(stream, this.nodeId);
        if (this.stopped) return;
        if (why === undefined) this.reasons.delete(stream.id);
        else if (this.reasons.get(stream.id) !== why) {
          this.reasons.set(stream.id, why);
          this.log.info(`stream ${stream.toDto().path} stays on the draining node: ${why}`);
        }
      }),
    );
    if (this.stopped) return;
    const left = new Set(this.streamsOnNode().map((s) => s.id));
    for (const id of this.reasons.keys()) if (!left.has(id)) this.reasons.delete(id);
    this.retryTimer = setTimeout(() => void this.round(), DRAIN_RETRY_INTERVAL_MS);
  }

  private deadline(deadlineMs: number): void {
    if (this.stopped) return;
    for (const stream of this.streamsOnNode()) stream.endDrained(`node ${this.nodeId} drained: drain deadline of ${deadlineMs} ms reached`);
  }

  progress(): DrainProgressDto {
    const streams = this.streamsOnNode();
    return {
      deadlineAt: this.deadlineAt ?? null,
      streamsLeft: streams.length,
      streams: streams.slice(0, MAX_DRAIN_STREAMS_LISTED).map((s) => {
        const dto = s.toDto();
        return { id: dto.id, path: dto.path, viewers: dto.viewers, reason: this.reasons.get(s.id) ?? 'moving' };
      }),
    };
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.deadlineTimer);
  }
}

/** Move `stream` off `nodeId` to the first other node that takes it; undefined when it moved (or is not on the node), else why it stays. */
export async function moveOff(stream: FlvStream, nodeId: string): Promise<string | undefined> {
  const why = stream.whyNotMovable(nodeId);
  if (why !== '') return why;
  let nodes: NodeConfig[];
  try {
    nodes = (await stream.rankNodes()).filter((n) => n.id !== nodeId);
  } catch (error) {
    return `no other node offered: ${toRelayError(error).message}`;
  }
  if (nodes.length === 0) return 'no other node offered';
  const failures: string[] = [];
  for (const node of nodes) {
    const stays = stream.whyNotMovable(nodeId);
    if (stays !== '') return stays;
    const failure = await stream.tryCandidate(node);
    if (failure === undefined || stream.isClosing) return undefined;
    failures.push(failure);
  }
  return `no other node holds it: ${failures.join('; ')}`;
}
