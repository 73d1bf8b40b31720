/**
 * One live FLV stream fanned out to its viewers through a single upstream pull.
 *
 * Life cycle: the pull opens with the first viewer; a late joiner gets the header,
 * metadata, sequence headers and the cached GOP at once; when the upstream is lost the
 * viewers stay connected for flv.failoverGraceMs while the pull is retried with backoff,
 * moving to the next node that can serve the stream, and resume at the next keyframe with
 * timestamps continued; the pull closes flv.idleCloseMs after the last viewer leaves.
 * A session counts as live only once media arrives (pull-session.ts): a node that sends
 * headers without frames has not brought the stream back. Drain and disable move a stream
 * off a node: disable through the failover path at once (leaveNode), drain make-before-break
 * (moveOff: a candidate pull on another node takes over at its first keyframe).
 */
import type { FlvSettings, NodeConfig, RouteConfig } from '../../../../shared/config.js';
import type { StreamDto } from '../../../../shared/dto.js';
import type { Logger } from '../../core/log.js';
import { RelayError, toRelayError } from '../../core/errors.js';
import type { ExchangeTimeouts } from '../exchange.js';
import type { RequestTarget } from '../../routing/target.js';
import { GopCache } from './gop-cache.js';
import { StreamStats } from './stream-stats.js';
import { isConfigTag, isEndOfSequence, isFrame, PullSession, type OpenPull, type SessionRole } from './pull-session.js';
import { FlvFormatError, setTagTimestamp, type FlvTag } from '../../codec/flv/tag-reader.js';
import { Timeline } from './timeline.js';
import type { FlvViewer, TagBatch } from './viewer.js';

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
  /** The stream went live on a node (first, after a failover, or after a move): its viewers' sessions follow. */
  onLive: (stream: FlvStream) => void;
  /** Opens each upstream pull: an HTTP pull (FlvPull) on the engine's transport; the unit tests pass a fake, so the stream runs without sockets. */
  openPull: OpenPull;
}

