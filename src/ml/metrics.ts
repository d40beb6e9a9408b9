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

/**
 * Every metric of `regressionMetrics`, accumulated a row at a time: `evaluate --data` scores
 * a file of any size without keeping its prices. Memory is constant for r2 (the spread of
 * the true values by Welford's update, one pass), rmse, mse, mae, mape and within10; the
 * median (medape) needs every relative error, so it keeps one float64 per row with
 * yTrue != 0 (8 bytes per listing).
 */
export class RegressionAccumulator {
  private count = 0;
  private mean = 0;
  private ssTot = 0;
  private ssRes = 0;
  private absErr = 0;
  private hits = 0;
  private relSum = 0;
  private rel = new Float64Array(1024);
  private nRel = 0;

  get n(): number {
    return this.count;
  }

  /** Add one row; a non-finite value fails with MODEL_INVALID naming `row`. */
  add(yTrue: number, yPred: number, row = this.count): void {
    if (!Number.isFinite(yTrue))
      throw new AppError('MODEL_INVALID', `metrics: true value at row ${row} is ${yTrue}`, { details: { row } });
    if (!Number.isFinite(yPred))
      throw new AppError(
        'MODEL_INVALID',
        `metrics: prediction at row ${row} is ${yPred}; the model produced a non-finite value`,
        { details: { row } },
      );
    this.count++;
    const d = yTrue - this.mean;
    this.mean += d / this.count;
    this.ssTot += d * (yTrue - this.mean);
    const e = yPred - yTrue;
    this.ssRes += e * e;
    this.absErr += Math.abs(e);
    if (Math.abs(e) <= 0.1 * Math.abs(yTrue)) this.hits++;
    if (yTrue !== 0) {
      const r = Math.abs(e) / Math.abs(yTrue);
      this.relSum += r;
      if (this.nRel === this.rel.length) {
        const grown = new Float64Array(this.rel.length * 2);
        grown.set(this.rel);
        this.rel = grown;
      }
      this.rel[this.nRel++] = r;
    }
  }

  /** The metrics of the rows added so far (MODEL_INVALID when there are none). */
  result(): RegressionMetrics {
    const n = this.count;
    if (n === 0) throw new AppError('MODEL_INVALID', 'metrics: no rows to score; the evaluation set is empty');
    const m = this.ssRes / n;
    const k = this.nRel;
    const r = this.rel.subarray(0, k).sort();
    return {
      // as scikit-learn (force_finite): constant yTrue gives 1 for a perfect prediction, else 0
      r2: this.ssTot === 0 ? (this.ssRes === 0 ? 1 : 0) : 1 - this.ssRes / this.ssTot,
      rmse: Math.sqrt(m),
      mae: this.absErr / n,
      mse: m,
      mape: k === 0 ? NaN : this.relSum / k,
      medape: k === 0 ? NaN : k % 2 ? r[(k - 1) / 2] : (r[k / 2 - 1] + r[k / 2]) / 2,
      within10: this.hits / n,
      n,
    };
  }
}

/** Every metric at once. Length mismatch, no rows or non-finite values: AppError('MODEL_INVALID'). */
export function regressionMetrics(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): RegressionMetrics {
  const n = check(yTrue, yPred);
  const acc = new RegressionAccumulator();
  for (let i = 0; i < n; i++) acc.add(yTrue[i], yPred[i], i);
  return acc.result();
}
