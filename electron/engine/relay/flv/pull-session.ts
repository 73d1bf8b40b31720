/**
 * One upstream session of an FLV stream: a pull from one node, its own tag reader, and the
 * metadata and sequence headers it sent before its first media. A stream has its current
 * session and, while it moves off a draining node, a candidate session on another node.
 *
 * A session is "live" only once media arrives: a video keyframe, or for an audio-only
 * stream an audio frame; a header, metadata or sequence headers alone are not a stream
 * (a node whose publisher stopped still sends them). Tags before that point are held
 * (config tags, at most one of each kind) or dropped (frames before the first keyframe).
 */
import type { NodeConfig } from '../../../../shared/config.js';
import { FlvTagReader, TAG_SCRIPT, type FlvTag } from '../../codec/flv/tag-reader.js';
import type { ExchangeTimeouts } from '../exchange.js';
import type { FlvPull, PullEvents } from './upstream.js';

export type SessionRole = 'current' | 'candidate';

/** What a stream needs of an upstream pull (FlvPull over HTTP; a fake in the unit tests). */
export type UpstreamPull = Pick<FlvPull, 'url' | 'start' | 'abort'>;

/** Opens a pull of `url` on node `nodeId` that reports to `events` once started (an FlvPull on the engine's transport; a fake in the unit tests). */
export type OpenPull = (url: URL, timeouts: ExchangeTimeouts, events: PullEvents, nodeId: string) => UpstreamPull;

export class PullSession {
  readonly reader = new FlvTagReader();
  /** Set once media arrived (see the file comment). */
  live = false;
  /** The node's FLV header said it carries no video. */
  headerSaysNoVideo = false;
  /** A video tag (any) arrived in this session. */
  sawVideo = false;
  /** Metadata and sequence headers before the first media, latest of each kind (so at most 3). */
  private readonly held = new Map<'metadata' | 'video' | 'audio', FlvTag>();
  firstMediaTimer: NodeJS.Timeout | undefined;
  pull!: UpstreamPull;
  /** A candidate's outcome: undefined once it became the stream's session, else why not. */
  settle: (failure?: string) => void = () => {};

  constructor(
    readonly node: NodeConfig,
    public role: SessionRole,
    /** The node's live traffic counters. */
    readonly counters: { bytesIn: number; bytesOut: number } | undefined,
  ) {}

  get nodeId(): string {
    return this.node.id;
  }

  /**
   * Whether `tag` makes the session live: a video keyframe; an audio frame when the stream
   * carries no video (its header says so, or no video was ever seen on it).
   */
  isMediaStart(tag: FlvTag, streamHadVideo: boolean): boolean {
    if (tag.video) return tag.video.keyframe;
    if (!tag.audio || tag.audio.sequenceHeader) return false;
    return this.headerSaysNoVideo || (!this.sawVideo && !streamHadVideo);
  }

  /** Keep a config tag that came before the media (frames before it are dropped by the caller). */
  hold(tag: FlvTag): void {
    if (tag.metadata) this.held.set('metadata', tag);
    else if (tag.video?.sequenceHeader) this.held.set('video', tag);
    else if (tag.audio?.sequenceHeader) this.held.set('audio', tag);
  }

  /** The held config tags, in the order a player expects them (metadata first); emptied. */
  takeHeld(): FlvTag[] {
    const tags = (['metadata', 'video', 'audio'] as const).map((k) => this.held.get(k)).filter((t): t is FlvTag => t !== undefined);
    this.held.clear();
    return tags;
  }

  /** Cut the pull and its timer (no end event follows). */
  abort(): void {
    clearTimeout(this.firstMediaTimer);
    this.pull.abort();
  }
}

/** Tags the GOP cache keeps as stream configuration rather than media. */
export function isConfigTag(tag: FlvTag): boolean {
  return tag.type === TAG_SCRIPT || tag.video?.sequenceHeader === true || tag.audio?.sequenceHeader === true;
}

/**
 * A coded frame: audio, or a video inter frame. Not a keyframe (that makes a session live),
 * and not a sequence header or an end-of-sequence tag (a node whose publisher stopped sends those).
 */
export function isFrame(tag: FlvTag): boolean {
  if (tag.audio) return !tag.audio.sequenceHeader;
  return tag.video !== undefined && (tag.video.frameType === 2 || tag.video.frameType === 3);
}

/** FLV codec ids of AVC and HEVC (legacy, non-enhanced video tags). */
const AVC_CODEC_ID = 7;
const HEVC_CODEC_ID = 12;
/** AVC/HEVC packet type, and enhanced-RTMP video packet type, of an end-of-sequence tag. */
const SEQUENCE_END_PACKET_TYPE = 2;

/**
 * An end-of-sequence video tag: the publisher stopped. node-media-server, for one, sends it
 * and then keeps the viewer's connection open without a byte more.
 */
export function isEndOfSequence(tag: FlvTag): boolean {
  if (!tag.video || tag.bytes.length < 13) return false;
  const first = tag.bytes[11];
  if (first & 0x80) return (first & 0x0f) === SEQUENCE_END_PACKET_TYPE; // enhanced RTMP
  const codecId = first & 0x0f;
  return (codecId === AVC_CODEC_ID || codecId === HEVC_CODEC_ID) && tag.bytes[12] === SEQUENCE_END_PACKET_TYPE;
}
