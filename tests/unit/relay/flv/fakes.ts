/**
 * Fakes that let an FLV stream run without sockets: an upstream pull the test drives by
 * hand, a viewer response that records what the player would receive, a session and a
 * stream context. Timers are node:test's mock timers, advanced by the tests.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FlvSettings, NodeConfig, RouteConfig } from '../../../../shared/config.js';
import type { Logger } from '../../../../electron/engine/core/log.js';
import type { RelayError } from '../../../../electron/engine/core/errors.js';
import { FlvTagReader, type FlvTag } from '../../../../electron/engine/codec/flv/tag-reader.js';
import type { PullEvents } from '../../../../electron/engine/relay/flv/upstream.js';
import type { UpstreamPull } from '../../../../electron/engine/relay/flv/pull-session.js';
import { FlvStream, type StreamContext } from '../../../../electron/engine/relay/flv/stream.js';
import { FlvViewer } from '../../../../electron/engine/relay/flv/viewer.js';
import { HttpFlvOutput } from '../../../../electron/engine/relay/flv/http-output.js';
import type { Session } from '../../../../electron/engine/relay/sessions.js';

/** Settings small enough to step through with mock timers. */
export const TEST_FLV: FlvSettings = {
  gopCacheMaxBytes: 1_048_576,
  gopCacheMaxTags: 1_000,
  viewerQueueMaxBytes: 65_536,
  slowViewerTimeoutMs: 1_000,
  idleCloseMs: 500,
  firstMediaTimeoutMs: 300,
  failoverGraceMs: 2_000,
  reconnectMinMs: 100,
  reconnectMaxMs: 400,
  writeBatchMs: 0,
  tlsWriteBatchMs: 0,
  maxStreams: 10,
  maxStreamsPerClient: 0,
  newStreamsPerClientPerMinute: 0,
};

export const silentLog: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLog };

/** An upstream pull the test answers: `respond`, `send` bytes, `end` it. */
export class FakePull implements UpstreamPull {
  started = false;
  aborted = false;
  constructor(
    readonly url: URL,
    private readonly events: PullEvents,
  ) {}

  start(): void {
    this.started = true;
  }

  abort(): void {
    this.aborted = true;
  }

  /** The node answers with `status`; false when the stream refused it. */
  respond(status = 200): boolean {
    return this.events.onResponse(status);
  }

  send(...parts: Buffer[]): void {
    this.events.onData(Buffer.concat(parts));
  }

  /** The node ends the pull (cleanly, or with `error`). */
  end(error?: RelayError): void {
    this.events.onEnd(error);
  }

  get node(): string {
    return this.url.hostname.split('.')[0];
  }
}

/** The viewer's side of the response: status, and every byte a player would read. */
export class FakeResponse extends EventEmitter {
  statusCode = 0;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  writableLength = 0;
  body = '';
  readonly received: Buffer[] = [];
  /** Bytes the kernel has not taken yet; raise it to make the viewer slow. */
  readonly socket = {
    writableLength: 0,
    destroyed: false,
    write: (buffer: Buffer) => {
      this.received.push(Buffer.from(buffer));
      return true;
    },
  };

  removeHeader(): void {}
  flushHeaders(): void {}

  writeHead(status: number): this {
    this.statusCode = status;
    this.headersSent = true;
    return this;
  }

  end(body?: string): this {
    if (body) this.body = body;
    this.writableEnded = true;
    this.writableFinished = true;
    process.nextTick(() => this.emit('close')); // as node does: after the caller's own bookkeeping
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.socket.destroyed = true;
    process.nextTick(() => this.emit('close'));
    return this;
  }

  /** The player goes away. */
  hangUp(): void {
    this.destroy();
  }

  /** Tags the player received after the FLV header, parsed. */
  tags(): FlvTag[] {
    const reader = new FlvTagReader();
    return reader.push(Buffer.concat(this.received)).flatMap((item) => (item.kind === 'tag' ? [item.tag] : []));
  }

