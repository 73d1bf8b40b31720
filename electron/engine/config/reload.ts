/**
 * SIGHUP reloads the config file into a running engine, as daemons do (`systemctl reload`):
 * the file is read and validated whole; a bad file keeps the running config and logs why.
 * Used by `relaydeck serve`; the desktop main process may install it the same way.
 */
import type { Engine } from '../engine.js';
import type { Logger } from '../core/log.js';
import { readConfigFile } from './store.js';

/** Reload `configPath` into `engine` on every SIGHUP; returns the function that uninstalls it. */
export function reloadOnSighup(engine: Engine, configPath: string, log: Logger): () => void {
  const reload = () => {
    readConfigFile(configPath)
      .then((next) => engine.replaceConfig(next))
      .then(() => log.info(`SIGHUP: reloaded ${configPath}`))
      .catch((error) => log.error(`SIGHUP: reload refused, running config kept: ${(error as Error).message}`));
  };
  process.on('SIGHUP', reload);
  return () => process.off('SIGHUP', reload);
}
