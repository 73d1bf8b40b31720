/**
 * A relay in its own process, started from the sources (`node --import tsx
 * electron/engine/cli.ts serve --config FILE`, no build needed) with a test config: ports 0,
 * the test token, active health checks off unless the config sets `health`. Several relays
 * then spread over the machine's cores, as a fleet or tiers of relays do.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpApiClient } from './api-client.js';
import { TEST_TOKEN } from './relay.js';
import { spawnServe, type ServeProcess } from './serve-process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'electron', 'engine', 'cli.ts');

export interface RelayProcess {
  run: ServeProcess;
  relayUrl: string;
  adminUrl: string;
  api: HttpApiClient;
  /** SIGTERM, then SIGKILL after 5 s; removes the config folder. */
  stop(): Promise<void>;
}

/** Start a relay process with `partial` merged over the test defaults. */
export async function startRelayProcess(partial: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<RelayProcess> {
  const base = partial as { relay?: object; admin?: object };
  const config = {
    health: { intervalMs: 0 },
    ...partial,
    relay: { port: 0, host: '127.0.0.1', shutdownGraceMs: 0, ...(base.relay ?? {}) },
    admin: { port: 0, host: '127.0.0.1', token: TEST_TOKEN, ...(base.admin ?? {}) },
  };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaydeck-relay-process-'));
  const configPath = path.join(dir, 'config.json');
  await fs.writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });
  const run = spawnServe(['--import', 'tsx', CLI, 'serve', '--config', configPath], { RELAYDECK_LOG_LEVEL: 'warn', ...env }, ROOT);
  let addresses: { relay: string; admin: string };
  try {
    addresses = await run.addresses();
  } catch (error) {
    run.child.kill('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    run,
    relayUrl: addresses.relay,
    adminUrl: addresses.admin,
    api: new HttpApiClient(addresses.admin, TEST_TOKEN),
    stop: async () => {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGTERM');
        const timer = setTimeout(() => run.child.kill('SIGKILL'), 5000);
        await run.exited;
        clearTimeout(timer);
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
