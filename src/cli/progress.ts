/**
 * A progress meter for long steps on an interactive terminal: one line rewritten in place
 * (`reading big.csv: 1,250,000 listings, 310,000/s`), at most 4 times a second, ended with
 * a newline. Not a TTY (a pipe, a file, CI logs): no meter at all.
 */
import type { Output } from './command.js';
import type { ProgressFactory } from '../jobs/load-listings.js';

export function ttyProgress(out: Output, now: () => number = () => performance.now()): ProgressFactory | undefined {
  if (!out.isTTY) return undefined;
  return (step, what) => {
    const t0 = now();
    let last = -Infinity;
    return (rows, done) => {
      const t = now();
      if (!done && t - last < 250) return;
      last = t;
      const rate = rows / Math.max(1e-3, (t - t0) / 1000);
      out.write(
        `\r${step} ${what}: ${rows.toLocaleString('en')} listings, ${Math.round(rate).toLocaleString('en')}/s${done ? '\n' : ''}`,
      );
    };
  };
}
