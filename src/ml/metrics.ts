/**
 * Regression metrics for price models. Percentage-style metrics (mape, medape, within10)
 * are FRACTIONS (0.12 means 12 %), not percentages.
 *
 * Worked example: yTrue = [100, 200, 300, 400], yPred = [110, 190, 360, 400]:
 * errors 10, -10, 60, 0 -> mae = 20, mse = 950, rmse = 30.82; mean(yTrue) = 250, total
 * sum of squares 50000, so r2 = 1 - 3800 / 50000 = 0.924; relative errors 0.1, 0.05, 0.2,
 * 0 -> mape = 0.0875, medape = (0.05 + 0.1) / 2 = 0.075, within10 = 3 / 4 (the 10 % row
 * counts: the bound is inclusive).
 */
import { AppError } from '../core/errors.js';

/** All metrics `regressionMetrics` reports. */
export interface RegressionMetrics {
  r2: number;
  rmse: number;
  mae: number;
  mse: number;
  /** Mean absolute percentage error, as a fraction, over rows with yTrue != 0 (NaN if none). */
  mape: number;
  /** Median absolute percentage error, as a fraction, over rows with yTrue != 0 (NaN if none). */
  medape: number;
  /** Share of rows with |yPred - yTrue| <= 0.1 |yTrue| (a fraction). */
  within10: number;
  /** Number of rows. */
  n: number;
}

function check(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  if (yTrue.length !== yPred.length)
    throw new AppError(
      'MODEL_INVALID',
      `metrics: ${yTrue.length} true values but ${yPred.length} predictions; they must pair up row by row`,
    );
  if (yTrue.length === 0) throw new AppError('MODEL_INVALID', 'metrics: no rows to score; the evaluation set is empty');
  for (let i = 0; i < yTrue.length; i++) {
    if (!Number.isFinite(yTrue[i]))
      throw new AppError('MODEL_INVALID', `metrics: true value at row ${i} is ${yTrue[i]}`, { details: { row: i } });
    if (!Number.isFinite(yPred[i]))
      throw new AppError(
        'MODEL_INVALID',
        `metrics: prediction at row ${i} is ${yPred[i]}; the model produced a non-finite value`,
        {
          details: { row: i },
        },
      );
  }
  return yTrue.length;
}

/** Mean squared error. */
export function mse(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const n = check(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = yPred[i] - yTrue[i];
    s += e * e;
  }
  return s / n;
}

/** Root mean squared error. */
export function rmse(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  return Math.sqrt(mse(yTrue, yPred));
}

/** Mean absolute error. */
export function mae(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const n = check(yTrue, yPred);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.abs(yPred[i] - yTrue[i]);
  return s / n;
}

/**
 * Coefficient of determination 1 - SS_res / SS_tot. As scikit-learn (force_finite): when
 * yTrue is constant, 1 for a perfect prediction and 0 otherwise.
 */
export function r2(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const n = check(yTrue, yPred);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i];
  mean /= n;
  let ssRes = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    const e = yTrue[i] - yPred[i];
    const d = yTrue[i] - mean;
    ssRes += e * e;
    ssTot += d * d;
  }
  if (ssTot === 0) return ssRes === 0 ? 1 : 0;
  return 1 - ssRes / ssTot;
}

function relativeErrors(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): Float64Array {
  const n = check(yTrue, yPred);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (yTrue[i] !== 0) out.push(Math.abs(yPred[i] - yTrue[i]) / Math.abs(yTrue[i]));
  return Float64Array.from(out);
}

/** Mean absolute percentage error as a fraction; rows with yTrue = 0 are skipped (NaN if all are). */
export function mape(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const r = relativeErrors(yTrue, yPred);
  if (r.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < r.length; i++) s += r[i];
  return s / r.length;
}

/** Median absolute percentage error as a fraction; rows with yTrue = 0 are skipped (NaN if all are). */
export function medape(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const r = relativeErrors(yTrue, yPred).sort();
  const k = r.length;
  if (k === 0) return NaN;
  return k % 2 ? r[(k - 1) / 2] : (r[k / 2 - 1] + r[k / 2]) / 2;
}

/**
 * Share (fraction) of rows predicted within 10 % of the true value: |yPred - yTrue| <=
 * 0.1 |yTrue|. A row with yTrue = 0 counts only when predicted exactly 0.
 */
export function within10(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  const n = check(yTrue, yPred);
  let hits = 0;
  for (let i = 0; i < n; i++) if (Math.abs(yPred[i] - yTrue[i]) <= 0.1 * Math.abs(yTrue[i])) hits++;
  return hits / n;
}

/** Every metric at once. Length mismatch, no rows or non-finite values: AppError('MODEL_INVALID'). */
export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  const n = check(yTrue, yPred);
  const m = mse(yTrue, yPred);
  return {
    r2: r2(yTrue, yPred),
    rmse: Math.sqrt(m),
    mae: mae(yTrue, yPred),
    mse: m,
    mape: mape(yTrue, yPred),
    medape: medape(yTrue, yPred),
    within10: within10(yTrue, yPred),
    n,
  };
}
