/**
 * Real media peers for tests: node-media-server origins, an ffmpeg publisher and ffprobe.
 * Suites that need a Debian tool skip with a printed reason when tests/run.mjs found it missing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './http.js';

/** Why a suite that needs `tool` must skip, or false when the tool is on PATH. */
export function missingTool(tool: string, debianPackage: string): string | false {
  const found = (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      return statSync(path.join(dir, tool)).isFile();
    } catch {
      return false;
    }
  });
  return found ? false : `${tool} not found: install the Debian package "${debianPackage}" (npm test installs it when run as root)`;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The API account of every test node-media-server (tests/fixtures/nms-origin.cjs). */
export const NMS_API_USER = { username: 'relaydeck', password: 'relaydeck-test' };

export interface NmsOrigin {
  httpUrl: string;
  rtmpUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Subscribers (pulls or players) of each stream ("app/name") on a node-media-server, from its own API. */
export async function nmsSubscribers(origin: NmsOrigin): Promise<Map<string, number>> {
  const login = await fetch(`${origin.httpUrl}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(NMS_API_USER),
  });
  const token = ((await login.json()) as { data: { token: string } }).data.token;
  const answer = await fetch(`${origin.httpUrl}/api/v1/streams`, { headers: { authorization: `Bearer ${token}` } });
  const streams = ((await answer.json()) as { data: { streams: { app: string; name: string; subscribers: number }[] } }).data.streams;
  return new Map(streams.map((s) => [`${s.app}/${s.name}`, s.subscribers]));
}

const NMS_FIXTURE = fileURLToPath(new URL('../fixtures/nms-origin.cjs', import.meta.url));

/** `notifyUrl`: NMS's own event hook (its `notify.url`: postPublish, donePublish, ... POSTed as JSON), e.g. a relay's node hook. */
export async function startNms(options: { notifyUrl?: string } = {}): Promise<NmsOrigin> {
  const [httpPort, rtmpPort] = [await freePort(), await freePort()];
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-nms-'));
  const env = options.notifyUrl ? { ...process.env, NMS_NOTIFY_URL: options.notifyUrl } : process.env;
  const child = spawn(process.execPath, [NMS_FIXTURE, String(httpPort), String(rtmpPort), dataDir], { stdio: ['ignore', 'pipe', 'ignore'], env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await waitFor(() => out.includes('ready') || child.exitCode !== null, 15000, 'node-media-server to start');
  if (child.exitCode !== null) throw new Error('node-media-server exited at start');
  return {
    httpUrl: `http://127.0.0.1:${httpPort}`,
    rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}`,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** ffmpeg's input and encoding for a live H.264 + AAC test stream (25 fps, 1 s GOP, 500 + 64 kbit/s); the output format follows. */
export const LIVE_TEST_ENCODE_ARGS: readonly string[] = [
  '-nostdin',
  '-loglevel',
  'error',
  '-re',
  '-f',
  'lavfi',
  '-i',
  'testsrc2=size=320x180:rate=25',
  '-re',
  '-f',
  'lavfi',
  '-i',
  'sine=frequency=440:sample_rate=44100',
  '-c:v',
  'libx264',
  '-profile:v',
  'baseline',
  '-preset',
  'veryfast',
  '-tune',
  'zerolatency',
  '-pix_fmt',
  'yuv420p',
  '-b:v',
  '500k',
  '-g',
  '25',
  '-keyint_min',
  '25',
  '-sc_threshold',
  '0',
  '-c:a',
  'aac',
  '-b:a',
  '64k',
];

/** ffmpeg publishing a live H.264 + AAC test stream (1 s GOP) to `rtmpUrl`. */
export function publishTestStream(rtmpUrl: string): ChildProcess {
  const args = [...LIVE_TEST_ENCODE_ARGS, '-f', 'flv', rtmpUrl];
  return spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface ProbeResult {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
  frames?: unknown[];
}

/** ffprobe `url` reading real packets (bounded by `seconds`), as JSON; `inputOptions` go before the URL (e.g. `-ca_file`). */
export function ffprobe(url: string, seconds = 15, inputOptions: string[] = []): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-rw_timeout', '10000000', '-read_intervals', '%+2', '-show_streams', '-count_packets', '-of', 'json', ...inputOptions, url],
      { timeout: seconds * 1000 },
      (error, stdout, stderr) => (error ? reject(new Error(`ffprobe failed: ${stderr || error.message}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

/** True once `url` (plain HTTP) delivers more than 2 KB within 1.5 s of the request; false on an error or a timeout. */
export function streamIsUp(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes > 2000) {
          req.destroy();
          resolve(true);
        }
      });
    });
    setTimeout(() => {
      req.destroy();
      resolve(false);
    }, 1500);
    req.on('error', () => resolve(false));
  });
}
