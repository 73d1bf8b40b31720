/** Shared test fixtures for the desktop and engine tests: a real Engine on port 0 with one node and two routes. */
import path from 'node:path';
import { parseConfig } from '../../shared/config.js';
import { Engine } from '../../electron/engine/engine.js';

export const ADMIN_TOKEN = 'x'.repeat(20);

/** The project root (tests/helpers/../..). */
export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Start a real engine on free ports, keeping config changes in memory only. */
export function startEngine(): Promise<Engine> {
  const config = parseConfig({
    relay: { port: 0, shutdownGraceMs: 0 },
    admin: { port: 0, token: ADMIN_TOKEN },
    nodes: [{ id: 'origin1', url: 'http://127.0.0.1:9' }],
    routes: [
      { id: 'live', path: '/live/', kind: 'flv', mode: 'redirect' },
      { id: 'hls', path: '/hls/', kind: 'hls', mode: 'proxy', nodes: ['origin1'] },
    ],
  });
  return Engine.start({ config });
}
