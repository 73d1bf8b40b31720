/**
 * One upstream GET of an HLS object, shared by every viewer that asks for it while it is
 * in flight (request coalescing) and, once complete, kept as the cache entry itself.
 *
 * The body is kept as a list of chunks that each viewer reads at its own pace (a watcher
 * holds its position), so a slow viewer never slows the fetch or the others. Memory is
 * bounded: a playlist larger than its limit fails at once (HLS_PLAYLIST_TOO_LARGE); any
 * other object larger than its limit, or one that would take the in-flight total over the
 * cache bound, stops being cacheable ("detached": no one new joins), drops the chunks every
 * watcher has written, and pauses the node while it holds more than its limit. Playlist
 * fetches in flight together stay within hls.playlistWorkMaxCount and playlistWorkMaxBytes
 * (the owner's holdPlaylistWork): past them a fetch fails 503 HLS_BUSY, not the node's fault.
 *
 * The request itself, its clocks and its error classification are the upstream transport's
 * (upstream/transport.ts); this file is the sharing and the retained body. What the playlist
 * renderer keeps about a fetched playlist (its parse, its memo) is playlist-state.ts.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { isNodeFault, RelayError, type ErrorCode } from '../../core/errors.js';
import type { ExchangeTimeouts } from '../exchange.js';
import { viewerResponseHeaders, withoutFields } from '../headers.js';
import type { NodeEndpoint } from '../../routing/target.js';
import type { UpstreamCall, UpstreamResponse, UpstreamTransport } from '../../upstream/transport.js';
import type { Sized } from './lru.js';

export type ObjectKind = 'playlist' | 'segment';
export type FetchState = 'pending' | 'body' | 'complete' | 'failed';

/** Node answer fields a shared fetch never passes on: a cookie is for one client, never for every viewer of the object. */
const NOT_SHARED_HEADERS: ReadonlySet<string> = new Set(['set-cookie']);

/** Bytes an entry accounts for beyond its body (headers, bookkeeping), for the cache bounds. */
export const ENTRY_OVERHEAD_BYTES = 512;
/**
 * A cached playlist accounts for this many times its raw bytes: the raw body, its parsed
 * lines, and the templates and renderings memoized for viewers (playlist-state.ts keeps those
 * within MEMO_BUDGET_FACTOR times the raw bytes), so the playlist cache bound covers them.
 */
export const PLAYLIST_FOOTPRINT_FACTOR = 7;
/** Largest error body (a node's 404 page) kept for the brief error cache, bytes. */
export const ERROR_BODY_MAX_BYTES = 65_536;

/** Content types that make a response a playlist whatever its path. */
const PLAYLIST_TYPES = /^\s*(application\/(vnd\.apple\.mpegurl|x-mpegurl)|audio\/(x-)?mpegurl)\s*(;|$)/i;

export function isPlaylistContentType(value: unknown): boolean {
  return typeof value === 'string' && PLAYLIST_TYPES.test(value);
}

/** A reader of a fetch (a viewer's delivery). */
export interface FetchWatcher {
  /** Index of the next chunk it will write. */
  readonly position: number;
  /** Something changed: headers, data, the end, or a failure. */
  wake(): void;
}

/** The cache that owns fetches: accounting and what happens when one settles. */
export interface FetchOwner {
  /** Bytes held now by cacheable fetches in flight. */
  inflightBytes: number;
  /** Cap on inflightBytes (the segment cache bound). */
  inflightLimit(): number;
  /** The fetch completed or failed (called once). */
  settled(fetch: SharedFetch): void;
  /** The fetch can no longer be cached: new requests must not join it. */
  detached(fetch: SharedFetch): void;
  /** Bytes read from the node. */
  countIn(fetch: SharedFetch, bytes: number): void;
  /** An upstream failure, by error code (passive health checks). */
  fault(fetch: SharedFetch, code: ErrorCode): void;
  /** Hold `bytes` more of playlist work (`entering`: one fetch more); false, holding nothing, when past hls.playlistWork*. */
  holdPlaylistWork(bytes: number, entering: boolean): boolean;
  /** A playlist fetch that held `bytes` of work settled. */
  releasePlaylistWork(bytes: number): void;
}

export interface FetchSpec {
  /** Cache key (node URL without carried auth parameters, plus any Range). */
  key: string;
  /** The guess from the path; a playlist content type upgrades a "segment". */
  kind: ObjectKind;
  endpoint: NodeEndpoint;
  nodeId: string;
  /** Path and query on the node. */
  path: string;
  /** Request headers for the node, built only when the fetch starts (not for hits). */
  headers: () => OutgoingHttpHeaders;
  timeouts: ExchangeTimeouts;
  /** The transport the fetch goes through (its keep-alive pool for the node). */
  transport: UpstreamTransport;
  playlistMaxBytes: number;
  objectMaxBytes: number;
  /** Stream and route whose stats the node bytes count in. */
  streamId?: string;
  routeId: string;
}

