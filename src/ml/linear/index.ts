/**
 * The linear models (OLS, Ridge, Lasso, ElasticNet, mean baseline) and `createLinear`, the
 * factory that builds one from an algorithm name and untrusted params (params.yaml, CLI).
 * Importing this module registers every linear kind with the estimator loader registry.
 */
import { AppError } from '../../core/errors.js';
import { ElasticNet } from './elastic-net.js';
import { Lasso } from './lasso.js';
import { LinearRegression } from './linear-regression.js';
import type { LinearModel } from './linear-model.js';
import { MeanBaseline } from './mean-baseline.js';
import { Ridge } from './ridge.js';

export { ElasticNet, ELASTIC_NET_PARAMS, type ElasticNetOptions } from './elastic-net.js';
export { Lasso, LASSO_PARAMS, type LassoOptions } from './lasso.js';
export { LinearRegression, LINEAR_REGRESSION_PARAMS } from './linear-regression.js';
export { LinearModel, type LinearState, type SavedLinearModel } from './linear-model.js';
export { MeanBaseline, type SavedMeanBaseline } from './mean-baseline.js';
export { Ridge, RIDGE_PARAMS, solveRidgeNormalEquations, type RidgeOptions } from './ridge.js';
export { coordinateDescentGram, type CoordinateDescentResult } from './coordinate-descent.js';

/** The algorithm names `createLinear` accepts (each is also the saved kind). */
export const LINEAR_ALGORITHMS = ['elasticnet', 'lasso', 'linear', 'mean', 'ridge'] as const;

/** One of {@link LINEAR_ALGORITHMS}. */
export type LinearAlgorithm = (typeof LINEAR_ALGORITHMS)[number];

/**
 * Build an unfitted linear model. Unknown algorithm, unknown param names and bad values
 * throw AppError('USAGE') naming the param and the allowed names and range.
 *
 * @example createLinear('ridge', { alpha: 10 }); createLinear('elasticnet', { alpha: 0.1, l1_ratio: 0.7 })
 */
export function createLinear(algo: string, params: Record<string, unknown> = {}): LinearModel | MeanBaseline {
  switch (algo) {
    case 'linear':
      return new LinearRegression(params);
    case 'ridge':
      return new Ridge(params);
    case 'lasso':
      return new Lasso(params);
    case 'elasticnet':
      return new ElasticNet(params);
    case 'mean':
      return new MeanBaseline(params);
    default:
      throw new AppError('USAGE', `unknown linear algorithm "${algo}" (allowed: ${LINEAR_ALGORITHMS.join(', ')})`, {
        details: { algo },
      });
  }
}
