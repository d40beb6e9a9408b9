/**
 * `--since 7d` and friends: a duration back from now (`90s`, `30m`, `24h`, `7d`, `2w`) or
 * an absolute ISO date/time (`2026-12-01`, `2026-12-01T08:00:00Z`), as Unix ms.
 */
import { AppError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration like `7d`; USAGE error naming `flag` otherwise. */
export function parseDuration(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (!m || !(Number(m[1]) > 0))
    throw new AppError('USAGE', `${flag} must be a duration like 30m, 24h, 7d or 2w, got "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2].toLowerCase()];
}

/** Start of a window: `now` minus a duration, or an ISO date/time. */
export function parseSince(text: string, now: number, flag = '--since'): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const t = Date.parse(text.trim());
    if (!Number.isFinite(t))
      throw new AppError('USAGE', `${flag} must be a duration (7d) or an ISO date (2026-12-01), got "${text}"`);
    if (t > now) throw new AppError('USAGE', `${flag} ${text} is in the future`);
    return t;
  }
  try {
    return now - parseDuration(text, flag);
  } catch {
    throw new AppError(
      'USAGE',
      `${flag} must be a duration like 24h, 7d or 2w, or an ISO date like 2026-12-01, got "${text}"`,
    );
  }
}
