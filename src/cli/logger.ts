/**
 * The logger for CLI processes: pino JSON lines on stderr at CARPRICE_LOG_LEVEL. Without
 * the variable, logging is off and pino is not even loaded, which keeps every command's
 * start-up short (results and progress go to stdout/stderr through the command anyway).
 */
import type { Env } from '../config/env.js';
import { silentLogger, type Logger } from '../core/logger.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

export async function createLogger(env: Env): Promise<Logger> {
  const level = env.CARPRICE_LOG_LEVEL;
  if (!level || !LEVELS.has(level)) return silentLogger;
  const { pino } = await import('pino');
  const logger: Logger = pino({ level, base: undefined }, pino.destination(2));
  return logger;
}
