/**
 * A single CART regression tree (kind 'tree') grown on feature histograms: splits
 * minimise the squared error, leaves predict the mean target of their rows, missing
 * values go to the side learned at each split and categorical columns split natively.
 * Params follow scikit-learn's DecisionTreeRegressor names.
 */
import type { FitOptions, Regressor, SavedEstimator } from '../estimator.js';
import type { Matrix } from '../matrix.js';
import {
  CART_BIN_SEED_SPECS,
  CART_GROWTH_SPECS,
  cartOptionsFromParams,
  fitCart,
  loadCart,
  saveCart,
  type CartFitted,
} from './cart.js';
import { importanceByName } from './feature-importance.js';
import { checkFitInput, checkPredictInput } from './fit-checks.js';
import { resolveParams, type ParamSpec, type ResolvedParams } from '../../core/schema.js';
import type { TreeEnsemble } from './tree-ensemble.js';

/** Hyper-parameters of a regression tree. */
export interface DecisionTreeParams {
  /** Maximum depth; 0 or null = unlimited. Default 0. */
  max_depth?: number | null;
  /** Minimum rows (weighted) in a node to split it. Default 2. */
  min_samples_split?: number;
  /** Minimum rows (weighted) in each child. Default 1. */
  min_samples_leaf?: number;
  /** Minimum sum of sample weights in each child. Default 0. */
  min_child_weight?: number;
  /** Maximum leaves; 0 = unlimited (leaves are added breadth first). Default 0. */
  max_leaves?: number;
  /** Features tried per split: fraction (0, 1], count > 1, 'sqrt' or 'log2'. Default 1 (all). */
  max_features?: number | 'sqrt' | 'log2';
  /** Bins per feature including the missing bin, 2..256. Default 256. */
  max_bin?: number;
  /** Seed for feature sampling (alias seed). Default 42. */
  random_state?: number;
}

const SPECS: Record<string, ParamSpec> = { ...CART_GROWTH_SPECS, ...CART_BIN_SEED_SPECS };

type Fitted = CartFitted;

/** CART regression tree (kind 'tree'). */
export class DecisionTreeRegressor implements Regressor {
  readonly kind = 'tree';
  private readonly p: ResolvedParams;
  private fitted: Fitted | null = null;

  /** Throws AppError('USAGE') for unknown params or bad values. */
  constructor(params: DecisionTreeParams | Record<string, unknown> = {}) {
    this.p = resolveParams('DecisionTreeRegressor', SPECS, params as Record<string, unknown>, { seed: 'random_state' });
  }

  params(): Record<string, number | string | boolean> {
    return { ...this.p };
  }

  /** The fitted tree (for inspection and tests). */
  get trees(): TreeEnsemble | null {
    return this.fitted?.trees ?? null;
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    checkFitInput('DecisionTreeRegressor', X, y, options);
    const r = fitCart(
      X,
      y,
      cartOptionsFromParams('DecisionTreeRegressor', this.p, X.nCols, options, {
        nTrees: 1,
        bootstrap: false,
        maxSamples: 1,
      }),
    );
    this.fitted = { trees: r.trees, columnNames: [...X.columnNames], gain: r.gain, split: r.split };
    return this;
  }

  predict(X: Matrix): Float64Array {
    checkPredictInput('DecisionTreeRegressor', X, this.fitted?.columnNames ?? null);
    return (this.fitted as Fitted).trees.sumInto(X, new Float64Array(X.nRows), 0);
  }

  /** Total SSE reduction ('gain') or number of splits ('split') per feature. */
  featureImportance(type: 'gain' | 'split' = 'gain'): Record<string, number> {
    return importanceByName('DecisionTreeRegressor', this.fitted, type);
  }

  toJSON(): SavedEstimator {
    return saveCart('DecisionTreeRegressor', 'tree', this.params(), this.fitted);
  }

  /** Rebuild from `toJSON()` output. */
  static fromJSON(s: SavedEstimator): DecisionTreeRegressor {
    const m = new DecisionTreeRegressor(s.params ?? {});
    m.fitted = loadCart('tree', s);
    return m;
  }
}
