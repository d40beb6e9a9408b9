/**
 * The algorithm factories: each name of the catalogue (algorithm-catalog.ts) paired with
 * the estimator it builds (saved estimators load through format/registry.ts).
 */
import { AppError } from '../core/errors.js';
import type { Regressor } from './estimator.js';
import { algorithmInfo } from './algorithm-catalog.js';
import { createLinear } from './linear/index.js';
import { DecisionTreeRegressor } from './tree/index.js';
import { RandomForestRegressor } from './forest/index.js';
import { GradientBoostingRegressor } from './gbt/index.js';

export { algorithmNames, describeAlgorithms, familyOf, type Family } from './algorithm-catalog.js';

const FACTORIES: Record<string, (params: Record<string, unknown>) => Regressor> = {
  mean: (p) => createLinear('mean', p),
  linear: (p) => createLinear('linear', p),
  ridge: (p) => createLinear('ridge', p),
  lasso: (p) => createLinear('lasso', p),
  elasticnet: (p) => createLinear('elasticnet', p),
  tree: (p) => new DecisionTreeRegressor(p),
  forest: (p) => new RandomForestRegressor(p),
  gbdt: (p) => new GradientBoostingRegressor(p),
  blend: () => {
    throw new AppError(
      'USAGE',
      'blend is a combination of algorithms, trained through the model bundle (carprice train --algo blend)',
    );
  },
};

/** A new, unfitted estimator; bad params are a USAGE error naming the param. */
export function createEstimator(algo: string, params: Record<string, unknown> = {}): Regressor {
  algorithmInfo(algo);
  return FACTORIES[algo](params);
}
