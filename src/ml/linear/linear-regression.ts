/**
 * Ordinary least squares with an intercept (kind 'linear'), solved so that coefficients
 * never explode.
 *
 * The original project's plain OLS scored R² = -2e11 on one-hot data: exact collinearity
 * (dummy sets, duplicated columns) broken only by rounding left singular values of 1e-13,
 * and the solver divided by them. Here:
 *  1. X and y are centered (weighted), which takes the intercept out of the problem;
 *  2. constant columns (all zeros included) are dropped, their coefficient is 0;
 *  3. the remaining columns are scaled to unit norm, so the condition check below does
 *     not depend on units (km against years);
 *  4. a Householder QR with column pivoting, A P = Q R, solves min ||A w - b||. If the
 *     smallest |R_kk| / |R_00| is below 1e-8 (rank deficient, or condition estimate
 *     above 1e8), the solve is redone as a tiny ridge, lambda = 1e-8 * trace(A^T A) / p
 *     (= 1e-8 for unit columns): min ||R z - Q^T b||² + lambda ||z||², by a second QR of
 *     the stacked (2p x p) matrix [R; sqrt(lambda) I], which is full rank and never forms
 *     A^T A. Duplicated columns then share their coefficient equally.
 * `fitInfo` records which path ran: solver 'qr' or 'qr_ridge', rank, min_diag_ratio.
 */
import type { FitOptions, SavedEstimator } from '../estimator.js';
import { applyQt, householderQr, qrSolve } from '../linalg/householder-qr.js';
import type { Matrix } from '../matrix.js';
import { checkFitInput } from './fit-input.js';
import { LinearModel, parseSavedLinear, type LinearState } from './linear-model.js';
import { resolveParams, type ParamSpec } from '../../core/schema.js';

/** LinearRegression has no hyper-parameters. */
export const LINEAR_REGRESSION_PARAMS: Readonly<Record<string, ParamSpec>> = {};

/** Smallest accepted |R_kk| / |R_00| before falling back to the tiny ridge. */
const MIN_DIAG_RATIO = 1e-8;
/** Ridge fallback strength relative to trace(A^T A) / p. */
const FALLBACK_RIDGE = 1e-8;

/** Ordinary least squares with intercept (see the module comment for the safeguards). */
export class LinearRegression extends LinearModel {
  readonly kind = 'linear';

  constructor(params: Record<string, unknown> = {}) {
    super();
    resolveParams('linear', LINEAR_REGRESSION_PARAMS, params);
  }

  params(): Record<string, number> {
    return {};
  }

  protected fitState(X: Matrix, y: Float64Array, options: FitOptions): LinearState {
    const w = options.sampleWeight;
    checkFitInput(this.kind, X, y, w);
    const { nRows: n, nCols: p, data } = X;

    // weighted means
    let sw = 0;
    let yMean = 0;
    const xMean = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      const wi = w ? w[i] : 1;
      sw += wi;
      yMean += wi * y[i];
      const base = i * p;
      for (let j = 0; j < p; j++) xMean[j] += wi * data[base + j];
    }
    yMean /= sw;
    for (let j = 0; j < p; j++) xMean[j] /= sw;

    // active = not constant over the rows that carry weight
    const first = new Float64Array(p).fill(NaN);
    const constant = new Uint8Array(p).fill(1);
    for (let i = 0; i < n; i++) {
      if (w && w[i] === 0) continue;
      const base = i * p;
      for (let j = 0; j < p; j++) {
        const v = data[base + j];
        if (Number.isNaN(first[j])) first[j] = v;
        else if (v !== first[j]) constant[j] = 0;
      }
    }
    const active: number[] = [];
    for (let j = 0; j < p; j++) if (!constant[j]) active.push(j);
    const pa = active.length;

    const coef = new Float64Array(p);
    const fitInfo: Record<string, number | string | boolean> = { solver: 'qr', rank: 0, dropped_constant: p - pa };
    if (pa > 0) {
      // column-major A = sqrt(w) (X - mean) / scale, b = sqrt(w) (y - yMean)
      const sq = new Float64Array(n);
      for (let i = 0; i < n; i++) sq[i] = w ? Math.sqrt(w[i]) : 1;
      const a = new Float64Array(n * pa);
      const scale = new Float64Array(pa);
      for (let c = 0; c < pa; c++) {
        const j = active[c];
        const off = c * n;
        const mj = xMean[j];
        let s2 = 0;
        for (let i = 0; i < n; i++) {
          const v = sq[i] * (data[i * p + j] - mj);
          a[off + i] = v;
          s2 += v * v;
        }
        const s = Math.sqrt(s2);
        scale[c] = s;
        for (let i = 0; i < n; i++) a[off + i] /= s;
      }
      const b = new Float64Array(n);
      for (let i = 0; i < n; i++) b[i] = sq[i] * (y[i] - yMean);

      const qr = householderQr(a, n, pa, { pivot: true, inPlace: true });
      let ws: Float64Array;
      if (qr.rank === pa && qr.minDiagRatio >= MIN_DIAG_RATIO) {
        ws = qrSolve(qr, b);
      } else {
        // A P = Q R, so ||A w - b||² + lambda ||w||² = ||R z - c||² + lambda ||z||² + const
        // with z = P^T w and c = (Q^T b)[0..pa): a (2pa x pa) problem, never n x pa again.
        const lambda = FALLBACK_RIDGE; // trace(A^T A) / pa = 1 for unit-norm columns
        const c = applyQt(qr, Float64Array.from(b));
        const m = 2 * pa;
        const aug = new Float64Array(m * pa);
        const rootLambda = Math.sqrt(lambda);
        for (let k = 0; k < pa; k++) {
          for (let i = 0; i <= k; i++) aug[k * m + i] = qr.qr[k * n + i];
          aug[k * m + pa + k] = rootLambda;
        }
        const bAug = new Float64Array(m);
        bAug.set(c.subarray(0, pa));
        const z = qrSolve(householderQr(aug, m, pa, { pivot: false, inPlace: true }), bAug);
        ws = new Float64Array(pa);
        for (let k = 0; k < pa; k++) ws[qr.perm[k]] = z[k];
        fitInfo.solver = 'qr_ridge';
        fitInfo.ridge_lambda = lambda;
      }
      fitInfo.min_diag_ratio = qr.minDiagRatio;
      fitInfo.rank = qr.rank;
      for (let c = 0; c < pa; c++) coef[active[c]] = ws[c] / scale[c];
    }
    let intercept = yMean;
    for (let j = 0; j < p; j++) intercept -= coef[j] * xMean[j];
    return { columnNames: [...X.columnNames], coef, intercept, fitInfo };
  }

  /** Rebuild from {@link LinearModel.toJSON} output. */
  static fromJSON(saved: SavedEstimator): LinearRegression {
    const { params, state } = parseSavedLinear(saved);
    return new LinearRegression(params).restore(state);
  }
}
