/**
 * The catalogue of algorithm names: the feature family each needs and a one-line summary.
 * Deliberately free of imports, so CLI help and validation can list algorithms without
 * loading any model code; src/ml/algorithms.ts pairs each name with its factory.
 */
import { AppError } from '../core/errors.js';

export type Family = 'linear' | 'tree';

export interface AlgorithmInfo {
  /** The feature family the estimator needs; null for an ensemble, whose members each bring their own. */
  family: Family | null;
  summary: string;
}

export const ALGORITHM_CATALOG: Readonly<Record<string, AlgorithmInfo>> = {
  mean: { family: 'linear', summary: 'predicts the training mean (baseline)' },
  linear: { family: 'linear', summary: 'ordinary least squares (QR, ridge fallback)' },
  ridge: { family: 'linear', summary: 'L2-regularised least squares (alpha)' },
  lasso: { family: 'linear', summary: 'L1-regularised least squares (alpha)' },
  elasticnet: { family: 'linear', summary: 'L1+L2 (alpha, l1_ratio)' },
  tree: { family: 'tree', summary: 'one regression tree (CART on histograms)' },
  forest: { family: 'tree', summary: 'random forest (bootstrap, max_features, OOB score)' },
  gbdt: { family: 'tree', summary: 'histogram gradient boosting (XGBoost-style params)' },
  // an ensemble: each member gets its own feature pipeline (bundle/train-bundle.ts memberAlgos)
  blend: {
    family: null,
    summary: 'weighted blend of members (model_trainer.params.blend.members, default ridge,gbdt)',
  },
};

/** Names of every algorithm, sorted. */
export function algorithmNames(): string[] {
  return Object.keys(ALGORITHM_CATALOG).sort();
}

/** The catalogue entry, or a USAGE error listing the choices. */
export function algorithmInfo(algo: string): AlgorithmInfo {
  const a = ALGORITHM_CATALOG[algo];
  if (!a) throw new AppError('USAGE', `unknown algorithm "${algo}"; choose one of: ${algorithmNames().join(', ')}`);
  return a;
}

/** The feature family an estimator needs (USAGE error for an unknown name or an ensemble such as blend). */
export function familyOf(algo: string): Family {
  const { family } = algorithmInfo(algo);
  if (family === null)
    throw new AppError(
      'USAGE',
      `${algo} is an ensemble with no feature family of its own; each of its members (model_trainer.params.${algo}.members) has one`,
    );
  return family;
}

/** One line per algorithm for --help. */
export function describeAlgorithms(): string {
  return algorithmNames()
    .map((n) => `  ${n.padEnd(11)} ${ALGORITHM_CATALOG[n].summary}`)
    .join('\n');
}
