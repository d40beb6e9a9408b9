/**
 * The statistic bench/serve judges the shadow challenger's cost by, written down before any
 * run: A/B runs in pairs (one run of each side back to back, the order alternating ABBA so a
 * drift in the machine's load favours neither side), one ratio per pair (B's figure over
 * A's, e.g. p99 with the shadow over p99 without), the median of the ratios as the estimate,
 * and a 95% percentile-bootstrap confidence interval over pairs (pairs resampled with
 * replacement, the median recomputed, 10,000 times, seeded: the same pairs give the same
 * interval). The verdict against a "B adds less than x" target follows from the interval
 * alone: met when its upper end is below 1 + x, not met when its lower end is at or above
 * 1 + x, unresolved when it straddles 1 + x (more pairs, or a quieter machine, would tell).
 */
import { Rng } from '../src/core/rng.js';

export interface PairedRatio {
  /** Pairs the figures came from. */
  n: number;
  /** Median of the per-pair ratios. */
  median: number;
  /** 95% percentile-bootstrap interval of that median. */
  lower: number;
  upper: number;
  /** Share of pairs where B's figure was above A's. */
  aboveOne: number;
}

export type Verdict = 'met' | 'NOT met' | 'unresolved';

export function medianOf(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Value at quantile `q` of sorted numbers (linear between neighbours). */
function quantileSorted(s: Float64Array, q: number): number {
  const at = q * (s.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

/**
 * Median of `ratios` (one per pair) with its 95% percentile-bootstrap interval
 * (`resamples` resamples of the pairs, seeded by `seed`).
 */
export function pairedRatio(ratios: readonly number[], resamples = 10_000, seed = 42): PairedRatio {
  const xs = ratios.filter((x) => Number.isFinite(x));
  const n = xs.length;
  if (n === 0) return { n: 0, median: NaN, lower: NaN, upper: NaN, aboveOne: NaN };
  const rng = new Rng(seed);
  const meds = new Float64Array(resamples);
  const draw = new Array<number>(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) draw[i] = xs[rng.int(n)];
    meds[b] = medianOf(draw);
  }
  meds.sort();
  return {
    n,
    median: medianOf(xs),
    lower: quantileSorted(meds, 0.025),
    upper: quantileSorted(meds, 0.975),
    aboveOne: xs.filter((x) => x > 1).length / n,
  };
}

/** The verdict on "B adds less than `added` (0.1 = 10%)" from the interval alone. */
export function verdict(r: PairedRatio, added: number): Verdict {
  if (!(r.n > 0)) return 'unresolved';
  if (r.upper < 1 + added) return 'met';
  if (r.lower >= 1 + added) return 'NOT met';
  return 'unresolved';
}

/** `1.12 (95% CI 1.05-1.20, 30 pairs)` */
export function ratioText(r: PairedRatio): string {
  return `${r.median.toFixed(3)} (95% CI ${r.lower.toFixed(3)}-${r.upper.toFixed(3)}, ${r.n} pairs)`;
}
