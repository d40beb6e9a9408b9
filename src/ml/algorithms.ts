/**
 * The algorithm table: every trainable algorithm by name, the feature family it wants
 * (linear models need imputed, one-hot, scaled inputs; trees take raw values and category
 * codes), and a factory. Importing this module registers every estimator loader.
 */
import { AppError } from '../core/errors.js';
import type { Regressor } from './estimator.js';
import { createLinear } from './linear/index.js';
import { DecisionTreeRegressor } from './tree/index.js';
import { RandomForestRegressor } from './forest/index.js';
import { GradientBoostingRegressor } from './gbt/index.js';

export type Family = 'linear' | 'tree';

interface Algorithm {
  family: Family;
  create(params: Record<string, unknown>): Regressor;
  summary: string;
}

const ALGORITHMS: Record<string, Algorithm> = {
  mean: { family: 'linear', create: (p) => createLinear('mean', p), summary: 'predicts the training mean (baseline)' },
  linear: { family: 'linear', create: (p) => createLinear('linear', p), summary: 'ordinary least squares (QR, ridge fallback)' },
  ridge: { family: 'linear', create: (p) => createLinear('ridge', p), summary: 'L2-regularised least squares (alpha)' },
  lasso: { family: 'linear', create: (p) => createLinear('lasso', p), summary: 'L1-regularised least squares (alpha)' },
  elasticnet: { family: 'linear', create: (p) => createLinear('elasticnet', p), summary: 'L1+L2 (alpha, l1_ratio)' },
  tree: { family: 'tree', create: (p) => new DecisionTreeRegressor(p), summary: 'one regression tree (CART on histograms)' },
  forest: { family: 'tree', create: (p) => new RandomForestRegressor(p), summary: 'random forest (bootstrap, max_features, OOB score)' },
  gbdt: { family: 'tree', create: (p) => new GradientBoostingRegressor(p), summary: 'histogram gradient boosting (XGBoost-style params)' },
  blend: {
    family: 'linear',
    create: () => {
      throw new AppError('USAGE', 'blend is a combination of algorithms, trained through the model bundle (carprice train --algo blend)');
    },
    summary: 'weighted blend of members (model_trainer.params.blend.members, default ridge,gbdt)',
  },
};

/** Names of every algorithm, sorted. */
export function algorithmNames(): string[] {
  return Object.keys(ALGORITHMS).sort();
}

function lookup(algo: string): Algorithm {
  const a = ALGORITHMS[algo];
  if (!a) throw new AppError('USAGE', `unknown algorithm "${algo}"; choose one of: ${algorithmNames().join(', ')}`);
  return a;
}

/** The feature family an algorithm needs. */
export function familyOf(algo: string): Family {
  return lookup(algo).family;
}

/** A new, unfitted estimator; bad params are a USAGE error naming the param. */
export function createEstimator(algo: string, params: Record<string, unknown> = {}): Regressor {
  return lookup(algo).create(params);
}

/** One line per algorithm for --help. */
export function describeAlgorithms(): string {
  return algorithmNames()
    .map((n) => `  ${n.padEnd(11)} ${ALGORITHMS[n].summary}`)
    .join('\n');
}
