/**
 * Real HLS peers for tests: ffmpeg writing a live HLS stream (MPEG-TS or fMP4 segments) into
 * a folder, and a small Node static server that serves the folder like a media node would,
 * counting every request per path (so a test can see how often the relay asked).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from './http.js';
import { LIVE_TEST_ENCODE_ARGS } from './media.js';

const TYPES: Record<string, string> = {
  '.m3u8': 'application/vnd.apple.mpegurl',
  '.ts': 'video/mp2t',
  '.m4s': 'video/iso.segment',
  '.mp4': 'video/mp4',
  '.key': 'application/octet-stream',
};

export class HlsOrigin {
  readonly server: http.Server;
  /** Requests per URL path (query dropped). */
  readonly counts = new Map<string, number>();
  /** Every request URL as received (query included). */
  readonly urls: string[] = [];
  readonly sockets = new Set<Socket>();
  /** Delay before answering a path matching this, ms (to hold requests in flight). */
  delay: { match: RegExp; ms: number } | undefined;
  /** A handler tried before the folder (return true when it answered). */
  override: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined;
  url = '';

  constructor(
    /** Folder served at `mount` (e.g. "/live/"). */
    private readonly dir: string,
    private readonly mount = '/live/',
  ) {
    this.server = http.createServer((req, res) => this.answer(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  count(match: RegExp): number {
    let n = 0;
    for (const [p, c] of this.counts) if (match.test(p)) n += c;
    return n;
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    this.urls.push(url);
    if (this.urls.length > 100_000) this.urls.splice(0, 50_000);
    const pathname = url.split('?')[0];
    this.counts.set(pathname, (this.counts.get(pathname) ?? 0) + 1);
    if (this.override?.(req, res)) return;
    const go = () => void this.serveFile(pathname, res);
    if (this.delay && this.delay.match.test(pathname)) setTimeout(go, this.delay.ms);
    else go();
  }

  private async serveFile(pathname: string, res: ServerResponse): Promise<void> {
    if (!pathname.startsWith(this.mount) || pathname.includes('..')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const file = path.join(this.dir, pathname.slice(this.mount.length));
    try {
      const body = await fs.readFile(file);
      const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache', 'access-control-allow-origin': '*' });
      res.end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' }).end('not found');
    }
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface LiveHls {
  child: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/**
 * ffmpeg writing a live HLS stream into `dir`: H.264 baseline + AAC, 1 s GOP, 1 s segments,
 * six in the playlist. `fmp4` writes fMP4 (init.mp4 + .m4s, EXT-X-MAP) instead of MPEG-TS.
 */
export async function startLiveHls(dir: string, { fmp4 = false, playlist = 'index.m3u8' } = {}): Promise<LiveHls> {
  const segment = fmp4 ? path.join(dir, 'seg_%05d.m4s') : path.join(dir, 'seg_%05d.ts');
  const args = [
    ...LIVE_TEST_ENCODE_ARGS,
    '-f',
    'hls',
    '-hls_time',
    '1',
    '-hls_list_size',
    '6',
    '-hls_flags',
    'delete_segments+independent_segments+temp_file',
    ...(fmp4 ? ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'] : []),
    '-hls_segment_filename',
    segment,
    path.join(dir, playlist),
  ];
  const child = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`ffmpeg exited with ${child.exitCode}`);
      const text = await fs.readFile(path.join(dir, playlist), 'utf8').catch(() => '');
      return (text.match(/#EXTINF/g)?.length ?? 0) >= 3;
    },
    20_000,
    'ffmpeg to write three segments',
  );
  return {
    child,
    dir,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
