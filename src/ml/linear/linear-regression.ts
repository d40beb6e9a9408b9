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
 *
 * Wide designs (WIDE_COLUMNS or more active columns, e.g. the ~1,000 one-hot, word and
 * interaction columns of the car features) skip the QR, which costs 2 n p^2 flops (half a
 * minute per fit there), and solve the same problems on the Gram matrix instead, built
 * from the sparse columns in about nnz * p (linalg/gram.ts) and factored in p^3 / 3:
 *  - when the unit-scaled Gram factors with every pivot L_kk^2 >= WELL_CONDITIONED (a
 *    condition number below about 1e4), the normal equations A^T A w = A^T b give the
 *    OLS solution to ~1e-8 (solver 'cholesky');
 *  - when a pivot cancels to rounding noise (exact collinearity: a full one-hot set, a
 *    duplicated column), the same tiny ridge as above, (A^T A + lambda I) w = A^T b
 *    (solver 'cholesky_ridge'); the solution differs from the QR path's only in the
 *    near-null directions, which move predictions by far less than a rupee;
 *  - in between (ill-conditioned but not singular) the QR path runs as for narrow designs.
 */
import type { FitOptions, SavedEstimator } from '../estimator.js';
import { applyQt, householderQr, qrSolve } from '../linalg/householder-qr.js';
import { choleskyInPlace, choleskySolveInPlace } from '../linalg/cholesky.js';
import { centeredCrossProducts } from '../linalg/gram.js';
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
/** Active columns from which the Gram-matrix path is tried first. */
export const WIDE_COLUMNS = 256;
/** Smallest Cholesky pivot L_kk^2 of the unit-scaled Gram trusted for plain OLS. */
const WELL_CONDITIONED = 1e-8;

/**
 * The wide-design path (module comment): OLS or the tiny ridge on the unit-scaled centered
 * Gram matrix of the active columns; null when the design is ill-conditioned but not
 * singular (the caller then runs the QR). Coefficients are returned in original units.
 */
function gramSolve(
  X: Matrix,
  y: Float64Array,
  weights: Float64Array | undefined,
  active: readonly number[],
  cache: FitOptions['crossProducts'],
): {
  w: Float64Array;
  xMean: Float64Array;
  yMean: number;
  solver: 'cholesky' | 'cholesky_ridge';
  minPivot: number;
} | null {
  const p = X.nCols;
  const pa = active.length;
  const cp = cache
    ? cache.centered(X.data, X.nRows, p, y, weights)
    : centeredCrossProducts(X.data, X.nRows, p, y, weights);
  const scale = new Float64Array(pa);
  for (let c = 0; c < pa; c++) scale[c] = Math.sqrt(cp.gram[active[c] * p + active[c]]);
  const g = new Float64Array(pa * pa);
  const q = new Float64Array(pa);
  for (let a = 0; a < pa; a++) {
    const row = active[a] * p;
    for (let b = 0; b < pa; b++) g[a * pa + b] = cp.gram[row + active[b]] / (scale[a] * scale[b]);
    q[a] = cp.xty[active[a]] / scale[a];
  }
  const finish = (z: Float64Array, solver: 'cholesky' | 'cholesky_ridge', minPivot: number) => {
    const w = new Float64Array(pa);
    const xMean = new Float64Array(pa);
    for (let c = 0; c < pa; c++) {
      w[c] = z[c] / scale[c];
      xMean[c] = cp.xMean[active[c]];
    }
    return { w, xMean, yMean: cp.yMean, solver, minPivot };
  };
  const l = Float64Array.from(g);
  if (choleskyInPlace(l, pa)) {
    let minPivot = Infinity;
    for (let k = 0; k < pa; k++) minPivot = Math.min(minPivot, l[k * pa + k] ** 2);
    if (minPivot >= WELL_CONDITIONED)
      return finish(choleskySolveInPlace(l, pa, Float64Array.from(q)), 'cholesky', minPivot);
    return null;
  }
  // a pivot cancelled to rounding noise: exactly collinear columns -> the tiny ridge
  l.set(g);
  for (let k = 0; k < pa; k++) l[k * pa + k] += FALLBACK_RIDGE;
  if (!choleskyInPlace(l, pa)) return null;
  return finish(choleskySolveInPlace(l, pa, Float64Array.from(q)), 'cholesky_ridge', 0);
}

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
    const viaGram = pa >= WIDE_COLUMNS ? gramSolve(X, y, w, active, options.crossProducts) : null;
    if (viaGram) {
      for (let c = 0; c < pa; c++) coef[active[c]] = viaGram.w[c];
      fitInfo.solver = viaGram.solver;
      fitInfo.rank = viaGram.solver === 'cholesky' ? pa : 0;
      fitInfo.min_pivot = viaGram.minPivot;
      if (viaGram.solver === 'cholesky_ridge') fitInfo.ridge_lambda = FALLBACK_RIDGE;
      let intercept = viaGram.yMean;
      for (let c = 0; c < pa; c++) intercept -= viaGram.w[c] * viaGram.xMean[c];
      return { columnNames: [...X.columnNames], coef, intercept, fitInfo };
    }
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
