/** Start a real Engine on port 0 for a test, with a config built from a partial one. */
import { parseConfig, type RelayDeckConfig } from '../../shared/config.js';
import { Engine } from '../../electron/engine/engine.js';
import { HttpApiClient } from './api-client.js';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export interface StartedRelay {
  engine: Engine;
  relayUrl: string;
  adminUrl: string;
  api: HttpApiClient;
  stop(): Promise<void>;
}

/** A config for tests: ports 0, a known token, and active health checks off unless the test sets `health`. */
export function testConfig(partial: Record<string, unknown>): RelayDeckConfig {
  const base = partial as { relay?: object; admin?: object };
  return parseConfig({
    health: { intervalMs: 0 },
    ...partial,
    relay: { port: 0, ...(base.relay ?? {}) },
    admin: { port: 0, token: TEST_TOKEN, ...(base.admin ?? {}) },
  });
}

export async function startRelay(partial: Record<string, unknown>, configPath?: string): Promise<StartedRelay> {
  const engine = await Engine.start({ config: testConfig(partial), configPath });
  return {
    engine,
    relayUrl: engine.relayUrl,
    adminUrl: engine.adminUrl,
    api: new HttpApiClient(engine.adminUrl, TEST_TOKEN),
    stop: () => engine.stop(),
  };
}
