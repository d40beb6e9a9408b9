/**
 * ElasticNet (kind 'elasticnet'): scikit-learn's objective
 * (1/(2n)) ||y - X w - b||² + alpha l1_ratio ||w||_1 + 0.5 alpha (1 - l1_ratio) ||w||²,
 * solved by cyclic coordinate descent on the Gram matrix (see coordinate-descent.ts).
 * Defaults as scikit-learn: alpha 1, l1_ratio 0.5, max_iter 1000, tol 1e-4.
 */
import type { FitOptions, SavedEstimator } from '../estimator.js';
import type { Matrix } from '../matrix.js';
import { fitElasticNetState } from './coordinate-descent.js';
import { LinearModel, parseSavedLinear, type LinearState } from './linear-model.js';
import { resolveParams } from '../../core/schema.js';

/** ElasticNet's hyper-parameters. */
export const ELASTIC_NET_PARAMS = {
  alpha: { type: 'number', default: 1, min: 0 },
  l1_ratio: { type: 'number', default: 0.5, min: 0, max: 1 },
  max_iter: { type: 'int', default: 1000, min: 1 },
  tol: { type: 'number', default: 1e-4, min: 0, exclusiveMin: true },
} as const;

/** Options of {@link ElasticNet} (scikit-learn's names). */
export interface ElasticNetOptions {
  alpha?: number;
  l1_ratio?: number;
  max_iter?: number;
  tol?: number;
}

/** L1 + L2 penalised least squares with an unpenalised intercept. */
export class ElasticNet extends LinearModel {
  readonly kind = 'elasticnet';
  readonly alpha: number;
  readonly l1Ratio: number;
  readonly maxIter: number;
  readonly tol: number;

  constructor(options: ElasticNetOptions | Record<string, unknown> = {}) {
    super();
    const p = resolveParams('elasticnet', ELASTIC_NET_PARAMS, options as Record<string, unknown>);
    this.alpha = p.alpha;
    this.l1Ratio = p.l1_ratio;
    this.maxIter = p.max_iter;
    this.tol = p.tol;
  }

  params(): Record<string, number> {
    return { alpha: this.alpha, l1_ratio: this.l1Ratio, max_iter: this.maxIter, tol: this.tol };
  }

  protected fitState(X: Matrix, y: Float64Array, options: FitOptions): LinearState {
    return fitElasticNetState(this.kind, X, y, options, this);
  }

  /** Rebuild from {@link LinearModel.toJSON} output. */
  static fromJSON(saved: SavedEstimator): ElasticNet {
    const { params, state } = parseSavedLinear(saved);
    return new ElasticNet(params).restore(state);
  }
}
