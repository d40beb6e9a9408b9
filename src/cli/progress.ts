/**
 * A progress meter for long steps on an interactive terminal: one line rewritten in place
 * (`predicting big.csv: 1,250,000 listings, 310,000/s, 41% read, ETA 9s`), at most 4 times
 * a second, ended with a newline. The share and the ETA appear when the step knows how much
 * of its source it has read. Not a TTY (a pipe, a file, CI logs): no meter at all.
 */
import type { Output } from './command.js';
import type { ProgressFactory } from '../jobs/load-listings.js';

/** 75 -> `1m 15s`, 9.4 -> `9s`. */
function duration(s: number): string {
  const m = Math.floor(s / 60);
  return m ? `${m}m ${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}

export function ttyProgress(out: Output, now: () => number = () => performance.now()): ProgressFactory | undefined {
  if (!out.isTTY) return undefined;
  return (step, what) => {
    const t0 = now();
    let last = -Infinity;
    let width = 0;
    return (rows, done, fraction) => {
      const t = now();
      if (!done && t - last < 250) return;
      last = t;
      const seconds = Math.max(1e-3, (t - t0) / 1000);
      const rate = rows / seconds;
      let eta = '';
      if (!done && fraction !== undefined && fraction > 0 && fraction < 1)
        eta = `, ${Math.floor(100 * fraction)}% read, ETA ${duration((seconds * (1 - fraction)) / fraction)}`;
      const line = `${step} ${what}: ${rows.toLocaleString('en')} listings, ${Math.round(rate).toLocaleString('en')}/s${eta}`;
      // pad over the end of a longer previous line
      out.write(`\r${line.padEnd(width)}${done ? '\n' : ''}`);
      width = line.length;
    };
  };
}