  /** Whether the bytes start with an FLV header. */
  get startsWithHeader(): boolean {
    return Buffer.concat(this.received).subarray(0, 3).toString('latin1') === 'FLV';
  }
}

/** The session record a viewer reports into; `closedWith` is how the relay logged its end. */
export interface FakeSession {
  session: Session;
  closedWith: { status: number; errorCode?: string } | undefined;
}

let nextSessionId = 1;

export function fakeSession(): FakeSession {
  const record: FakeSession = { session: undefined as unknown as Session, closedWith: undefined };
  const session = {
    id: String(nextSessionId++),
    facts: { clientAddress: '192.0.2.1' },
    routeStats: { bytesOut: 0 },
    startedAt: Date.now(),
    status: 0,
    bytesOut: 0,
    bytesIn: 0,
    queuedBytes: () => 0,
    close(status: number, errorCode?: string) {
      record.closedWith ??= { status, errorCode };
    },
  };
  record.session = session as unknown as Session;
  return record;
}

export interface TestViewer {
  viewer: FlvViewer;
  res: FakeResponse;
  record: FakeSession;
}

/** A viewer of `stream` (not yet added) with `flv`'s queue bound and slow timeout. */
export function makeViewer(stream: FlvStream | undefined, flv = TEST_FLV): TestViewer {
  const res = new FakeResponse();
  const record = fakeSession();
  const viewer = new FlvViewer(
    new HttpFlvOutput(res as unknown as ServerResponse),
    record.session,
    { queueMaxBytes: flv.viewerQueueMaxBytes, slowTimeoutMs: flv.slowViewerTimeoutMs },
    silentLog,
    (v) => stream?.removeViewer(v),
  );
  return { viewer, res, record };
}

export const node = (id: string) => ({ id }) as NodeConfig;

/** A stream on fake pulls, with what its context was told. */
export interface Harness {
  stream: FlvStream;
  /** Every pull opened, oldest first. */
  pulls: FakePull[];
  faults: string[];
  closed: number;
  lives: string[];
  /** Add a viewer and let the node lookup settle. */
  join(): Promise<TestViewer>;
  /** The newest pull. */
  readonly pull: FakePull;
}

/** Let pending callbacks run (the node lookup, a response's close event): one turn of the event loop, which mock timers leave alone. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function harness(options: { nodes?: string[]; flv?: Partial<FlvSettings>; route?: Partial<RouteConfig> } = {}): Harness {
  const nodes = (options.nodes ?? ['a', 'b']).map(node);
  const flv = { ...TEST_FLV, ...options.flv };
  const h = { pulls: [] as FakePull[], faults: [] as string[], closed: 0, lives: [] as string[] } as Harness;
  const ctx: StreamContext = {
    id: 'live/cam',
    route: { id: 'r1', gopCache: true, offlineWaitMs: 0, ...options.route } as RouteConfig,
    target: { path: '/live/cam.flv', query: '' } as StreamContext['target'],
    rankNodes: () => Promise.resolve(nodes),
    nodeState: () => undefined,
    onNodeFault: (nodeId, code) => h.faults.push(`${nodeId}:${code}`),
    urlOn: (n) => new URL(`http://${n.id}.node.test/live/cam.flv`),
    flv: () => flv,
    timeouts: () => ({ connectTimeoutMs: 1_000, headerTimeoutMs: 1_000, idleStreamTimeoutMs: 0, requestBodyIdleTimeoutMs: 1_000 }),
    log: silentLog,
    countError: () => {},
    countBytesIn: () => {},
    onClosed: () => {
      h.closed += 1;
    },
    onLive: (s) => h.lives.push(s.nodeId),
    openPull: (url, _timeouts, events) => {
      const pull = new FakePull(url, events);
      h.pulls.push(pull);
      return pull;
    },
  };
  h.stream = new FlvStream(ctx);
  h.join = async () => {
    const v = makeViewer(h.stream, flv);
    h.stream.addViewer(v.viewer);
    await settle();
    return v;
  };
  Object.defineProperty(h, 'pull', { get: () => h.pulls[h.pulls.length - 1] });
  return h;
}
