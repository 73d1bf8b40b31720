/**
 * A relay started as an operator starts it (a launcher script or `node dist/electron/engine/cli.js
 * serve`), as a child of the test: its printed addresses, its output, signals, its exit, and
 * whether its relay port is still held.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import { request, waitFor } from './http.js';

/** Most time a launcher may take to print its listen lines, ms. */
export const SERVE_STARTUP_LIMIT_MS = 15_000;

export interface ServeProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => { stdout: string; stderr: string };
  /** The relay and admin URLs from the "... listening on" lines. */
  addresses: () => Promise<{ relay: string; admin: string }>;
}

export function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): ServeProcess {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const addresses = async () => {
    await waitFor(() => /admin listening on/.test(stdout) || child.exitCode !== null, SERVE_STARTUP_LIMIT_MS, `listen lines\n${stdout}\n${stderr}`);
    const relay = /relay listening on (http:\/\/\S+)/.exec(stdout)?.[1];
    const admin = /admin listening on (http:\/\/\S+)/.exec(stdout)?.[1];
    if (!relay || !admin) throw new Error(`no listen lines (exit ${child.exitCode})\n${stdout}\n${stderr}`);
    return { relay, admin };
  };
  return { child, exited, addresses, output: () => ({ stdout, stderr }) };
}

/** True when something accepts connections on the port. */
export function portHeld(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Add a redirect route to the config file and wait, after `signal()`, until the relay answers it. */
export async function addRouteAndReload(configPath: string, relayUrl: string, signal: () => void, routeId: string): Promise<void> {
  const config = JSON.parse(await fs.readFile(configPath, 'utf8'));
  config.routes = [...(config.routes ?? []), { id: routeId, path: `/${routeId}/`, kind: 'file', mode: 'redirect' }];
  await fs.writeFile(configPath, JSON.stringify(config, null, 2));
  if ((await request(`${relayUrl}/${routeId}/x`)).status !== 404) throw new Error(`/${routeId}/ answered before the reload`);
  signal();
  await waitFor(async () => (await request(`${relayUrl}/${routeId}/x`)).status === 302, 10_000, `route ${routeId} after the reload`);
}
