/**
 * Merged writes for FLV viewers over TLS (flv.tlsWriteBatchMs). Each write to a TLS socket
 * costs one SSL_write (a TLS record), one syscall and one completion callback whatever its
 * size, which at a thousand HTTPS viewers is most of the relay's CPU. A viewer's socket is
 * corked at its first live write and uncorked by one timer shared by every viewer of the
 * relay, flv.tlsWriteBatchMs later: the writes between go out as one (Node encrypts a corked
 * run in one SSL_write). A viewer's start (header, sequence headers, cached GOP) is never
 * held. What waits counts in the viewer's queue (flv.viewerQueueMaxBytes), and a viewer holds
 * at most a quarter of that bound (FlvViewer.mergesWith), so a viewer that keeps up is never
 * taken for a slow one because of the wait.
 * SRS does the same for all its players (mw_latency, 350 ms by default); here only viewers
 * whose writes are encrypted pay the wait, and only when it is longer than flv.writeBatchMs,
 * whose batches already merge every viewer's writes.
 */
import type { FlvSettings } from '../../../../shared/config.js';

/** What a merge holds: a viewer's socket (or HTTP/2 stream), corked until the shared timer fires. */
export interface Corkable {
  readonly destroyed: boolean;
  /** An HTTP/2 stream the viewer reset is closed before it is destroyed (by the next write's error): never held then. */
  readonly closed?: boolean;
  readonly writableCorked: number;
  cork(): void;
  uncork(): void;
  destroy(): void;
}

export class WriteMerge {
  /** Sockets corked until the timer fires, with the bytes written to each meanwhile; at most one entry per viewer, emptied every flv.tlsWriteBatchMs. */
  private readonly held = new Map<Corkable, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly flv: () => Pick<FlvSettings, 'tlsWriteBatchMs' | 'writeBatchMs'>) {}

  /** The wait a TLS viewer's writes get now (0: written at once). */
  private holdMs(): number {
    const { tlsWriteBatchMs, writeBatchMs } = this.flv();
    return tlsWriteBatchMs > writeBatchMs ? tlsWriteBatchMs : 0;
  }

  /** Hold `socket`'s writes until the shared timer fires (a no-op when merging is off or it is held already). */
  hold(socket: Corkable): void {
    if (this.held.has(socket) || socket.destroyed || socket.closed === true) return;
    const ms = this.holdMs();
    if (ms === 0) return;
    socket.cork();
    this.held.set(socket, 0);
    this.timer ??= setTimeout(() => this.release(), ms);
  }

  /** Bytes written to `socket` since it was held (0 when it is not): they wait for the timer, not for the viewer. */
  heldBytes(socket: Corkable): number {
    return this.held.get(socket) ?? 0;
  }

  /** Count bytes just written to a held socket. */
  wrote(socket: Corkable, bytes: number): void {
    const before = this.held.get(socket);
    if (before !== undefined) this.held.set(socket, before + bytes);
  }

  /** Write out everything held (the timer, and the relay stopping). */
  release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const socket of this.held.keys()) letGo(socket);
    this.held.clear();
  }

  /** Write out one socket's held writes now, before the timer (its viewer may hold no more: FlvViewer.mergesWith). */
  releaseNow(socket: Corkable): void {
    if (this.held.delete(socket)) letGo(socket);
  }
}

function letGo(socket: Corkable): void {
  if (socket.destroyed) return;
  // Reset by the viewer meanwhile: what waits can never be sent (as an unheld write, it would fail and end the stream).
  if (socket.closed === true) socket.destroy();
  else if (socket.writableCorked > 0) socket.uncork();
}
