/**
 * MeanBaseline (kind 'mean'): predicts the (weighted) training mean of y for every row,
 * whatever the features. The "no effort" baseline every other model must beat.
 */
import { AppError } from '../../core/errors.js';
import type { FitOptions, Regressor, SavedEstimator } from '../estimator.js';
import type { Matrix } from '../matrix.js';
import { checkFitInput } from './fit-input.js';
import { resolveParams } from '../../core/schema.js';

/** The saved form of a MeanBaseline. */
export interface SavedMeanBaseline extends SavedEstimator {
  kind: 'mean';
  formatVersion: 1;
  params: Record<string, never>;
  mean: number;
}

/** Predicts the training mean. Has no hyper-parameters; ignores X (missing values allowed). */
export class MeanBaseline implements Regressor {
  readonly kind = 'mean';
  private mean_: number | undefined;

  constructor(params: Record<string, unknown> = {}) {
    resolveParams('mean', {}, params);
  }

  params(): Record<string, number> {
    return {};
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    const w = options.sampleWeight;
    checkFitInput(this.kind, X, y, w, false);
    let sw = 0;
    let s = 0;
    for (let i = 0; i < y.length; i++) {
      const wi = w ? w[i] : 1;
      sw += wi;
      s += wi * y[i];
    }
    this.mean_ = s / sw;
    return this;
  }

  /** The training mean. */
  get mean(): number {
    if (this.mean_ === undefined)
      throw new AppError('MODEL_INVALID', 'mean: the model is not fitted; call fit() or load a saved model first');
    return this.mean_;
  }

  predict(X: Matrix): Float64Array {
    return new Float64Array(X.nRows).fill(this.mean);
  }

  featureImportance(): Record<string, number> {
    return {};
  }

  toJSON(): SavedMeanBaseline {
    return { kind: 'mean', formatVersion: 1, params: {}, mean: this.mean };
  }

  /** Rebuild from {@link MeanBaseline.toJSON} output. */
  static fromJSON(saved: SavedEstimator): MeanBaseline {
    const mean = saved.mean;
    if (typeof mean !== 'number' || !Number.isFinite(mean))
      throw new AppError(
        'MODEL_INVALID',
        'saved "mean" estimator is malformed: "mean" is not a finite number; the file is damaged or was not written by carprice',
      );
    const params = saved.params;
    const m = new MeanBaseline(
      params !== null && typeof params === 'object' ? (params as Record<string, unknown>) : {},
    );
    m.mean_ = mean;
    return m;
  }
}
