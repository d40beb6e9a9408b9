/**
 * Random forest regressor (kind 'forest'): CART trees on bootstrap samples with a random
 * subset of features tried at each split, averaged. Seeded (random_state, default 42):
 * each tree draws from its own generator forked in order, so the same seed gives the same
 * forest. The out-of-bag R² (each row predicted only by trees that did not see it) is
 * computed during fit when bootstrapping. Params follow scikit-learn's names.
 */
import type { FitOptions, Regressor, SavedEstimator } from '../estimator.js';
import type { Matrix } from '../matrix.js';
import {
  CART_BIN_SEED_SPECS,
  CART_GROWTH_SPECS,
  cartOptionsFromParams,
  fitCart,
  loadCart,
  r2Where,
  saveCart,
  type CartFitted,
} from '../tree/cart.js';
import { importanceByName } from '../tree/feature-importance.js';
import type { DecisionTreeParams } from '../tree/regression-tree.js';
import { checkFitInput, checkPredictInput } from '../tree/fit-checks.js';
import { resolveParams, type ParamSpec, type ResolvedParams } from '../../core/schema.js';
import type { TreeEnsemble } from '../tree/tree-ensemble.js';

/**
 * Hyper-parameters of a random forest: those of its trees (min_samples_split and
 * min_samples_leaf count bootstrap multiplicity; the seed also draws the samples) and these.
 */
export interface RandomForestParams extends DecisionTreeParams {
  /** Number of trees. Default 100. */
  n_estimators?: number;
  /** Draw bootstrap samples (false: every tree sees all rows). Default true. */
  bootstrap?: boolean;
  /** Bootstrap draws as a fraction of the rows. Default 1. */
  max_samples?: number;
}

const SPECS: Record<string, ParamSpec> = {
  n_estimators: { type: 'int', default: 100, min: 1, max: 100000 },
  ...CART_GROWTH_SPECS,
  bootstrap: { type: 'bool', default: true },
  max_samples: { type: 'number', default: 1, min: 0, exclusiveMin: true, max: 1 },
  ...CART_BIN_SEED_SPECS,
};

interface Fitted extends CartFitted {
  oobScore: number;
}

/** Random forest regressor (kind 'forest'). */
export class RandomForestRegressor implements Regressor {
  readonly kind = 'forest';
  private readonly p: ResolvedParams;
  private fitted: Fitted | null = null;
  /** Out-of-bag prediction per training row of the last fit (NaN: row in every bag). Not saved. */
  oobPrediction: Float64Array | null = null;

  /** Throws AppError('USAGE') for unknown params or bad values. */
  constructor(params: RandomForestParams | Record<string, unknown> = {}) {
    this.p = resolveParams('RandomForestRegressor', SPECS, params as Record<string, unknown>, { seed: 'random_state' });
  }

  params(): Record<string, number | string | boolean> {
    return { ...this.p };
  }

  /** Out-of-bag R² of the last fit (NaN without bootstrap). Saved with the model. */
  get oobScore(): number {
    return this.fitted?.oobScore ?? NaN;
  }

  /** The fitted trees (for inspection and tests). */
  get trees(): TreeEnsemble | null {
    return this.fitted?.trees ?? null;
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    checkFitInput('RandomForestRegressor', X, y, options);
    const p = this.p;
    const r = fitCart(
      X,
      y,
      cartOptionsFromParams('RandomForestRegressor', p, X.nCols, options, {
        nTrees: p.n_estimators as number,
        bootstrap: p.bootstrap as boolean,
        maxSamples: p.max_samples as number,
      }),
    );
    this.oobPrediction = r.oobPrediction;
    this.fitted = {
      trees: r.trees,
      columnNames: [...X.columnNames],
      gain: r.gain,
      split: r.split,
      oobScore: r.oobPrediction ? r2Where(y, r.oobPrediction) : NaN,
    };
    return this;
  }

  predict(X: Matrix): Float64Array {
    checkPredictInput('RandomForestRegressor', X, this.fitted?.columnNames ?? null);
    const trees = (this.fitted as Fitted).trees;
    const out = trees.sumInto(X, new Float64Array(X.nRows), 0);
    const k = trees.nTrees;
    for (let i = 0; i < out.length; i++) out[i] /= k;
    return out;
  }

  /** Total SSE reduction ('gain') or number of splits ('split') per feature, over all trees. */
  featureImportance(type: 'gain' | 'split' = 'gain'): Record<string, number> {
    return importanceByName('RandomForestRegressor', this.fitted, type);
  }

  toJSON(): SavedEstimator {
    const f = this.fitted;
    return saveCart('RandomForestRegressor', 'forest', this.params(), f, {
      oobScore: f && Number.isFinite(f.oobScore) ? f.oobScore : null,
    });
  }

  /** Rebuild from `toJSON()` output. */
  static fromJSON(s: SavedEstimator): RandomForestRegressor {
    const m = new RandomForestRegressor(s.params ?? {});
    m.fitted = { ...loadCart('forest', s), oobScore: typeof s.oobScore === 'number' ? s.oobScore : NaN };
    return m;
  }
}
