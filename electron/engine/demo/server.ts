/**
 * The built-in demo node: a small HTTP server on 127.0.0.1 that serves the looping clip as
 * a live HTTP-FLV stream (DEMO_FLV_PATH) and a live HLS playlist with its segments
 * (DEMO_HLS_PLAYLIST_PATH), from memory, under plain Node and inside Electron alike.
 * It answers like a media node: CORS `*`, 404 for anything else, GET and HEAD only.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/log.js';
import { loadDemoClip, type DemoClip } from './clip.js';
import { FlvLoop } from './flv-loop.js';
import { HlsLoop, parseSegmentUri } from './hls-loop.js';

/** Path of the demo HTTP-FLV stream on the demo node (and on the relay, through the demo route). */
export const DEMO_FLV_PATH = '/demo/live.flv';
/** Folder of the demo HLS stream, and its playlist. */
export const DEMO_HLS_DIR = '/demo-hls/';
export const DEMO_HLS_PLAYLIST_PATH = `${DEMO_HLS_DIR}live.m3u8`;

const COMMON_HEADERS = { 'access-control-allow-origin': '*', 'x-content-type-options': 'nosniff' };

function answer(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer, cache: string): void {
  res.writeHead(status, { ...COMMON_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': cache });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export class DemoServer {
  private readonly server: http.Server;
  private readonly flv: FlvLoop;
  private readonly hls: HlsLoop;
  private address?: AddressInfo;

  private constructor(
    clip: DemoClip,
    private readonly log: Logger,
  ) {
    const epoch = Date.now();
    this.flv = new FlvLoop(clip.flv, epoch);
    this.hls = new HlsLoop(clip.hls, epoch);
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('clientError', (_error, socket) => socket.destroy());
  }

  /** Load the clip and listen on 127.0.0.1:`port`; a taken port falls back to a free one. */
  static async start(port: number, log: Logger, clip?: DemoClip): Promise<DemoServer> {
    const demo = new DemoServer(clip ?? (await loadDemoClip()), log);
    try {
      await demo.listen(port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error;
      log.warn(`demo port ${port} is taken; using a free port`);
      await demo.listen(0);
    }
    return demo;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.address = this.server.address() as AddressInfo;
        resolve();
      });
    });
  }

  /** The node URL to put in the config, e.g. http://127.0.0.1:8092. */
  get url(): string {
    return `http://127.0.0.1:${this.address?.port ?? 0}`;
  }

  get port(): number {
    return this.address?.port ?? 0;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...COMMON_HEADERS, allow: 'GET, HEAD', 'content-length': 0 });
      res.end();
      return;
    }
    if (path === DEMO_FLV_PATH) return this.serveFlv(req, res);
    if (path === DEMO_HLS_PLAYLIST_PATH) return answer(req, res, 200, 'application/vnd.apple.mpegurl', this.hls.playlist(), 'no-cache');
    if (path.startsWith(DEMO_HLS_DIR)) {
      const sequence = parseSegmentUri(path.slice(DEMO_HLS_DIR.length));
      const bytes = sequence === undefined ? undefined : this.hls.segment(sequence);
      if (bytes) return answer(req, res, 200, 'video/mp2t', bytes, 'public, max-age=60');
    }
    answer(req, res, 404, 'text/plain; charset=utf-8', 'not found on the demo node\n', 'no-store');
  }

  private serveFlv(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...COMMON_HEADERS, 'content-type': 'video/x-flv', 'cache-control': 'no-cache, no-store' });
      res.end();
      return;
    }
    if (!this.flv.addViewer(res)) answer(req, res, 503, 'text/plain; charset=utf-8', 'the demo stream has too many direct viewers\n', 'no-store');
  }

  /** Stop: cut the stream's viewers and close the server. */
  async stop(): Promise<void> {
    this.flv.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    this.log.info('demo node stopped');
  }
}
