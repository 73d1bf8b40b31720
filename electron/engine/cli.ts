/**
 * The `relaydeck` command line: `relaydeck serve [--config FILE]` runs the engine headless
 * with the UI on the admin port. Exit codes: 0 clean stop, 1 runtime failure, 2 usage or
 * config error (the file is left untouched).
 *
 * Signals are handled by this process whatever launched it (the bin scripts run it in
 * process; a service manager runs `node dist/electron/engine/cli.js serve` directly): SIGTERM and
 * SIGINT stop gracefully (relay.shutdownGraceMs), SIGHUP reloads the config file (a bad file
 * keeps the running config and logs why).
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigFileError, defaultConfigPath, loadOrCreateConfig, readConfigFile } from './config/store.js';
import { reloadOnSighup } from './config/reload.js';
import { Engine } from './engine.js';
import { parentOf, processAlive } from './core/processes.js';
import { createLogger } from './core/log.js';
import { VERSION } from './core/version.js';
import { parseTtl, signPath } from './relay/auth/sign-url.js';
import { RelayError } from './core/errors.js';
import { tuneV8 } from './core/v8-tuning.js';
import { listeningUrlOf, viewerBaseUrl } from '../../shared/viewer-url.js';

const log = createLogger('cli');

const USAGE = `relaydeck ${VERSION}
Usage:
  relaydeck serve [--config FILE]   run the relay and admin API headless (UI at the admin URL)
  relaydeck sign --route ID --path /live/cam1.flv --ttl 1h [--prefix /live/cam1/] [--config FILE]
                                    print a signed viewer URL (the route needs auth.keys)
  relaydeck help                    this text

Without --config the per-user file ${defaultConfigPath()} is used (created on first run).`;

const SERVE_USAGE = `Usage: relaydeck serve [--config FILE]
Run the relay and the admin API headless; the UI is served at the admin URL.
  --config FILE   the config file (default ${defaultConfigPath()}, created on first run)
Signals: SIGTERM/SIGINT stop gracefully (relay.shutdownGraceMs), SIGHUP reloads the config file.`;

const SIGN_USAGE = `Usage: relaydeck sign --route ID --path PATH --ttl DURATION [--prefix PREFIX] [--config FILE]
Print a signed viewer URL for a route that has auth.keys (the newest key signs).
  --route ID        the route's id
  --path PATH       the viewer path, e.g. /live/cam1.flv
  --ttl DURATION    how long the URL is valid, e.g. 90s, 30m, 1h, 7d
  --prefix PREFIX   sign a path prefix instead (e.g. /live/cam1/ for all HLS files of a stream)
  --config FILE     the config file (default ${defaultConfigPath()})`;

/** True when the arguments ask for a command's help. */
function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}

/** The built renderer, next to the compiled engine (dist/renderer). */
export function builtUiDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'renderer');
}

/** `--name value` / `--name=value` flags; only `allowed` names are accepted. */
function parseFlags(args: string[], allowed: readonly string[] = ['config']): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 1) {
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(args[i]);
    const name = match?.[1];
    if (!match || !name || !allowed.includes(name)) throw new UsageError(`unknown argument "${args[i]}"`);
    const value = match[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    flags[name] = value;
  }
  return flags;
}