export class FlvStream {
  state: StreamState = 'connecting';
  readonly viewers = new Set<FlvViewer>();
  readonly stats = new StreamStats();
  private readonly cache: GopCache;
  /** The session viewers are fed from (or the one being connected). */
  private current: PullSession | undefined;
  /** A pull on another node while the stream moves off a draining node (moveOff). */
  private candidate: PullSession | undefined;
  /** Video was seen on the stream (so an audio frame alone does not make a session live). */
  private hadVideo = false;
  /**
   * The node timestamps of the last GOP the viewers got (its keyframe and newest frame) and
   * the node that sent it: a new pull from that node that starts inside this range replays
   * what the viewers already had (a node whose publisher died serving its cached GOP), which
   * is not the stream returning.
   */
  private delivered: { nodeId: string; gopStart: number; newest: number } | undefined;
  private failedAttempts = 0;
  /** Nodes the last lookup offered (for the backoff's round size). */
  private nodeCount = 1;
  /** The node whose pull failed last (skipped next time if another is offered). */
  private failedNodeId = '';
  private connecting = false;
  nodeId = '';
  private readonly timeline = new Timeline();
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
    else if (!this.current && !this.candidate && !this.reconnectTimer && !this.connecting && this.state !== 'closing') this.connect();
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
        if (this.state !== 'closing') this.onPullFailed(toRelayError(error), false);
      },
    );
  }

  private connectTo(nodes: NodeConfig[]): void {
    this.nodeCount = nodes.length;
    // A node that just failed is skipped while others remain (the locator may still list it).
    const node = nodes.length > 1 && this.failedNodeId ? (nodes.find((n) => n.id !== this.failedNodeId) ?? nodes[0]) : nodes[0];
    this.nodeId = node.id;
    this.stats.newSession();
    this.openSession(node, 'current');
  }

  /** Open a pull on `node`: the stream's session, or a candidate to move to. */
  private openSession(node: NodeConfig, role: SessionRole): PullSession {
    const session = new PullSession(node, role, this.ctx.nodeState(node.id));
    session.pull = this.ctx.openPull(
      this.ctx.urlOn(node),
      this.ctx.timeouts(),
      {
        onResponse: (status) => this.onResponse(session, status),
        onData: (chunk) => this.onData(session, chunk),
        onEnd: (error) => this.onSessionEnded(session, error),
      },
      node.id,
    );
    if (role === 'current') this.current = session;
    else this.candidate = session;
    this.stats.upstreamOpened += 1;
    this.countOpen();
    this.ctx.log.debug(`pulling from node ${node.id}${role === 'candidate' ? ' (candidate)' : ''}: ${session.pull.url.href}`);
    session.pull.start({ 'user-agent': 'RelayDeck', accept: 'video/x-flv, */*' });
    return session;
  }

  private countOpen(): void {
    this.stats.upstreamOpen = (this.current ? 1 : 0) + (this.candidate ? 1 : 0);
  }

  private isOurs(session: PullSession): boolean {
    return session === this.current || session === this.candidate;
  }

  private onResponse(session: PullSession, status: number): boolean {
    if (!this.isOurs(session)) return false;
    if (status !== 200) {
      const why = session.role === 'candidate' ? `${session.nodeId} answered ${status}` : `stream is not on node ${session.nodeId} (it answered ${status})`;
      this.failSession(session, new RelayError('STREAM_OFFLINE', why));
      return false;
    }
    const waitMs = this.ctx.flv().firstMediaTimeoutMs;
    session.firstMediaTimer = setTimeout(
      () => this.failSession(session, new RelayError('STREAM_OFFLINE', `node ${session.nodeId} sent no media within ${waitMs} ms`)),
      waitMs,
    );
    return true;
  }

  private failSession(session: PullSession, error: RelayError): void {
    if (!this.isOurs(session)) return;
    session.abort();
    this.onSessionEnded(session, error);
  }

  private onData(session: PullSession, chunk: Buffer): void {
    if (!this.isOurs(session)) return;
    this.stats.countIn(chunk.length);
    this.ctx.countBytesIn(chunk.length);
    if (session.counters) session.counters.bytesIn += chunk.length;
    let items;
    try {
      items = session.reader.push(chunk);
    } catch (error) {
      if (!(error instanceof FlvFormatError)) throw error;
      if (session === this.candidate)
        this.failSession(session, new RelayError('UPSTREAM_FORMAT', `node ${session.nodeId} sent malformed FLV: ${error.message}`));
      else this.onGarbage(error);
      return;
    }
    const tags: FlvTag[] = [];
    let ended = false;
    for (const item of items) {
      if (item.kind === 'header') {
        session.headerSaysNoVideo = !item.header.hasVideo;
        if (!this.cache.header) this.cache.header = item.header.bytes;
        continue;
      }
      const tag = item.tag;
      if (tag.video) session.sawVideo = true;
      if (!session.live) {
        if (this.isReplay(session, tag)) continue;
        if (!session.isMediaStart(tag, this.hadVideo)) {
          if (isConfigTag(tag)) session.hold(tag);
          // Frames before the first keyframe are dropped; they show the node has the stream (a node
          // without a GOP cache sends its keyframe up to a GOP later). A candidate must bring its keyframe in time.
          else if (session.role === 'current' && isFrame(tag)) clearTimeout(session.firstMediaTimer);
          continue;
        }
        this.onSessionLive(session, tag);
        if (this.isClosing) return;
      }
      if (isEndOfSequence(tag)) {
        ended = true; // not passed on: the stream continues, from this node or another, at a keyframe
        break;
      }
      this.remember(session, tag);
      this.processTag(tag);
      tags.push(tag);
    }
    if (tags.length > 0 && !this.isClosing) this.distribute(tags);
    // The publisher stopped: the stream is lost now, not when the node's silence times out.
    if (ended && session === this.current)
      this.failSession(session, new RelayError('STREAM_OFFLINE', `node ${session.nodeId} ended the stream (end of sequence: its publisher stopped)`));
  }

  /** A media tag of a not-yet-live session that the viewers already got from this node (see `delivered`). */
  private isReplay(session: PullSession, tag: FlvTag): boolean {
    const last = this.delivered;
    if (!last || last.nodeId !== session.nodeId || isConfigTag(tag) || (!tag.video && !tag.audio)) return false;
    return tag.timestamp >= last.gopStart && tag.timestamp <= last.newest;
  }

  /** Note a tag about to go to the viewers, by its node timestamp (before the rewrite). */
  private remember(session: PullSession, tag: FlvTag): void {
    if (isConfigTag(tag) || (!tag.video && !tag.audio)) return;
    if (tag.video?.keyframe || this.delivered?.nodeId !== session.nodeId) {
      this.delivered = { nodeId: session.nodeId, gopStart: tag.timestamp, newest: tag.timestamp };
    } else if (tag.timestamp > this.delivered.newest) {
      this.delivered.newest = tag.timestamp;
    }
  }

  private processTag(tag: FlvTag): void {
    if (tag.video) this.hadVideo = true;
    this.timeline.rewrite(tag);
    this.stats.observe(tag);
  }

  /**
   * Media arrived on a session: the stream is live on its node. After a loss or for a move
   * (a candidate taking over) the viewers continue at this keyframe, timestamps continued,
   * with the session's metadata and sequence headers sent again first.
   */
  private onSessionLive(session: PullSession, firstTag: FlvTag): void {
    clearTimeout(session.firstMediaTimer);
    if (session.role === 'candidate') this.promote(session);
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    session.live = true;
    this.failedAttempts = 0;
    this.failedNodeId = '';
    const switching = this.state === 'reconnecting' || this.state === 'live';
    if (switching) {
      this.stats.reconnects += 1;
      this.flushBatch(); // the old session's last tags go out (and into the cache) before it is reset
      if (this.isClosing) return; // that write ended the last viewer, and the stream with it
      this.cache.resetMedia();
      this.timeline.rebaseAtNext();
      for (const viewer of this.viewers) if (viewer.isStarted) viewer.resync();
      this.ctx.log.info(
        `${this.state === 'live' ? 'moved to' : 'resumed on'} node ${session.nodeId} at ts ${firstTag.timestamp}; viewers continue at its keyframe`,
      );
    }
    this.state = 'live';
    for (const tag of session.takeHeld()) {
      // Held config tags take the keyframe's time, so the rebase starts there (and never goes back).
      if (switching && tag.timestamp !== firstTag.timestamp) {
        setTagTimestamp(tag.bytes, firstTag.timestamp);
        tag.timestamp = firstTag.timestamp;
      }
      this.processTag(tag);
      this.cache.add(tag); // started viewers get them on resync (config version changed), new ones at start
    }
    this.ctx.onLive(this);
    session.settle();
  }

  /** A candidate delivered its keyframe: it becomes the stream's session, the old pull ends. */
  private promote(session: PullSession): void {
    const old = this.current;
    old?.abort();
    this.candidate = undefined;
    session.role = 'current';
    this.current = session;
    this.ctx.log.info(`moving from node ${old?.nodeId ?? '-'} to node ${session.nodeId}`);
    this.nodeId = session.nodeId;
    this.stats.newSession();
    this.countOpen();
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
    const counters = this.current?.counters;
    if (counters) counters.bytesOut += written;
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

  private onSessionEnded(session: PullSession, error?: RelayError): void {
    clearTimeout(session.firstMediaTimer);
    const reason = error ?? new RelayError('UPSTREAM_RESET', `node ${session.nodeId} ended the stream`);
    if (session === this.candidate) {
      this.onCandidateFailed(session, reason);
      return;
    }
    if (session !== this.current) return;
    this.current = undefined;
    this.countOpen();
    if (this.state === 'closing') return;
    if (session.live) this.ctx.countError(reason.code);
    this.failedNodeId = session.nodeId;
    this.ctx.onNodeFault(session.nodeId, reason.code);
    this.onPullFailed(reason, session.live);
  }

  private onCandidateFailed(session: PullSession, error: RelayError): void {
    this.candidate = undefined;
    this.countOpen();
    this.ctx.onNodeFault(session.nodeId, error.code);
    this.ctx.log.debug(`candidate pull on node ${session.nodeId} failed: ${error.message}`);
    // STREAM_OFFLINE messages name the node already ("b answered 404", "node b sent no media ...").
    session.settle(error.code === 'STREAM_OFFLINE' ? error.message : `${session.nodeId}: ${error.message}`);
    // The current pull was lost meanwhile: the candidate was its reconnect.
    if (!this.current && this.state === 'reconnecting' && !this.reconnectTimer && !this.connecting && this.viewers.size > 0) this.scheduleReconnect(false);
  }

  private onPullFailed(error: RelayError, hadMedia: boolean): void {
    if (this.viewers.size === 0) {
      this.close(error.message);
      return;
    }
    if (!hadMedia) this.failedAttempts += 1;
    if (this.state === 'live') {
      this.state = 'reconnecting';
      this.ctx.log.warn(
        `upstream lost (${error.code}: ${error.message}); keeping ${this.viewers.size} viewer(s) for up to ${this.ctx.flv().failoverGraceMs} ms`,
      );
      this.graceTimer = setTimeout(() => this.giveUp(error), this.ctx.flv().failoverGraceMs);
    }
    if (this.state === 'connecting') this.answerExpiredViewers(error);
    if (this.viewers.size === 0 || this.state === 'closing') return;
    if (this.candidate) return; // a candidate pull is open on another node: it takes over when its media arrives
    this.scheduleReconnect(hadMedia);
  }

  /** Node disabled: its pull ends now and the stream fails over (viewers kept for flv.failoverGraceMs). */
  leaveNode(nodeId: string, why: string): void {
    if (this.candidate?.nodeId === nodeId) this.failSession(this.candidate, new RelayError('NO_NODE', `${nodeId} ${why}`));
    const session = this.current;
    if (!session || session.nodeId !== nodeId || this.isClosing) return;
    session.abort();
    this.current = undefined;
    this.countOpen();
    this.failedNodeId = nodeId;
    this.ctx.log.info(`node ${nodeId} ${why}: moving the stream off it`);
    this.onPullFailed(new RelayError('NO_NODE', `node ${nodeId} ${why}`), session.live);
  }

  /** Nodes the locator offers the stream now, best first (a draining or disabled node never is). */
  rankNodes(): Promise<NodeConfig[]> {
    return this.ctx.rankNodes();
  }

  /**
   * Make-before-break: open a candidate pull on `node`. When it delivers a video keyframe (or,
   * audio-only, a frame) within flv.firstMediaTimeoutMs it takes over at that keyframe and
   * this resolves undefined; else it resolves why not ("b answered 404").
   */
  tryCandidate(node: NodeConfig): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.openSession(node, 'candidate').settle = resolve;
    });
  }

  /** '' when the stream is live on `nodeId` and can start a move (tryCandidate); undefined when it is not on it; else why it waits. */
  whyNotMovable(nodeId: string): string | undefined {
    if (this.isClosing || this.nodeId !== nodeId) return undefined;
    if (this.candidate) return `moving to node ${this.candidate.nodeId}`;
    if (this.state !== 'live' || !this.current) return `the stream is ${this.state}`;
    return '';
  }

  private scheduleReconnect(hadMedia: boolean): void {
    const flv = this.ctx.flv();
    const nodeCount = Math.max(1, this.nodeCount);
    // Try every node once at once, then back off between rounds.
    const round = Math.floor(this.failedAttempts / nodeCount);
    const delay =
      this.failedAttempts > 0 && this.failedAttempts % nodeCount !== 0 ? 0 : Math.min(flv.reconnectMaxMs, flv.reconnectMinMs * 2 ** Math.max(0, round - 1));
    this.reconnectTimer = setTimeout(() => this.connect(), hadMedia ? flv.reconnectMinMs : delay);
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
    viewer.refuse(error);
  }

  /** The grace time passed with no node serving: end the viewers, close the stream. */
  private giveUp(error: RelayError): void {
    this.ctx.log.warn(`no node took over within ${this.ctx.flv().failoverGraceMs} ms (${error.message}); ending ${this.viewers.size} viewer(s)`);
    this.endViewers('UPSTREAM_LOST', `stream lost: ${error.message}`);
    this.close('upstream lost');
  }

  private onGarbage(error: FlvFormatError): void {
    this.ctx.log.error(`node ${this.nodeId} sent malformed FLV, ending the stream: ${error.message}`);
    this.endViewers('UPSTREAM_FORMAT', error.message);
    this.close('malformed upstream');
  }

  /** The drain deadline passed with the stream still on its draining node: viewers ended (DRAINED). */
  endDrained(why: string): void {
    if (this.isClosing) return;
    this.ctx.log.warn(`ending ${this.viewers.size} viewer(s): ${why}`);
    this.endViewers('DRAINED', why);
    this.close(why);
  }

  /** End every viewer with `code` in its record: started ones at the end of what they got, waiting ones with the error. */
  private endViewers(code: 'UPSTREAM_LOST' | 'UPSTREAM_FORMAT' | 'DRAINED', message: string): void {
    for (const viewer of [...this.viewers]) {
      if (viewer.isStarted) viewer.close(code);
      else this.rejectViewer(viewer, new RelayError(code, message));
    }
  }

  /** End everything: the pulls, the timers, and any viewer still attached. */
  close(reason: string): void {
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.ctx.log.info(`stream closed: ${reason}`);
    const sessions = [this.current, this.candidate];
    this.current = undefined;
    this.candidate = undefined;
    this.countOpen();
    for (const session of sessions) {
      session?.abort();
      session?.settle('the stream closed');
    }
    for (const timer of [this.reconnectTimer, this.idleTimer, this.graceTimer, this.batchTimer]) clearTimeout(timer);
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
  const buffer =
    tags.length === 1
      ? tags[0].bytes
      : Buffer.concat(
          tags.map((t) => t.bytes),
          length,
        );
  return { buffer, tagStarts, keyframes };
}
