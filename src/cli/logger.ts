/** Builds the pino logger for CLI processes: JSON lines on stderr, level from CARPRICE_LOG_LEVEL. */
import { pino } from 'pino';
import type { Env } from '../config/env.js';
import type { Logger } from '../core/logger.js';

const LEVELS = new Set(['debug', 'info', 'warn', 'error', 'silent', 'trace', 'fatal']);

export function createLogger(env: Env): Logger {
  const level = env.CARPRICE_LOG_LEVEL && LEVELS.has(env.CARPRICE_LOG_LEVEL) ? env.CARPRICE_LOG_LEVEL : 'warn';
  return pino({ level, base: undefined }, pino.destination(2)) as unknown as Logger;
}
