/**
 * What pgqueue writes to logs, and where: a `{ debug, info, warn, error }` object, the shape that
 * `console`, pino, winston and most loggers share. Each call passes one message string that says
 * everything (a logger that ignores extra arguments loses nothing) and, for errors, the error
 * itself as a second argument (console prints its stack). Payloads are never logged.
 */
import { invalidArgument } from './errors.js';

export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * The default level: `PGQUEUE_LOG_LEVEL` when set, else 'warn' — errors the worker recovers from
 * and anything worse; starts and stops are 'info', reconnects 'debug'.
 */
export function defaultLogLevel(): LogLevel {
  const fromEnv = process.env.PGQUEUE_LOG_LEVEL?.toLowerCase();
  return LEVELS.includes(fromEnv as LogLevel) ? (fromEnv as LogLevel) : 'warn';
}

/** A Logger on `console` that drops messages below `level`. */
export function consoleLogger(level: LogLevel = defaultLogLevel()): Logger {
  if (!LEVELS.includes(level)) throw invalidArgument(`consoleLogger: level must be one of ${LEVELS.join(', ')}, got ${String(level)}.`);
  const min = LEVELS.indexOf(level);
  const at =
    (name: Exclude<LogLevel, 'silent'>) =>
    (message: string, ...args: unknown[]): void => {
      if (LEVELS.indexOf(name) >= min) console[name](message, ...args);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Checks a caller's logger has the four methods, so a wrong one fails at construction, not mid-outage. */
export function checkLogger(logger: unknown, where: string): Logger {
  const methods = ['debug', 'info', 'warn', 'error'] as const;
  const candidate = logger as Partial<Record<(typeof methods)[number], unknown>> | null;
  const missing = methods.filter((name) => typeof candidate?.[name] !== 'function');
  if (typeof logger !== 'object' || logger === null || missing.length > 0) {
    throw invalidArgument(
      `${where}: logger must have debug, info, warn and error methods (console and pino fit)` +
        `${typeof logger === 'object' && logger !== null ? `; missing ${missing.join(', ')}` : ''}.`,
    );
  }
  return logger as Logger;
}
