/**
 * A progress meter for long steps on an interactive terminal: one line rewritten in place
 * (`reading big.csv: 1,250,000 listings, 310,000/s`, or with a known total
 * `fitting gbdt: 120/300 trees, 15/s, ETA 12s`), at most 4 times a second, cleared to the
 * end of the line and ended with a newline. Not a TTY (a pipe, a file, CI logs): no meter.
 */
import type { Output } from './command.js';
import type { ProgressFactory } from '../core/progress.js';

/** Seconds as `12s`, `3m05s` or `1h02m`. */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function ttyProgress(out: Output, now: () => number = () => performance.now()): ProgressFactory | undefined {
  if (!out.isTTY) return undefined;
  return (step, what, total, unit = 'listings') => {
    const t0 = now();
    let last = -Infinity;
    return (done, finished) => {
      const t = now();
      if (!finished && t - last < 250) return;
      last = t;
      const seconds = Math.max(1e-3, (t - t0) / 1000);
      const rate = done / seconds;
      const count =
        total === undefined ? done.toLocaleString('en') : `${done.toLocaleString('en')}/${total.toLocaleString('en')}`;
      const eta =
        total !== undefined && !finished && done > 0 && done < total ? `, ETA ${formatEta((total - done) / rate)}` : '';
      const pace = rate >= 10 ? Math.round(rate).toLocaleString('en') : rate.toFixed(1);
      out.write(
        `\r${step}${what ? ` ${what}` : ''}: ${count} ${unit}, ${pace}/s${eta}${finished ? ` in ${seconds.toFixed(1)} s` : ''}\x1b[K${finished ? '\n' : ''}`,
      );
    };
  };
}
