/**
 * Prediction intervals by split-conformal calibration. At training time the members are
 * fitted on a seeded 85% of the training rows and predict the other 15% (the held-out rows
 * that also choose a blend's weight); the absolute residuals there, in the model's target
 * space (log1p of the price by default), give the half-width q of the interval:
 *
 *   q = the k-th smallest of the n held-out |z - ẑ|, k = ceil((n + 1) * level)
 *
 * and a new listing's interval is [inv(ẑ - q), inv(ẑ + q)] (inv = expm1 for a log target,
 * so the interval is a multiplicative band around the price, wider in rupees for dearer
 * cars). For exchangeable listings the true price falls inside with probability >= level.
 * Worked example: n = 9 residuals 0.01..0.09, level 0.8 -> k = ceil(10 * 0.8) = 8 -> q = 0.08.
 */
import { AppError } from '../core/errors.js';
import type { TargetTransformName } from '../features/target-transform.js';

/** Saved in the bundle (formatVersion 2). */
export interface Calibration {
  method: 'split-conformal';
  /** Nominal coverage, e.g. 0.9. */
  level: number;
  /** Half-width of the interval in target space. */
  quantile: number;
  /** Number of held-out residuals it was computed from. */
  residuals: number;
}

/** A price range holding the true price with probability `level` (split-conformal). */
export interface PredictionInterval {
  lower: number;
  upper: number;
  level: number;
}

/** The split-conformal half-width for `level` from absolute held-out residuals. */
export function conformalQuantile(absResiduals: ArrayLike<number>, level: number): number {
  const n = absResiduals.length;
  if (!(level > 0 && level < 1))
    throw new AppError('USAGE', `interval level must be between 0 and 1 (exclusive), got ${level}`);
  if (n === 0) throw new AppError('DATA_EMPTY', 'no held-out residuals to calibrate prediction intervals on');
  const k = Math.ceil((n + 1) * level);
  const sorted = Float64Array.from(absResiduals).sort();
  // too few residuals for the level (k > n): the largest, rather than an infinite width
  return sorted[Math.min(k, n) - 1];
}

/** Calibration from held-out targets and predictions (target space). */
export function calibrate(z: ArrayLike<number>, zHat: ArrayLike<number>, level: number): Calibration {
  const r = new Float64Array(z.length);
  for (let i = 0; i < r.length; i++) r[i] = Math.abs(z[i] - zHat[i]);
  return { method: 'split-conformal', level, quantile: conformalQuantile(r, level), residuals: r.length };
}

/** The interval around a prediction `zHat` in target space, as prices (lower never below 0). */
export function intervalOf(zHat: number, c: Calibration, transform: TargetTransformName): PredictionInterval {
  const lo = zHat - c.quantile;
  const hi = zHat + c.quantile;
  return transform === 'log1p'
    ? { lower: Math.max(0, Math.expm1(lo)), upper: Math.expm1(hi), level: c.level }
    : { lower: Math.max(0, lo), upper: hi, level: c.level };
}

/** Read a saved calibration (absent = null); a malformed one is FORMAT_UNKNOWN naming the field. */
export function parseCalibration(x: unknown, where: string): Calibration | null {
  if (x === undefined || x === null) return null;
  const c = x as Partial<Calibration>;
  const bad = (what: string) =>
    new AppError(
      'FORMAT_UNKNOWN',
      `${where} is damaged (calibration.${what}); retrain the model or restore it from the registry`,
    );
  if (typeof c !== 'object' || Array.isArray(c)) throw bad('(root): expected an object');
  if (c.method !== 'split-conformal') throw bad(`method: expected "split-conformal", got ${JSON.stringify(c.method)}`);
  if (typeof c.level !== 'number' || !(c.level > 0 && c.level < 1))
    throw bad(`level: expected a number between 0 and 1, got ${JSON.stringify(c.level)}`);
  if (typeof c.quantile !== 'number' || !(c.quantile >= 0))
    throw bad(`quantile: expected a number >= 0, got ${JSON.stringify(c.quantile)}`);
  if (typeof c.residuals !== 'number' || !Number.isInteger(c.residuals) || c.residuals < 1)
    throw bad(`residuals: expected a count >= 1, got ${JSON.stringify(c.residuals)}`);
  return { method: 'split-conformal', level: c.level, quantile: c.quantile, residuals: c.residuals };
}