export class SharedFetch implements Sized {
  state: FetchState = 'pending';
  kind: ObjectKind;
  status = 0;
  headers: OutgoingHttpHeaders = {};
  /** The node's content-length, when it sent one. */
  contentLength: number | undefined;
  error: RelayError | undefined;
  /** Whether this fetch was already counted against its node. */
  private faulted = false;
  /** False once the object can no longer be cached (too large, or the in-flight bound was reached). */
  cacheable = true;
  /** Bytes received from the node. */
  received = 0;
  /** Chunk index of chunks[0] (chunks before it were dropped after every watcher wrote them). */
  base = 0;
  private chunks: Buffer[] = [];
  /** The body joined into one buffer by compact() (the chunks are views of it). */
  private joined: Buffer | undefined;
  private retained = 0;
  /** Bytes of playlist work held (undefined: not counted as playlist work). */
  private workBytes: number | undefined;
  private readonly watchers = new Set<FetchWatcher>();
  private call: UpstreamCall | undefined;
  private nodeBody: Readable | undefined;
  private paused = false;
  readonly createdAt = Date.now();

  constructor(
    readonly spec: FetchSpec,
    private readonly owner: FetchOwner,
  ) {
    this.kind = spec.kind;
  }

  get sizeBytes(): number {
    return (this.kind === 'playlist' ? this.retained * PLAYLIST_FOOTPRINT_FACTOR : this.retained) + ENTRY_OVERHEAD_BYTES;
  }

  /** Body bytes held now. */
  get retainedBytes(): number {
    return this.retained;
  }

  /** One past the index of the last chunk received. */
  get end(): number {
    return this.base + this.chunks.length;
  }

  chunk(index: number): Buffer {
    return this.chunks[index - this.base];
  }

  /** The whole body (complete, never-trimmed fetches: playlists and cached objects); a complete one is joined once and kept so. */
  body(): Buffer {
    if (this.joined && this.base === 0) return this.joined;
    if (this.chunks.length === 1) return this.chunks[0];
    const whole = Buffer.concat(this.chunks, this.retained);
    // Only a 2xx playlist is read whole; its viewers never stream its chunks, so joining them moves no one's position.
    if (this.state === 'complete' && this.base === 0 && this.kind === 'playlist') this.chunks = [whole];
    return whole;
  }

