/**
 * Input checks shared by the linear models: shapes, finite targets and weights, and no
 * missing values in X (linear models expect imputed input; the feature pipeline imputes).
 * Each failure is an AppError('MODEL_INVALID') naming the model, the column and the row.
 */
import { AppError } from '../../core/errors.js';
import type { Matrix } from '../matrix.js';

/** Throw unless every value of X is finite, naming the first offending column and row. */
export function checkFiniteMatrix(kind: string, X: Matrix, stage: 'fit' | 'predict'): void {
  const { data, nRows, nCols } = X;
  if (data.length !== nRows * nCols)
    throw new AppError('MODEL_INVALID', `${kind}: matrix data has ${data.length} values, expected ${nRows} x ${nCols}`);
  for (let k = 0; k < data.length; k++) {
    const v = data[k];
    if (v - v !== 0) {
      // NaN or +-Infinity
      const row = Math.floor(k / nCols);
      const col = k - row * nCols;
      const name = X.columnNames[col] ?? `x${col}`;
      const what = Number.isNaN(v) ? 'a missing value (NaN)' : `an infinite value (${v})`;
      throw new AppError(
        'MODEL_INVALID',
        `${kind} ${stage}: column "${name}" has ${what} at row ${row}; linear models need imputed, finite input (add an imputer to the feature pipeline)`,
        { details: { column: name, row } },
      );
    }
  }
}

/**
 * Check a fit call: at least one row, y finite with one value per row, weights (when
 * given) finite, non-negative, one per row and not all zero.
 */
export function checkFitInput(
  kind: string,
  X: Matrix,
  y: Float64Array,
  weights: Float64Array | undefined,
  checkX = true,
): void {
  if (X.nRows === 0) throw new AppError('MODEL_INVALID', `${kind} fit: the training matrix has no rows`);
  if (y.length !== X.nRows)
    throw new AppError(
      'MODEL_INVALID',
      `${kind} fit: ${y.length} target values for ${X.nRows} rows; X and y must have the same length`,
    );
  for (let i = 0; i < y.length; i++)
    if (!Number.isFinite(y[i]))
      throw new AppError(
        'MODEL_INVALID',
        `${kind} fit: target value at row ${i} is ${y[i]}; drop or impute rows without a finite target`,
        {
          details: { row: i },
        },
      );
  if (weights) {
    if (weights.length !== X.nRows)
      throw new AppError('MODEL_INVALID', `${kind} fit: ${weights.length} sample weights for ${X.nRows} rows`);
    let sum = 0;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i];
      if (!(Number.isFinite(w) && w >= 0))
        throw new AppError(
          'MODEL_INVALID',
          `${kind} fit: sample weight at row ${i} is ${w}; weights must be finite and >= 0`,
          {
            details: { row: i },
          },
        );
      sum += w;
    }
    if (!(sum > 0)) throw new AppError('MODEL_INVALID', `${kind} fit: all sample weights are zero`);
  }
  if (checkX) checkFiniteMatrix(kind, X, 'fit');
}

/** Throw when a prediction matrix does not have the training columns, in order. */
export function checkColumns(kind: string, trained: readonly string[], X: Matrix): void {
  if (X.nCols !== trained.length)
    throw new AppError(
      'MODEL_INVALID',
      `${kind} predict: the model was trained on ${trained.length} columns but got ${X.nCols}; transform the input with the same feature pipeline`,
    );
  for (let j = 0; j < trained.length; j++)
    if (X.columnNames[j] !== trained[j])
      throw new AppError(
        'MODEL_INVALID',
        `${kind} predict: column ${j} is "${X.columnNames[j]}" but the model was trained with "${trained[j]}" there; transform the input with the same feature pipeline`,
        { details: { column: j } },
      );
}
