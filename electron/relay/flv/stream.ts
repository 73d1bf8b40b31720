/**
 * One live FLV stream fanned out to its viewers through a single upstream pull.
 *
 * Life cycle: the pull opens with the first viewer; a late joiner gets the header,
 * metadata, sequence headers and the cached GOP at once; when the upstream is lost the
 * viewers stay connected for flv.failoverGraceMs while the pull is retried with backoff,
 * moving to the next node that can serve the stream, and resume at the next keyframe with
 * timestamps continued; the pull closes flv.idleCloseMs after the last viewer leaves.
 */
import type { FlvSettings, NodeConfig, RouteConfig } from '../../../shared/config.js';
import type { StreamDto } from '../../../shared/dto.js';
import type { Logger } from '../../log.js';
import { RelayError, toRelayError } from '../errors.js';
import type { ExchangeTimeouts } from '../exchange.js';
import { sendError } from '../respond.js';
import type { RequestTarget } from '../target.js';
import { GopCache } from './gop-cache.js';
import { StreamStats } from './stream-stats.js';
import { FlvFormatError, FlvTagReader, setTagTimestamp, TAG_SCRIPT, type FlvTag } from './tag-reader.js';
import { FlvPull } from './upstream.js';
import type { FlvViewer, TagBatch } from './viewer.js';

/** Gap put between the last timestamp before a failover and the first one after, ms (one frame at 25 fps). */
const FAILOVER_TIMESTAMP_GAP_MS = 40;

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closing';

export interface StreamContext {
  id: string;
  route: RouteConfig;
  target: RequestTarget;
  /** Nodes to try, best first (looked up on every attempt, so health and config changes apply). */
  rankNodes: () => Promise<NodeConfig[]>;
  /** Live counters of a node (traffic is counted there). */
  nodeState: (nodeId: string) => { bytesIn: number; bytesOut: number } | undefined;
  /** A pull failed in a way that is the node's fault, or the node lacks the stream. */
  onNodeFault: (nodeId: string, code: string) => void;
  /** Upstream URL on a node. */
  urlOn: (node: NodeConfig) => URL;
  flv: () => FlvSettings;
  timeouts: () => ExchangeTimeouts;
  log: Logger;
  /** Counts an error against the route. */
  countError: (code: string) => void;
  /** Counts bytes read from the node against the route. */
  countBytesIn: (bytes: number) => void;
  onClosed: (stream: FlvStream) => void;
}

export class FlvStream {
  state: StreamState = 'connecting';
  readonly viewers = new Set<FlvViewer>();
  readonly stats = new StreamStats();
  private readonly cache: GopCache;
  private pull: FlvPull | undefined;
  private reader = new FlvTagReader();
  private failedAttempts = 0;
  /** Nodes the last lookup offered (for the backoff's round size). */
  private nodeCount = 1;
  /** The node whose pull failed last (skipped next time if another is offered). */
  private failedNodeId = '';
  private connecting = false;
  private node: { bytesIn: number; bytesOut: number } | undefined;
  private sessionHasMedia = false;
  nodeId = '';
  /** Added to every upstream timestamp of the current session. */
  private timestampOffset = 0;
  private needsRebase = false;
  private lastTimestamp = -1;
  private readonly lastTimestampByType = new Map<number, number>();
  private firstMediaTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  /**
   * Tags waiting for the batch timer (flv.writeBatchMs). They join the GOP cache when they
   * are sent: a viewer who starts meanwhile gets them once, in the batch, not also from the cache.
   */
  private pendingTags: FlvTag[] = [];
  private readonly configTags = {
    stream: this,
    get version() {
      return this.stream.cache.configVersion;
    },
    buffers: () => this.cache.sequenceBuffers(),
  };

  constructor(private readonly ctx: StreamContext) {
    const flv = ctx.flv();
    this.cache = new GopCache({ maxBytes: flv.gopCacheMaxBytes, maxTags: flv.gopCacheMaxTags }, ctx.route.gopCache);
  }

  get id(): string {
    return this.ctx.id;
  }

  /** The stream is ending (or ended): nothing more is sent or scheduled. */
  get isClosing(): boolean {
    return this.state === 'closing';
  }

