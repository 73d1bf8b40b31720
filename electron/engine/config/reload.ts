/**
 * SIGHUP reloads the config file into a running relay, as daemons do (`systemctl reload`):
 * the file is read and validated whole; a bad file keeps the running config and logs why.
 * Used by `relaydeck serve`; the desktop main process installs it the same way.
 */
import type { RelayDeckConfig } from '../../../shared/config.js';
import type { Logger } from '../core/log.js';
import { readConfigFile } from './store.js';

/** What a reload needs from the running relay: swapping in a whole config (the engine's config transaction). */
export interface ConfigReplacer {
  /** Validate and apply `next` whole; rejects, keeping the running config, when it is refused. */
  replaceConfig(next: RelayDeckConfig): Promise<void>;
}

/** Reload `configPath` into `target` on every SIGHUP; returns the function that uninstalls it. */
export function reloadOnSighup(target: ConfigReplacer, configPath: string, log: Logger): () => void {
  const reload = () => {
    readConfigFile(configPath)
      .then((next) => target.replaceConfig(next))
      .then(() => log.info(`SIGHUP: reloaded ${configPath}`))
      .catch((error) => log.error(`SIGHUP: reload refused, running config kept: ${(error as Error).message}`));
  };
  process.on('SIGHUP', reload);
  return () => process.off('SIGHUP', reload);
}
