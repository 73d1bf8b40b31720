/**
 * The demo node's life cycle inside the engine: started on a first run (and on every
 * later start while the config says demo.enabled), its node URL kept in step with the
 * port it really got, and removed in one call (routes, node, server, live streams).
 */
import { DEFAULT_DEMO_PORT, type RelayDeckConfig } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import { DEMO_NODE_ID, demoWanted, installDemo, isFirstRun, uninstallDemo } from './config.js';
import { DemoServer } from './server.js';

/** What the controller needs from the engine. */
export interface DemoHost {
  config(): RelayDeckConfig;
  /** True when config changes are saved to a file (a real install, not a test's memory config). */
  readonly persisted: boolean;
  changeConfig(change: (draft: RelayDeckConfig) => void): Promise<RelayDeckConfig>;
  /** End the live streams of these routes now. */
  closeStreamsOfRoutes(routeIds: readonly string[]): void;
}

export class DemoController {
  private server: DemoServer | undefined;

  constructor(
    private readonly host: DemoHost,
    private readonly log: Logger,
  ) {}

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Start the demo node when this is a first run or the config wants it; failures are logged, not thrown. */
  async start(): Promise<void> {
    const config = this.host.config();
    const firstRun = isFirstRun(config, this.host.persisted);
    if (!firstRun && !demoWanted(config)) return;
    try {
      this.server = await DemoServer.start(config.demo?.port ?? DEFAULT_DEMO_PORT, this.log);
      const url = this.server.url;
      const node = config.nodes.find((n) => n.id === DEMO_NODE_ID);
      if (firstRun || !node || node.url !== url) await this.host.changeConfig((draft) => installDemo(draft, url));
      this.log.info(`${firstRun ? 'first run: ' : ''}demo node serving a looping test stream at ${url}`);
    } catch (error) {
      this.log.warn(`demo node not started: ${(error as Error).message}`);
      await this.stop();
    }
  }

  /** Remove the demo for good; returns the ids of the routes removed. */
  async remove(): Promise<string[]> {
    let removed: string[] = [];
    const config = this.host.config();
    if (config.demo !== undefined || config.nodes.some((n) => n.id === DEMO_NODE_ID)) {
      await this.host.changeConfig((draft) => {
        removed = uninstallDemo(draft);
      });
    }
    this.host.closeStreamsOfRoutes(removed);
    await this.stop();
    return removed;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    await server?.stop();
  }
}
