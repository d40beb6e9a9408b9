/**
 * One estimator API for every model (as mljs and scikit-learn do): fit on a Matrix and a
 * target vector, predict a Float64Array, save as typed JSON tagged {kind, formatVersion}.
 */
import type { Matrix } from './matrix.js';
import type { CrossProductsCache } from './linalg/gram.js';
import type { ProgressMeter } from '../core/progress.js';

/** What every saved estimator looks like on disk. */
export interface SavedEstimator {
  kind: string;
  formatVersion: number;
  [key: string]: unknown;
}

export interface FitOptions {
  /** Validation data for early stopping (tree boosting) or reporting. */
  valid?: { X: Matrix; y: Float64Array };
  /** Per-row weights (default 1). */
  sampleWeight?: Float64Array;
  /** Aborts long fits (Ctrl-C); the estimator stays unfitted. */
  signal?: AbortSignal;
  /** Linear models: X^T W X shared with other fits of the same matrix and target (linalg/gram.ts). */
  crossProducts?: CrossProductsCache;
  /** Ensembles: told the trees fitted so far (a progress meter). */
  progress?: ProgressMeter;
}

export interface Regressor {
  /** The saved kind, e.g. 'ridge', 'gbdt'. */
  readonly kind: string;
  fit(X: Matrix, y: Float64Array, options?: FitOptions): this;
  predict(X: Matrix): Float64Array;
  /** Typed, JSON-serialisable state; `loadEstimator` rebuilds an identical model. */
  toJSON(): SavedEstimator;
  /** Hyper-parameters in effect (for logging). */
  params(): Record<string, number | string | boolean>;
  /**
   * How the fit ended, for iterative solvers (coordinate descent: n_iter, converged,
   * stopped_by, dual_gap); a model that did not converge says so here.
   */
  readonly fitInfo?: Record<string, number | string | boolean>;
  /** Optional per-feature importance (name -> value). */
  featureImportance?(type?: 'gain' | 'split'): Record<string, number>;
  /**
   * Boosted models only: the prediction of the first `rounds` rounds, bit for bit what the
   * same model fitted with n_estimators = rounds predicts (rounds do not depend on how many
   * follow), so one fit of 300 trees scores n_estimators 100, 200 and 300.
   */
  predictFirst?(X: Matrix, rounds: number): Float64Array;
  /**
   * Tree models that count them while fitting: training rows that reached each node (the
   * covers TreeSHAP needs), null when unknown (a loaded model).
   */
  readonly trainingCovers?: Float64Array | null;
  /** Give a model the covers its fit counted in another thread. */
  setTrainingCovers?(covers: Float64Array): void;
}
