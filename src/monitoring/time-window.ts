/**
 * `--since 7d` and friends: a duration back from now (`90s`, `30m`, `24h`, `7d`, `2w`), an
 * absolute ISO date or date-time (`2026-12-01`, `2026-12-01T08:00`, `2026-12-01 08:00:00`,
 * `2026-12-01T08:00:00+05:30`), or `now`, as Unix ms. A date or date-time without a zone is
 * UTC (as the log's times are, in `monitor export` and the reports), not the machine's time.
 */
import { AppError } from '../core/errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

const DURATION = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i;

/** Milliseconds of a positive duration like `7d`, or undefined when `text` is not one. */
function durationMs(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m && Number(m[1]) > 0 ? Number(m[1]) * UNIT_MS[m[2].toLowerCase()] : undefined;
}

const MAX_DURATION_MS = 100 * 365.25 * 86_400_000;

/**
 * `ms`, unless past a century: a window start that far back is no date at all
 * (99999999999999999999d is before year -275,000, where Date.toISOString throws), so say so
 * rather than fail later.
 */
function withinCentury(ms: number, text: string, flag: string): number {
  if (!(ms <= MAX_DURATION_MS))
    throw new AppError(
      'USAGE',
      `${flag} ${text.trim()} is longer than 100 years; give a shorter duration, or a date like 2020-01-01`,
    );
  return ms;
}

/** Milliseconds of a duration like `7d`; USAGE error naming `flag` otherwise. */
export function parseDuration(text: string, flag: string): number {
  const ms = durationMs(text);
  if (ms === undefined)
    throw new AppError('USAGE', `${flag} must be a duration like 30m, 24h, 7d or 2w, got "${text}"`);
  return withinCentury(ms, text, flag);
}

const DATE = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Whether `YYYY-MM-DD` names a day of the calendar (Date.parse rolls 2026-02-30 over to March 2). */
function realDate(ymd: string): boolean {
  const [y, mo, d] = ymd.split('-').map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** Start (or end) of a window: `now` minus a duration, an ISO date/time (UTC unless it names a zone), or `now`. */
export function parseSince(text: string, now: number, flag = '--since'): number {
  const s = text.trim();
  if (s.toLowerCase() === 'now') return now;
  if (/^\d{4}-\d{2}-\d{2}/.test(s)) {
    const m = DATE.exec(s);
    const t = m && realDate(m[1]) ? Date.parse(`${m[1]}T${m[2] ?? '00:00'}${m[3] ?? 'Z'}`) : NaN;
    if (!Number.isFinite(t))
      throw new AppError(
        'USAGE',
        `${flag} must be a duration (7d) or an ISO date or date-time (2026-12-01, 2026-12-01T08:00, UTC unless a zone is given), got "${text}"`,
      );
    if (t > now) throw new AppError('USAGE', `${flag} ${text} is in the future`);
    return t;
  }
  const ms = durationMs(s);
  if (ms !== undefined) return now - withinCentury(ms, s, flag);
  throw new AppError(
    'USAGE',
    `${flag} must be a duration like 24h, 7d or 2w, or an ISO date like 2026-12-01, got "${text}"`,
  );
}
