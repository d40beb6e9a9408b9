/**
 * Ridge regression (kind 'ridge') with scikit-learn's semantics: minimise
 * ||y - X w - b||² + alpha ||w||² (sample-weighted when weights are given), intercept b
 * not penalised. Solved on the centered Gram matrix: (Xc^T Xc + alpha I) w = Xc^T yc by
 * Cholesky, then b = mean(y) - mean(X) w.
 *
 * When the factorisation fails (alpha = 0 on a singular design, or alpha negligible
 * against huge column scales), it retries with alpha + 1e-8 * trace(Xc^T Xc) / p and
 * records `ridge_jitter` in fitInfo, so the coefficients stay finite.
 */
import { AppError } from '../../core/errors.js';
import type { FitOptions, SavedEstimator } from '../estimator.js';
import { choleskyInPlace, choleskySolveInPlace } from '../linalg/cholesky.js';
import { centeredCrossProducts } from '../linalg/gram.js';
import type { Matrix } from '../matrix.js';
import { checkFitInput } from './fit-input.js';
import { LinearModel, parseSavedLinear, type LinearState } from './linear-model.js';
import { resolveParams } from '../../core/schema.js';

/** Ridge's hyper-parameters: alpha >= 0 (default 1, as scikit-learn). */
export const RIDGE_PARAMS = { alpha: { type: 'number', default: 1, min: 0 } } as const;

/** Options of {@link Ridge}. */
export interface RidgeOptions {
  alpha?: number;
}

/**
 * Solve (G + alpha I) w = q for a centered Gram matrix G (p x p), retrying with a small
 * jitter when the factorisation fails. Returns the solution and the jitter used (0 if none).
 */
export function solveRidgeNormalEquations(
  gram: Float64Array,
  xty: Float64Array,
  p: number,
  alpha: number,
): { w: Float64Array; jitter: number } {
  let trace = 0;
  for (let j = 0; j < p; j++) trace += gram[j * p + j];
  if (p === 0 || trace === 0) return { w: new Float64Array(p), jitter: 0 };
  for (const jitter of [0, 1e-8 * (trace / p), 1e-6 * (trace / p)]) {
    const l = Float64Array.from(gram);
    for (let j = 0; j < p; j++) l[j * p + j] += alpha + jitter;
    if (choleskyInPlace(l, p)) return { w: choleskySolveInPlace(l, p, Float64Array.from(xty)), jitter };
  }
  throw new AppError(
    'NUMERIC',
    `ridge: the normal equations could not be factored even with a jitter of 1e-6 * trace / p; check the input for extreme values`,
  );
}

/** L2-penalised least squares with an unpenalised intercept. */
export class Ridge extends LinearModel {
  readonly kind = 'ridge';
  readonly alpha: number;

  constructor(options: RidgeOptions | Record<string, unknown> = {}) {
    super();
    this.alpha = resolveParams('ridge', RIDGE_PARAMS, options as Record<string, unknown>).alpha;
  }

  params(): Record<string, number> {
    return { alpha: this.alpha };
  }

  protected fitState(X: Matrix, y: Float64Array, options: FitOptions): LinearState {
    const weights = options.sampleWeight;
    checkFitInput(this.kind, X, y, weights);
    const p = X.nCols;
    const cp = (options.crossProducts?.centered.bind(options.crossProducts) ?? centeredCrossProducts)(
      X.data,
      X.nRows,
      p,
      y,
      weights,
    );
    const { w, jitter } = solveRidgeNormalEquations(cp.gram, cp.xty, p, this.alpha);
    let intercept = cp.yMean;
    for (let j = 0; j < p; j++) intercept -= w[j] * cp.xMean[j];
    const fitInfo: Record<string, number | string | boolean> = { solver: 'cholesky' };
    if (jitter) fitInfo.ridge_jitter = jitter;
    return { columnNames: [...X.columnNames], coef: w, intercept, fitInfo };
  }

  /** Rebuild from {@link LinearModel.toJSON} output. */
  static fromJSON(saved: SavedEstimator): Ridge {
    const { params, state } = parseSavedLinear(saved);
    return new Ridge(params).restore(state);
  }
}
