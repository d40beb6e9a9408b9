/**
 * A one-line progress bar with ETA for long commands (experiments), drawn on stderr when
 * it is a terminal and neither CI nor NO_COLOR is set; otherwise nothing is drawn (the
 * commands print a line per finished step instead).
 *
 *   [##########----------] 14/28  50%  ETA 1m 20s  ridge target-encoding
 */
import type { Output } from './command.js';

export interface Progress {
  done: number;
  total: number;
  label: string;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m ? `${m}m ${Math.round(s % 60)}s` : `${Math.round(s)}s`;
}

/** The bar text for a progress state and the seconds elapsed since it started. */
export function progressLine(p: Progress, elapsed: number, width = 20): string {
  const frac = p.total ? Math.min(1, p.done / p.total) : 0;
  const filled = Math.round(frac * width);
  const eta = p.done > 0 ? (elapsed / p.done) * (p.total - p.done) : NaN;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} ${String(Math.round(100 * frac)).padStart(3)}%  ETA ${p.done >= p.total ? '0s' : duration(eta)}  ${p.label}`;
}

/** A progress callback drawing on `out` (no-op when disabled), and `clear` to remove the bar. */
export function progressBar(out: Output, enabled: boolean): { update: (p: Progress) => void; clear: () => void } {
  const t0 = performance.now();
  let shown = false;
  return {
    update: (p) => {
      if (!enabled) return;
      const line = progressLine(p, (performance.now() - t0) / 1000).slice(0, 110);
      out.write(`\r${line.padEnd(110)}`);
      shown = true;
    },
    clear: () => {
      if (shown) out.write(`\r${' '.repeat(110)}\r`);
      shown = false;
    },
  };
}
