/**
 * The loader registry for saved estimators: one explicit table from each saved `kind` to
 * the format versions it reads and its loader, and `loadEstimator`, which dispatches on
 * {kind, formatVersion}. Unknown kinds and versions are coded errors, never silent
 * misreads. A new estimator adds its row here (no registration by import side effect).
 */
import { AppError } from '../../core/errors.js';
import type { Regressor, SavedEstimator } from '../estimator.js';
import { RandomForestRegressor } from '../forest/random-forest.js';
import { GradientBoostingRegressor } from '../gbt/gradient-boosting.js';
import { ElasticNet } from '../linear/elastic-net.js';
import { Lasso } from '../linear/lasso.js';
import { LinearRegression } from '../linear/linear-regression.js';
import { MeanBaseline } from '../linear/mean-baseline.js';
import { Ridge } from '../linear/ridge.js';
import { DecisionTreeRegressor } from '../tree/regression-tree.js';

export interface EstimatorLoader {
  /** Format versions this loader reads. */
  versions: readonly number[];
  load(saved: SavedEstimator): Regressor;
}

/** Every saved estimator kind carprice reads. */
const LOADERS: Readonly<Record<string, EstimatorLoader>> = {
  mean: { versions: [1], load: (s) => MeanBaseline.fromJSON(s) },
  linear: { versions: [1], load: (s) => LinearRegression.fromJSON(s) },
  ridge: { versions: [1], load: (s) => Ridge.fromJSON(s) },
  lasso: { versions: [1], load: (s) => Lasso.fromJSON(s) },
  elasticnet: { versions: [1], load: (s) => ElasticNet.fromJSON(s) },
  tree: { versions: [1], load: (s) => DecisionTreeRegressor.fromJSON(s) },
  forest: { versions: [1], load: (s) => RandomForestRegressor.fromJSON(s) },
  gbdt: { versions: [1], load: (s) => GradientBoostingRegressor.fromJSON(s) },
};
const loaders = new Map<string, EstimatorLoader>(Object.entries(LOADERS));

/** Rebuild an estimator from its saved JSON. */
export function loadEstimator(saved: unknown): Regressor {
  if (saved === null || typeof saved !== 'object' || typeof (saved as SavedEstimator).kind !== 'string')
    throw new AppError('FORMAT_UNKNOWN', 'saved estimator has no "kind" field; the file is not a carprice model');
  const s = saved as SavedEstimator;
  const loader = loaders.get(s.kind);
  if (!loader)
    throw new AppError(
      'FORMAT_UNKNOWN',
      `unknown estimator kind "${s.kind}" (known: ${[...loaders.keys()].sort().join(', ')}); was it saved by a newer carprice?`,
    );
  if (!loader.versions.includes(s.formatVersion))
    throw new AppError(
      'FORMAT_VERSION',
      `estimator "${s.kind}" has formatVersion ${String(s.formatVersion)}, this carprice reads ${loader.versions.join(', ')}; upgrade carprice or retrain`,
    );
  return loader.load(s);
}

/** Kinds that have a registered loader. */
export function knownEstimatorKinds(): string[] {
  return [...loaders.keys()].sort();
}
