/**
 * The engine's logger: one line per event with a component prefix, e.g. `[proxy live] ...`.
 * No bare console.log in the engine. Output goes to stderr so stdout stays for the CLI's
 * machine-readable lines ("relay listening on ...").
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Minimum level printed; from RELAYDECK_LOG_LEVEL. Default "info". */
let minimumRank = LEVEL_RANK[(process.env.RELAYDECK_LOG_LEVEL as LogLevel) ?? 'info'] ?? LEVEL_RANK.info;

export function setLogLevel(level: LogLevel): void {
  minimumRank = LEVEL_RANK[level];
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  child(component: string): Logger;
}

export function createLogger(component: string): Logger {
  const write = (level: LogLevel, message: string) => {
    if (LEVEL_RANK[level] < minimumRank) return;
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${component}] ${message}\n`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    child: (sub) => createLogger(`${component} ${sub}`),
  };
}
