/**
 * Paired bootstrap confidence interval of a difference in mean error between two models
 * scored on the same rows. Pairing matters: both models find the same rare luxury cars
 * hard, so the row-by-row difference varies far less than either error, and a real
 * difference shows up with a few hundred test rows where comparing two separate means
 * would not.
 *
 * Worked example: challenger errors [3, 5, 4], champion errors [2, 5, 2] -> differences
 * [1, 0, 2], mean 1. Each resample draws 3 row indices with replacement (the same rows
 * for both models) and takes the mean difference; the 2.5th and 97.5th percentiles of
 * those means are the 95% interval. An interval entirely above 0 means the challenger is
 * significantly worse.
 */
import { AppError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

export interface BootstrapOptions {
  resamples: number;
  /** e.g. 0.95 */
  confidence: number;
  seed: number;
}

export interface DifferenceInterval {
  /** mean(a - b) on the rows as they are. */
  mean: number;
  lower: number;
  upper: number;
  confidence: number;
  resamples: number;
}

/** Percentile interval of mean(a[i] - b[i]) over `resamples` paired resamples of the rows. */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, o: BootstrapOptions): DifferenceInterval {
  const n = a.length;
  if (n !== b.length || n === 0)
    throw new AppError(
      'MODEL_INVALID',
      `paired bootstrap needs two equally long, non-empty error lists, got ${a.length} and ${b.length}`,
    );
  const d = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) total += d[i] = a[i] - b[i];
  const rng = new Rng(o.seed);
  const means = new Float64Array(o.resamples);
  for (let r = 0; r < o.resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  const tail = (1 - o.confidence) / 2;
  const at = (q: number) => means[Math.min(o.resamples - 1, Math.max(0, Math.round(q * (o.resamples - 1))))];
  return { mean: total / n, lower: at(tail), upper: at(1 - tail), confidence: o.confidence, resamples: o.resamples };
}
