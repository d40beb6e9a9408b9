/**
 * The logger for CLI processes: pino JSON lines on stderr at CARPRICE_LOG_LEVEL. Without
 * the variable, pino is not even loaded, which keeps every command's start-up short
 * (results and progress go to stdout/stderr through the command anyway); warnings and
 * errors that library code logs (a tracking server that does not answer and is being
 * retried) are then one plain line each on `stderr`, `carprice: warning: ...`.
 */
import type { Env } from '../config/env.js';
import { AppError } from '../core/errors.js';
import { silentLogger, type LogFn, type Logger } from '../core/logger.js';
import type { Output } from './command.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** The CLI's logger; an unknown CARPRICE_LOG_LEVEL is a CONFIG_INVALID error naming the levels. */
export async function createLogger(env: Env, stderr?: Output): Promise<Logger> {
  const level = env.CARPRICE_LOG_LEVEL;
  if (!level) return warningLines(stderr);
  if (level === 'silent') return silentLogger;
  if (!LEVELS.has(level))
    throw new AppError(
      'CONFIG_INVALID',
      `CARPRICE_LOG_LEVEL must be one of ${[...LEVELS, 'silent'].join(', ')}, got "${level}"; unset it for warnings only`,
    );
  const { pino } = await import('pino');
  const logger: Logger = pino({ level, base: undefined }, pino.destination(2));
  return logger;
}

/** Drops debug and info; warn and error as `carprice: warning: MESSAGE` on `stderr`. */
function warningLines(stderr: Output | undefined): Logger {
  const noop: LogFn = () => undefined;
  const line: LogFn = (a: object | string, msg?: string) => {
    const text = typeof a === 'string' ? a : msg;
    const err =
      typeof a === 'object' && typeof (a as { err?: unknown }).err === 'string' ? (a as { err: string }).err : '';
    if (stderr && text) stderr.write(`carprice: warning: ${text}${err ? `: ${err}` : ''}\n`);
  };
  const logger: Logger = { debug: noop, info: noop, warn: line, error: line, child: () => logger };
  return logger;
}
