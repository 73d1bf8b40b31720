/**
 * The `relaydeck` command line: `relaydeck serve [--config FILE]` runs the engine headless
 * with the UI on the admin port. Exit codes: 0 clean stop, 1 runtime failure, 2 usage or
 * config error (the file is left untouched).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigFileError, defaultConfigPath, loadOrCreateConfig, readConfigFile } from './config/store.js';
import { Engine } from './engine.js';
import { createLogger } from './log.js';
import { VERSION } from './version.js';
import { parseTtl, signPath } from './relay/auth/sign-url.js';
import { RelayError } from './relay/errors.js';

const log = createLogger('cli');

const USAGE = `relaydeck ${VERSION}
Usage:
  relaydeck serve [--config FILE]   run the relay and admin API headless (UI at the admin URL)
  relaydeck sign --route ID --path /live/cam1.flv --ttl 1h [--prefix /live/cam1/] [--config FILE]
                                    print a signed viewer URL (the route needs auth.keys)
  relaydeck help                    this text

Without --config the per-user file ${defaultConfigPath()} is used (created on first run).`;

/** The built renderer, next to the compiled engine (dist/renderer). */
export function builtUiDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'renderer');
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
  const config = await readConfigFile(configPath);
  const route = config.routes.find((r) => r.id === flags.route);
  if (!route) throw new UsageError(`no route "${flags.route}" in ${configPath}`);
  const signed = signPath(route, flags.path, parseTtl(flags.ttl), flags.prefix);
  const host = config.relay.host.includes(':') ? `[${config.relay.host}]` : config.relay.host;
  const base = config.relay.port === 0 ? '' : `http://${host}:${config.relay.port}`;
  process.stdout.write(`${base}${signed.pathAndQuery}\n`);
  process.stderr.write(`expires ${new Date(signed.expiresAt * 1000).toISOString()} (key ${signed.keyId})\n`);
  return 0;
}

class UsageError extends Error {}

/** Run `serve` until SIGINT/SIGTERM; SIGHUP reloads the file (a bad file keeps the running config). */
export async function serve(args: string[]): Promise<number> {
  const flags = parseFlags(args);
  const configPath = path.resolve(flags.config ?? defaultConfigPath());
  const { config, written } = await loadOrCreateConfig(configPath);
  if (written) log.info(`wrote ${configPath} (admin token generated)`);
  const engine = await Engine.start({ config, configPath, uiDir: builtUiDir() });
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
    process.on('SIGHUP', () => {
      readConfigFile(configPath)
        .then((next) => engine.replaceConfig(next))
        .then(() => log.info(`reloaded ${configPath}`))
        .catch((error) => log.error(`reload refused, running config kept: ${(error as Error).message}`));
    });
  });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
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