  /** A new viewer: started at once when the stream is live, else held until it is (or fails). */
  addViewer(viewer: FlvViewer): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.viewers.add(viewer);
    if (this.state === 'live' && this.cache.header) this.startViewer(viewer);
    else if (!this.pull && !this.reconnectTimer && !this.connecting && this.state !== 'closing') this.connect();
  }

  /** The viewer's connection ended (any cause). */
  removeViewer(viewer: FlvViewer): void {
    this.stats.framesDropped += viewer.framesDropped;
    this.viewers.delete(viewer);
    if (this.viewers.size > 0 || this.state === 'closing') return;
    const idleMs = this.ctx.flv().idleCloseMs;
    if (idleMs === 0) this.close('last viewer left');
    else this.idleTimer = setTimeout(() => this.close(`no viewer for ${idleMs} ms`), idleMs);
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    this.connecting = true;
    this.ctx.rankNodes().then(
      (nodes) => {
        this.connecting = false;
        if (this.state !== 'closing') this.connectTo(nodes);
      },
      (error: unknown) => {
        this.connecting = false;
        if (this.state !== 'closing') this.onPullFailed(toRelayError(error));
      },
    );
  }

  private connectTo(nodes: NodeConfig[]): void {
    this.nodeCount = nodes.length;
    // A node that just failed is skipped while others remain (the locator may still list it).
    const node = nodes.length > 1 && this.failedNodeId ? (nodes.find((n) => n.id !== this.failedNodeId) ?? nodes[0]) : nodes[0];
    this.nodeId = node.id;
    this.node = this.ctx.nodeState(node.id);
    this.reader = new FlvTagReader();
    this.sessionHasMedia = false;
    this.stats.newSession();
    this.stats.upstreamOpened += 1;
    this.stats.upstreamOpen = 1;
    const pull: FlvPull = new FlvPull(this.ctx.urlOn(node), this.ctx.timeouts(), {
      onResponse: (status) => this.onResponse(pull, status),
      onData: (chunk) => this.onData(pull, chunk),
      onEnd: (error) => this.onPullEnded(pull, error),
    });
    this.pull = pull;
    this.ctx.log.debug(`pulling from node ${node.id}: ${pull.url.href}`);
    pull.start({ 'user-agent': 'RelayDeck', accept: 'video/x-flv, */*' });
  }

  private onResponse(pull: FlvPull, status: number): boolean {
    if (pull !== this.pull) return false;
    if (status !== 200) {
      this.failPull(new RelayError('STREAM_OFFLINE', `stream is not on node ${this.nodeId} (it answered ${status})`));
      return false;
    }
    const waitMs = this.ctx.flv().firstMediaTimeoutMs;
    this.firstMediaTimer = setTimeout(() => this.failPull(new RelayError('STREAM_OFFLINE', `node ${this.nodeId} sent no media within ${waitMs} ms`)), waitMs);
    return true;
  }

  private failPull(error: RelayError): void {
    const pull = this.pull;
    if (!pull) return;
    pull.abort();
    this.onPullEnded(pull, error);
  }

  private onData(pull: FlvPull, chunk: Buffer): void {
    if (pull !== this.pull) return;
    this.stats.countIn(chunk.length);
    this.ctx.countBytesIn(chunk.length);
    if (this.node) this.node.bytesIn += chunk.length;
    let items;
    try {
      items = this.reader.push(chunk);
    } catch (error) {
      if (error instanceof FlvFormatError) this.onGarbage(error);
      else throw error;
      return;
    }
    const tags: FlvTag[] = [];
    for (const item of items) {
      if (item.kind === 'header') {
        if (!this.cache.header) this.cache.header = item.header.bytes;
        continue;
      }
      this.processTag(item.tag);
      tags.push(item.tag);
    }
    if (tags.length > 0 && !this.isClosing) this.distribute(tags);
  }

  private processTag(tag: FlvTag): void {
    const isMedia = tag.type !== TAG_SCRIPT;
    if (isMedia && !this.sessionHasMedia) this.onSessionLive(tag);
    this.rewriteTimestamp(tag, isMedia);
    this.stats.observe(tag);
  }

  /** Keep timestamps continuous across upstream sessions and never decreasing per tag type. */
  private rewriteTimestamp(tag: FlvTag, isMedia: boolean): void {
    if (isMedia && this.needsRebase) {
      this.timestampOffset = this.lastTimestamp + FAILOVER_TIMESTAMP_GAP_MS - tag.timestamp;
      this.needsRebase = false;
    }
    let timestamp = tag.timestamp + this.timestampOffset;
    const previous = this.lastTimestampByType.get(tag.type) ?? 0;
    if (isMedia && timestamp < previous) {
      this.timestampOffset += previous - timestamp;
      timestamp = previous;
    }
    if (timestamp !== tag.timestamp) {
      setTagTimestamp(tag.bytes, timestamp);
      tag.timestamp = timestamp >>> 0;
    }
    if (isMedia) {
      this.lastTimestampByType.set(tag.type, tag.timestamp);
      if (tag.timestamp > this.lastTimestamp) this.lastTimestamp = tag.timestamp;
    }
  }

  private onSessionLive(firstTag: FlvTag): void {
    clearTimeout(this.firstMediaTimer);
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    this.sessionHasMedia = true;
    this.failedAttempts = 0;
    this.failedNodeId = '';
    if (this.state === 'reconnecting') {
      this.stats.reconnects += 1;
      this.flushBatch(); // the old session's last tags go out (and into the cache) before it is reset
      if (this.isClosing) return; // that write ended the last viewer, and the stream with it
      this.cache.resetMedia();
      this.needsRebase = this.lastTimestamp >= 0;
      for (const viewer of this.viewers) if (viewer.isStarted) viewer.resync();
      this.ctx.log.info(`resumed on node ${this.nodeId} at ts ${firstTag.timestamp}; viewers continue at the next keyframe`);
    }
    this.state = 'live';
  }

  /** Send the tags of one upstream chunk now, or with the next batch when flv.writeBatchMs is set. */
  private distribute(tags: FlvTag[]): void {
    const batchMs = this.ctx.flv().writeBatchMs;
    if (batchMs > 0) {
      for (const tag of tags) this.pendingTags.push(tag);
      this.batchTimer ??= setTimeout(() => this.flushBatch(), batchMs);
    } else {
      this.flushBatch(); // batching was just turned off: what waits goes first
      this.send(tags);
    }
    this.startPendingViewers();
  }

  private flushBatch(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const tags = this.pendingTags;
    if (tags.length === 0) return;
    this.pendingTags = [];
    this.send(tags);
  }

  /** Tags into the GOP cache, then to every started viewer (one shared buffer). */
  private send(tags: FlvTag[]): void {
    for (const tag of tags) this.cache.add(tag);
    this.sendToViewers(toBatch(tags));
  }

  private sendToViewers(batch: TagBatch): void {
    let written = 0;
    for (const viewer of this.viewers) written += viewer.send(batch, this.configTags);
    this.stats.bytesOut += written;
    if (this.node) this.node.bytesOut += written;
  }

  private startPendingViewers(): void {
    if (this.state !== 'live' || !this.cache.header) return;
    for (const viewer of this.viewers) {
      if (!viewer.isStarted) this.startViewer(viewer);
    }
  }

  /** Start a viewer from the cache (tags waiting for the batch timer reach it with the batch). */
  private startViewer(viewer: FlvViewer): void {
    this.stats.bytesOut += viewer.start(this.cache.startup());
  }

  private onPullEnded(pull: FlvPull, error?: RelayError): void {
    if (pull !== this.pull) return;
    this.pull = undefined;
    this.stats.upstreamOpen = 0;
    clearTimeout(this.firstMediaTimer);
    if (this.state === 'closing') return;
    const reason = error ?? new RelayError('UPSTREAM_RESET', `node ${this.nodeId} ended the stream`);
    if (this.sessionHasMedia) this.ctx.countError(reason.code);
    this.failedNodeId = this.nodeId;
    this.ctx.onNodeFault(this.nodeId, reason.code);
    this.onPullFailed(reason);
  }

  private onPullFailed(error: RelayError): void {
    if (this.viewers.size === 0) {
      this.close(error.message);
      return;
    }
    if (!this.sessionHasMedia) this.failedAttempts += 1;
    if (this.state === 'live') {
      this.state = 'reconnecting';
      this.ctx.log.warn(`upstream lost (${error.code}: ${error.message}); keeping ${this.viewers.size} viewer(s) for up to ${this.ctx.flv().failoverGraceMs} ms`);
      this.graceTimer = setTimeout(() => this.giveUp(error), this.ctx.flv().failoverGraceMs);
    }
    if (this.state === 'connecting') this.answerExpiredViewers(error);
    if (this.viewers.size === 0 || this.state === 'closing') return;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const flv = this.ctx.flv();
    const nodeCount = Math.max(1, this.nodeCount);
    // Try every node once at once, then back off between rounds.
    const round = Math.floor(this.failedAttempts / nodeCount);
    const delay = this.failedAttempts > 0 && this.failedAttempts % nodeCount !== 0 ? 0 : Math.min(flv.reconnectMaxMs, flv.reconnectMinMs * 2 ** Math.max(0, round - 1));
    this.reconnectTimer = setTimeout(() => this.connect(), this.sessionHasMedia ? flv.reconnectMinMs : delay);
  }

  /** Before the stream was ever live: viewers whose wait is over get the error (404 when offline). */
  private answerExpiredViewers(error: RelayError): void {
    const waitMs = this.ctx.route.offlineWaitMs;
    const now = Date.now();
    const triedAll = this.failedAttempts >= Math.max(1, this.nodeCount);
    for (const viewer of [...this.viewers]) {
      if (viewer.isStarted) continue;
      if (triedAll && now - viewer.session.startedAt >= waitMs) this.rejectViewer(viewer, error);
    }
  }

  private rejectViewer(viewer: FlvViewer, error: RelayError): void {
    sendError(viewer.res, error);
    viewer.closeWithError(error.code, error.status);
  }

  /** The grace time passed with no node serving: end the viewers, close the stream. */
  private giveUp(error: RelayError): void {
    this.ctx.log.warn(`no node took over within ${this.ctx.flv().failoverGraceMs} ms (${error.message}); ending ${this.viewers.size} viewer(s)`);
    for (const viewer of [...this.viewers]) {
      if (viewer.isStarted) viewer.close('UPSTREAM_LOST');
      else this.rejectViewer(viewer, new RelayError('UPSTREAM_LOST', `stream lost: ${error.message}`));
    }
    this.close('upstream lost');
  }

  private onGarbage(error: FlvFormatError): void {
    this.ctx.log.error(`node ${this.nodeId} sent malformed FLV, ending the stream: ${error.message}`);
    for (const viewer of [...this.viewers]) {
      if (viewer.isStarted) viewer.close('UPSTREAM_FORMAT');
      else this.rejectViewer(viewer, new RelayError('UPSTREAM_FORMAT', error.message));
    }
    this.close('malformed upstream');
  }

  /** End everything: the pull, the timers, and any viewer still attached. */
  close(reason: string): void {
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.ctx.log.info(`stream closed: ${reason}`);
    this.pull?.abort();
    this.pull = undefined;
    this.stats.upstreamOpen = 0;
    for (const timer of [this.firstMediaTimer, this.reconnectTimer, this.idleTimer, this.graceTimer, this.batchTimer]) clearTimeout(timer);
    for (const viewer of [...this.viewers]) {
      if (viewer.isStarted) viewer.close('END');
      else this.rejectViewer(viewer, new RelayError('STREAM_OFFLINE', `stream closed: ${reason}`));
    }
    this.ctx.onClosed(this);
  }

  toDto(): StreamDto {
    const s = this.stats;
    return {
      id: this.ctx.id,
      routeId: this.ctx.route.id,
      path: this.ctx.target.path,
      nodeId: this.nodeId,
      state: this.state,
      viewers: this.viewers.size,
      bitrateKbps: s.bitrateKbps(),
      bytesIn: s.bytesIn,
      bytesOut: s.bytesOut,
      videoCodec: s.videoCodec,
      audioCodec: s.audioCodec,
      width: s.width,
      height: s.height,
      fps: s.fps(),
      gopFrames: s.gopFrames,
      gopMs: s.gopMs,
      upstreamOpened: s.upstreamOpened,
      upstreamOpen: s.upstreamOpen,
      reconnects: s.reconnects,
      framesDropped: s.framesDropped + [...this.viewers].reduce((n, v) => n + v.framesDropped, 0),
      gopCacheBytes: this.cache.bytes,
      startedAt: s.startedAt,
    };
  }
}

/** Concatenate a chunk's tags once; every viewer writes the same buffer. */
export function toBatch(tags: FlvTag[]): TagBatch {
  const tagStarts: number[] = [];
  const keyframes: number[] = [];
  let length = 0;
  tags.forEach((tag, index) => {
    tagStarts.push(length);
    if (tag.video?.keyframe) keyframes.push(index);
    length += tag.bytes.length;
  });
  const buffer = tags.length === 1 ? tags[0].bytes : Buffer.concat(tags.map((t) => t.bytes), length);
  return { buffer, tagStarts, keyframes };
}
