/**
 * Lasso (kind 'lasso'): scikit-learn's objective (1/(2n)) ||y - X w - b||² + alpha ||w||_1,
 * i.e. the elastic net at l1_ratio 1, solved by cyclic coordinate descent on the Gram
 * matrix (see coordinate-descent.ts). Defaults as scikit-learn: alpha 1, max_iter 1000,
 * tol 1e-4.
 */
import type { FitOptions, SavedEstimator } from '../estimator.js';
import type { Matrix } from '../matrix.js';
import { fitElasticNetState } from './coordinate-descent.js';
import { LinearModel, parseSavedLinear, type LinearState } from './linear-model.js';
import { resolveParams } from '../../core/schema.js';

/** Lasso's hyper-parameters. */
export const LASSO_PARAMS = {
  alpha: { type: 'number', default: 1, min: 0 },
  max_iter: { type: 'int', default: 1000, min: 1 },
  tol: { type: 'number', default: 1e-4, min: 0, exclusiveMin: true },
} as const;

/** Options of {@link Lasso} (scikit-learn's names). */
export interface LassoOptions {
  alpha?: number;
  max_iter?: number;
  tol?: number;
}

/** L1-penalised least squares with an unpenalised intercept. */
export class Lasso extends LinearModel {
  readonly kind = 'lasso';
  readonly alpha: number;
  readonly maxIter: number;
  readonly tol: number;

  constructor(options: LassoOptions | Record<string, unknown> = {}) {
    super();
    const p = resolveParams('lasso', LASSO_PARAMS, options as Record<string, unknown>);
    this.alpha = p.alpha;
    this.maxIter = p.max_iter;
    this.tol = p.tol;
  }

  params(): Record<string, number> {
    return { alpha: this.alpha, max_iter: this.maxIter, tol: this.tol };
  }

  protected fitState(X: Matrix, y: Float64Array, options: FitOptions): LinearState {
    return fitElasticNetState(this.kind, X, y, options, {
      alpha: this.alpha,
      l1Ratio: 1,
      maxIter: this.maxIter,
      tol: this.tol,
    });
  }

  /** Rebuild from {@link LinearModel.toJSON} output. */
  static fromJSON(saved: SavedEstimator): Lasso {
    const { params, state } = parseSavedLinear(saved);
    return new Lasso(params).restore(state);
  }
}
