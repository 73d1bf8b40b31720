/**
 * One upstream pull of a live FLV stream from a node: a GET on a connection of its own
 * through the upstream transport (its connect, response-header and idle-stream clocks and
 * its error classification). It reports the response, the data and how it ended, exactly
 * once; abort() cuts it and frees the connection.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RelayError } from '../../core/errors.js';
import type { ExchangeTimeouts } from '../exchange.js';
import { addressOf, pathOf, type UpstreamCall, type UpstreamTransport } from '../../upstream/transport.js';

export interface PullEvents {
  /** The node answered; return false to stop (e.g. a non-2xx status). */
  onResponse(status: number): boolean;
  onData(chunk: Buffer): void;
  /** The pull ended: cleanly (undefined) or with an error. Called once. */
  onEnd(error?: RelayError): void;
}

export class FlvPull {
  private call: UpstreamCall | undefined;
  private ended = false;

  constructor(
    readonly url: URL,
    private readonly timeouts: ExchangeTimeouts,
    private readonly events: PullEvents,
    private readonly transport: UpstreamTransport,
    /** The node pulled from (the transport's accounting). */
    private readonly nodeId: string,
  ) {}

  start(headers: OutgoingHttpHeaders): void {
    const { url, timeouts } = this;
    this.call = this.transport.request(
      // A live pull holds its connection for the stream's life: never from or back to a pool.
      { to: addressOf(url), path: pathOf(url), headers, timeouts, nodeId: this.nodeId, pooled: false, noDelay: true },
      {
        onResponse: (response) => {
          if (this.ended) return;
          if (!this.events.onResponse(response.status)) {
            this.abort();
            return;
          }
          response.body.on('data', (chunk: Buffer) => {
            if (!this.ended) this.events.onData(chunk);
          });
        },
        onEnd: (error) => this.finish(error),
      },
    );
  }

  private finish(error?: RelayError): void {
    if (this.ended) return;
    this.ended = true;
    this.events.onEnd(error);
  }

  /** Cut the pull now (no onEnd call follows). */
  abort(): void {
    this.ended = true;
    this.call?.abort();
  }
}
