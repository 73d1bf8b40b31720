/**
 * A real Redis for fleet tests: Debian's `redis-server` on a loopback port, no persistence,
 * in a folder of its own. It can be stopped and started again on the same port (Redis away
 * and back). A suite skips with the printed reason when the package is missing (tests/run.mjs
 * installs it when run as root).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { freePort, missingTool } from './media.js';
import { waitFor } from './http.js';

/** Why a fleet suite must skip, or false. */
export function missingRedis(): string | false {
  return missingTool('redis-server', 'redis-server');
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.write('PING\r\n');
    });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

export class RedisServer {
  port = 0;
  /** What the server printed, for a failing test's message. */
  output = '';
  private child?: ChildProcess;

  /** redis://127.0.0.1:<port> */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Start (on the same port as before when restarted); resolves when it answers PING. */
  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (this.output += text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (this.output += text));
    await waitFor(() => portAnswers(this.port), 10_000, `redis-server on port ${this.port}\n${this.output}`);
  }

  /** Stop it the hard way (SIGKILL): the relays see connections drop, as when a Redis host dies. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}

/**
 * Redis MONITOR on a raw connection: every command the server runs, one line each
 * (`+<time> [<db> <client>] "<command>" "<arg>" ...`). A raw socket, not ioredis's monitor(),
 * whose mode switch can race the first monitored line ("Command queue state error").
 * Resolves once the server said +OK, so no command after that is missed.
 */
export function monitorRedis(port: number): Promise<{ lines: string[]; close: () => void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const lines: string[] = [];
    let pending = '';
    let ready = false;
    socket.setEncoding('utf8');
    socket.on('error', (error) => (ready ? undefined : reject(error)));
    socket.on('data', (text: string) => {
      pending += text;
      const complete = pending.split('\r\n');
      pending = complete.pop() ?? '';
      for (const line of complete) {
        if (!ready && line === '+OK') {
          ready = true;
          resolve({ lines, close: () => socket.destroy() });
        } else if (ready) lines.push(line);
      }
    });
    socket.write('MONITOR\r\n');
  });
}
