/**
 * Checks of flag values shared by the commands: whole numbers in a range (ports, --jobs,
 * --folds, --workers...) and a host to bind. Each failure is one USAGE error that names the
 * flag, what it takes and what was given, so every command words it the same way.
 */
import { isIP } from 'node:net';
import { AppError } from '../core/errors.js';
import { scalarText } from '../core/text.js';

/**
 * The whole number a flag gives (`raw` as parsed: a string, or undefined when the flag is
 * absent, then undefined back), from `min` to `max` when given. `name` is the flag without
 * its dashes, or an environment variable as `$NAME`.
 */
export function wholeNumberFlag(name: string, raw: unknown, min: number, max?: number): number | undefined {
  if (raw === undefined) return undefined;
  const text = scalarText(raw);
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(n) || n < min || (max !== undefined && n > max))
    throw new AppError(
      'USAGE',
      `${name.startsWith('$') ? name : `--${name}`} must be a whole number ${max === undefined ? `>= ${min}` : `from ${min} to ${max}`}, got "${text}"`,
    );
  return n;
}

/** A port flag: 0 (any free port) to 65535 unless `min` says otherwise. */
export const portFlag = (raw: unknown, min = 0, name = 'port') => wholeNumberFlag(name, raw, min, 65535);

/** A host to bind: an IPv4 or IPv6 address or a host name, else a USAGE error naming --host. */
export function checkHost(host: string): void {
  if (isIP(host)) return;
  if (/^[\d.]+$/.test(host))
    throw new AppError(
      'USAGE',
      `--host ${host} is not a valid IPv4 address (four numbers 0..255, e.g. 127.0.0.1 or 0.0.0.0)`,
    );
  if (host.includes(':')) throw new AppError('USAGE', `--host ${host} is not a valid IPv6 address (e.g. ::1 or ::)`);
  if (
    !/^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(
      host,
    )
  )
    throw new AppError('USAGE', `--host ${JSON.stringify(host)} is not a valid host name or IP address`);
}
