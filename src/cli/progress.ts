/**
 * A progress meter for long steps on an interactive terminal: one line rewritten in place
 * (`predicting big.csv: 1,250,000 listings, 310,000/s, 41% read, ETA 9s`, or with a known
 * total `fitting gbdt: 120/300 trees, 15/s, ETA 12s`), at most 4 times a second, ended with
 * a newline. The share and the ETA appear when the step knows how much of its source it has
 * read or how many units it will do. Not a TTY (a pipe, a file, CI logs): no meter at all.
 */
import type { Output } from './command.js';
import type { ProgressFactory } from '../core/progress.js';

/** 75 -> `1m 15s`, 9.4 -> `9s`. */
export function duration(s: number): string {
  const m = Math.floor(s / 60);
  return m ? `${m}m ${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}

export function ttyProgress(out: Output, now: () => number = () => performance.now()): ProgressFactory | undefined {
  if (!out.isTTY) return undefined;
  return (step, what, total, unit = 'listings') => {
    const t0 = now();
    let last = -Infinity;
    let width = 0;
    return (done, finished, fraction) => {
      const t = now();
      if (!finished && t - last < 250) return;
      last = t;
      const seconds = Math.max(1e-3, (t - t0) / 1000);
      const rate = done / seconds;
      let eta = '';
      if (!finished && total !== undefined && done > 0 && done < total)
        eta = `, ETA ${duration((total - done) / rate)}`;
      else if (!finished && fraction !== undefined && fraction > 0 && fraction < 1)
        eta = `, ${Math.floor(100 * fraction)}% read, ETA ${duration((seconds * (1 - fraction)) / fraction)}`;
      const count =
        total === undefined ? done.toLocaleString('en') : `${done.toLocaleString('en')}/${total.toLocaleString('en')}`;
      const pace = rate >= 10 ? Math.round(rate).toLocaleString('en') : rate.toFixed(1);
      const line = `${step}${what ? ` ${what}` : ''}: ${count} ${unit}, ${pace}/s${eta}`;
      // pad over the end of a longer previous line
      out.write(`\r${line.padEnd(width)}${finished ? '\n' : ''}`);
      width = line.length;
    };
  };
}