/** `relaydeck sign`: print a signed viewer URL for a route of the config file. */
export async function sign(args: string[]): Promise<number> {
  const flags = parseFlags(args, ['config', 'route', 'path', 'ttl', 'prefix']);
  for (const required of ['route', 'path', 'ttl']) if (!flags[required]) throw new UsageError(`--${required} is required`);
  const configPath = path.resolve(flags.config ?? defaultConfigPath());
  const config = await readConfigFile(configPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    throw new UsageError(
      `no config file at ${configPath}${flags.config ? '' : ' (the default; give --config FILE)'}: sign reads the route's auth.keys from it`,
    );
  });
  const route = config.routes.find((r) => r.id === flags.route);
  if (!route) throw new UsageError(`no route "${flags.route}" in ${configPath}`);
  const signed = signPath(route, flags.path, parseTtl(flags.ttl), flags.prefix);
  // relay.publicUrl when set; else the listening address, a wildcard bind given as 127.0.0.1 (shared/viewer-url.ts).
  const base =
    config.relay.publicUrl || config.relay.port !== 0 ? viewerBaseUrl(config.relay.publicUrl, listeningUrlOf(config.relay.host, config.relay.port)) : '';
  process.stdout.write(`${base}${signed.pathAndQuery}\n`);
  process.stderr.write(`expires ${new Date(signed.expiresAt * 1000).toISOString()} (key ${signed.keyId})\n`);
  return 0;
}

class UsageError extends Error {}

/** Run `serve` until SIGINT/SIGTERM; SIGHUP reloads the file (a bad file keeps the running config). */
export async function serve(args: string[]): Promise<number> {
  tuneV8();
  const flags = parseFlags(args);
  const configPath = path.resolve(flags.config ?? defaultConfigPath());
  // A SIGHUP before the engine runs must not kill the process (its default action); the file is read next anyway.
  const early = () => log.info('SIGHUP while starting: the config file is being read now');
  process.on('SIGHUP', early);
  const { config, written } = await loadOrCreateConfig(configPath);
  if (written) log.info(`wrote ${configPath} (admin token generated)`);
  const engine = await Engine.start({ config, configPath, uiDir: builtUiDir() }).finally(() => process.off('SIGHUP', early));
  process.stdout.write(`relay listening on ${engine.relayUrl}\nadmin listening on ${engine.adminUrl}\n`);
  log.info(`config ${configPath}; UI at ${engine.adminUrl}/ (paste the admin token from the config file)`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: stopping (streams get ${engine.config.relay.shutdownGraceMs} ms to end)`);
      engine.stop().then(
        () => resolve(0),
        (error) => {
          log.error(`stop failed: ${(error as Error).message}`);
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    reloadOnSighup(engine, configPath, log);
    stopWhenLauncherExits(() => stop('launcher exited'));
  });
}

/** How often a relay started by npm checks that npm still runs, ms. */
export const LAUNCHER_CHECK_INTERVAL_MS = 1_000;

/**
 * Under `npm start` / `npm run serve` the process a user signals is npm, which forwards only
 * SIGINT and SIGTERM: any other signal (SIGHUP, say) ends npm and would leave the relay
 * running, orphaned, with its ports held. A relay started by npm therefore stops cleanly when
 * npm goes: npm is its parent, or its grandparent when npm ran the script through `sh -c`.
 * (A relay started otherwise, by a service manager or `nohup`, never does.)
 */
function stopWhenLauncherExits(stop: () => void): void {
  if (!process.env.npm_lifecycle_event) return;
  const launchers = [process.ppid, parentOf(process.ppid)].filter((pid): pid is number => pid !== undefined && pid > 1);
  const timer = setInterval(() => {
    if (launchers.every(processAlive)) return;
    clearInterval(timer);
    stop();
  }, LAUNCHER_CHECK_INTERVAL_MS);
  timer.unref();
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if ((command === 'serve' || command === 'sign') && wantsHelp(rest)) {
      process.stdout.write(`${command === 'serve' ? SERVE_USAGE : SIGN_USAGE}\n`);
      return 0;
    }
    if (command === 'serve') return await serve(rest);
    if (command === 'sign') return await sign(rest);
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`relaydeck: ${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ConfigFileError) {
      process.stderr.write(`relaydeck: bad config ${error.message}\n`);
      return 2;
    }
    if (error instanceof RelayError) {
      process.stderr.write(`relaydeck: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`relaydeck: ${(error as Error).message}\n`);
    return 1;
  }
}

// Run directly (`node dist/electron/engine/cli.js serve --config FILE`, as the README's systemd unit does).
if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