  /**
   * A complete entry from its first byte: its chunks joined into one buffer (once), so each
   * viewer from then on gets it in one write (`whole`). The chunks become views of that
   * buffer, so a watcher's chunk position stays valid and no byte is held twice.
   */
  compact(): void {
    if (this.state !== 'complete' || this.base !== 0 || this.joined || !this.cacheable) return;
    const whole = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.retained);
    let at = 0;
    this.chunks = this.chunks.map((chunk) => whole.subarray(at, (at += chunk.length)));
    this.joined = whole;
  }

  /** The whole body as one buffer, once compact() joined it (a complete entry held from its first byte). */
  get whole(): Buffer | undefined {
    return this.base === 0 ? this.joined : undefined;
  }

  watch(watcher: FetchWatcher): void {
    this.watchers.add(watcher);
  }

  unwatch(watcher: FetchWatcher): void {
    this.watchers.delete(watcher);
    this.advanced();
  }

  start(): void {
    const { spec } = this;
    if (this.kind === 'playlist' && !this.holdWork(0)) return;
    this.call = spec.transport.request(
      {
        to: spec.endpoint,
        path: spec.path,
        headers: spec.headers(),
        timeouts: spec.timeouts,
        nodeId: spec.nodeId,
        noDelay: true,
        // Paused because its viewers lag (trimAndThrottle): the node is not asked for bytes, so its silence is not counted.
        hold: { blocked: () => this.paused, whileBlocked: 'wait' },
      },
      { onResponse: (response) => this.onResponse(response), onEnd: (error) => (error ? this.fail(error) : this.complete()) },
    );
  }

  private onResponse(response: UpstreamResponse): void {
    if (this.state !== 'pending') {
      this.call?.abort();
      return;
    }
    this.nodeBody = response.body;
    const status = response.status || 502;
    if (status >= 300 && status < 400) {
      this.fail(new RelayError('HLS_UPSTREAM_REDIRECT', `node answered ${status} to an HLS request; the relay does not follow node redirects`));
      return;
    }
    this.status = status;
    // A server error is the node's fault (an active check would fail on it too); reported once per fetch, however many viewers share it.
    if (status >= 500) this.reportFault('UPSTREAM_STATUS');
    this.headers = withoutFields(viewerResponseHeaders(response.headers), NOT_SHARED_HEADERS);
    // No CORS here: a fetch is shared by viewers of any origin; each delivery adds its route's (relay/cors.ts underRouteCors).
    const length = Number(response.headers['content-length']);
    this.contentLength = Number.isFinite(length) && response.headers['content-length'] !== undefined ? length : undefined;
    if (isPlaylistContentType(response.headers['content-type'])) this.kind = 'playlist';
    if (this.hardLimited() && this.contentLength !== undefined && this.contentLength > this.spec.playlistMaxBytes) {
      this.fail(tooLarge(this.spec.playlistMaxBytes, `its content-length is ${this.contentLength}`));
      return;
    }
    if (this.hardLimited() && !this.holdWork(0)) return;
    this.state = 'body';
    response.body.on('data', (chunk: Buffer) => this.onData(chunk));
    this.wakeAll();
  }

  /** A 2xx playlist: held whole and parsed, so its limit is hard. */
  private hardLimited(): boolean {
    return this.kind === 'playlist' && this.status >= 200 && this.status < 300;
  }

  private softLimit(): number {
    return this.status >= 400 ? Math.min(ERROR_BODY_MAX_BYTES, this.spec.objectMaxBytes) : this.spec.objectMaxBytes;
  }

  private onData(chunk: Buffer): void {
    if (this.state !== 'body') return;
    this.received += chunk.length;
    this.owner.countIn(this, chunk.length);
    if (this.hardLimited()) {
      if (this.received > this.spec.playlistMaxBytes) {
        this.fail(tooLarge(this.spec.playlistMaxBytes, 'it was cut off there'));
        return;
      }
      if (!this.holdWork(chunk.length)) return;
    } else if (this.cacheable && (this.received > this.softLimit() || this.owner.inflightBytes + chunk.length > this.owner.inflightLimit())) {
      this.detach();
    }
    this.chunks.push(chunk);
    this.retained += chunk.length;
    if (this.cacheable && !this.hardLimited()) this.owner.inflightBytes += chunk.length;
    if (!this.cacheable) this.trimAndThrottle();
    this.wakeAll();
  }

  /** Stop being a cache candidate: the in-flight bytes are released from the shared count. */
  private detach(): void {
    this.cacheable = false;
    if (!this.hardLimited()) this.owner.inflightBytes -= this.retained;
    this.owner.detached(this);
  }

  /** A watcher wrote some chunks (or left): drop what all have written, resume the node when there is room. */
  advanced(): void {
    if (this.cacheable || this.state === 'failed') return;
    this.trimAndThrottle();
  }

  private trimAndThrottle(): void {
    let lowest = this.end;
    for (const watcher of this.watchers) lowest = Math.min(lowest, watcher.position);
    const drop = lowest - this.base;
    if (drop > 0) {
      for (let i = 0; i < drop; i += 1) this.retained -= this.chunks[i].length;
      this.chunks.splice(0, drop);
      this.base = lowest;
    }
    if (this.state !== 'body') return;
    if (this.watchers.size === 0) {
      this.fail(new RelayError('CLIENT_CLOSED', 'every viewer of an uncacheable object left'));
      return;
    }
    const limit = this.softLimit();
    if (!this.paused && this.retained > limit) {
      this.paused = true;
      this.nodeBody?.pause();
    } else if (this.paused && this.retained <= limit / 2) {
      this.paused = false;
      this.call?.readerResumed();
      this.nodeBody?.resume();
    }
  }

  /** Count `bytes` more as playlist work (the first call enters the fetch); on refusal the fetch fails HLS_BUSY, not the node's fault. */
  private holdWork(bytes: number): boolean {
    const entering = this.workBytes === undefined;
    if (this.owner.holdPlaylistWork(bytes, entering)) {
      this.workBytes = (this.workBytes ?? 0) + bytes;
      return true;
    }
    this.fail(
      new RelayError(
        'HLS_BUSY',
        'the relay is at its bound of playlists being fetched and parsed (hls.playlistWorkMaxBytes, hls.playlistWorkMaxCount); try again shortly',
      ),
    );
    return false;
  }

  private releaseWork(): void {
    if (this.workBytes === undefined) return;
    this.owner.releasePlaylistWork(this.workBytes);
    this.workBytes = undefined;
  }

  private complete(): void {
    if (this.state !== 'body') return;
    this.state = 'complete';
    this.releaseWork();
    if (this.cacheable && !this.hardLimited()) this.owner.inflightBytes -= this.retained;
    this.owner.settled(this);
    this.wakeAll();
  }

  /** End the fetch with an error; it counts against the node only when errors.ts isNodeFault says it is the node's. */
  fail(error: RelayError): void {
    if (this.state === 'complete' || this.state === 'failed') return;
    const releasing = this.cacheable && !this.hardLimited() ? this.retained : 0;
    this.state = 'failed';
    this.error = error;
    this.releaseWork();
    this.call?.abort(error);
    this.owner.inflightBytes -= releasing;
    this.chunks = [];
    this.retained = 0;
    if (isNodeFault(error.code)) this.reportFault(error.code);
    this.owner.settled(this);
    this.wakeAll();
  }

  /** Count a failure against the node, once per fetch (a 5xx whose body then breaks is one fault). */
  private reportFault(code: ErrorCode): void {
    if (this.faulted) return;
    this.faulted = true;
    this.owner.fault(this, code);
  }

  private wakeAll(): void {
    for (const watcher of [...this.watchers]) watcher.wake();
  }
}

function tooLarge(limit: number, detail: string): RelayError {
  return new RelayError('HLS_PLAYLIST_TOO_LARGE', `the node's playlist is larger than hls.playlistMaxBytes (${limit} bytes); ${detail}`);
}
