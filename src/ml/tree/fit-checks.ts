/**
 * Input checks shared by the tree estimators: the training matrix, target and weights
 * must agree in size and be finite where required, and prediction input must have the
 * columns the model was trained on. Failures are MODEL_INVALID errors naming what is wrong.
 */
import { AppError } from '../../core/errors.js';
import type { FitOptions } from '../estimator.js';
import type { Matrix } from '../matrix.js';

/** Check X, y and options.sampleWeight for a fit by `owner` (estimator name). */
export function checkFitInput(owner: string, X: Matrix, y: Float64Array, options: FitOptions = {}): void {
  if (X.nRows === 0) throw new AppError('DATA_EMPTY', `${owner}.fit: the training matrix has no rows`);
  if (X.nCols === 0) throw new AppError('MODEL_INVALID', `${owner}.fit: the training matrix has no columns`);
  if (y.length !== X.nRows)
    throw new AppError('MODEL_INVALID', `${owner}.fit: y has ${y.length} values but X has ${X.nRows} rows`);
  for (let i = 0; i < y.length; i++)
    if (!Number.isFinite(y[i]))
      throw new AppError(
        'MODEL_INVALID',
        `${owner}.fit: y[${i}] is ${y[i]}; the target must be finite (drop or impute those rows)`,
      );
  const w = options.sampleWeight;
  if (w) {
    if (w.length !== X.nRows)
      throw new AppError(
        'MODEL_INVALID',
        `${owner}.fit: sampleWeight has ${w.length} values but X has ${X.nRows} rows`,
      );
    for (let i = 0; i < w.length; i++)
      if (!(w[i] >= 0 && Number.isFinite(w[i])))
        throw new AppError(
          'MODEL_INVALID',
          `${owner}.fit: sampleWeight[${i}] is ${w[i]}; weights must be finite and >= 0`,
        );
  }
  if (options.valid) {
    const v = options.valid;
    if (v.X.nCols !== X.nCols)
      throw new AppError(
        'MODEL_INVALID',
        `${owner}.fit: the validation matrix has ${v.X.nCols} columns, the training matrix ${X.nCols}`,
      );
    if (v.y.length !== v.X.nRows)
      throw new AppError(
        'MODEL_INVALID',
        `${owner}.fit: validation y has ${v.y.length} values but its X has ${v.X.nRows} rows`,
      );
  }
}

/** Check that prediction input has the training columns, in order. */
export function checkPredictInput(owner: string, X: Matrix, columnNames: readonly string[] | null): void {
  if (!columnNames)
    throw new AppError('MODEL_INVALID', `${owner}.predict called before fit; fit or load the model first`);
  if (X.nCols !== columnNames.length)
    throw new AppError(
      'MODEL_INVALID',
      `${owner}.predict: input has ${X.nCols} columns, the model was trained on ${columnNames.length} (${columnNames.join(', ')})`,
    );
  for (let j = 0; j < X.nCols; j++)
    if (X.columnNames[j] !== columnNames[j])
      throw new AppError(
        'MODEL_INVALID',
        `${owner}.predict: column ${j} is "${X.columnNames[j]}", the model was trained with "${columnNames[j]}" there; pass the same features in the same order`,
      );
}

/** Throw INTERRUPTED when the signal has fired. */
export function checkAborted(owner: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppError('INTERRUPTED', `${owner}.fit was interrupted; the model stays unfitted`);
}

/** Check a saved model's column names (load side). */
export function checkSavedColumns(kind: string, names: unknown): string[] {
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string'))
    throw new AppError(
      'MODEL_INVALID',
      `saved "${kind}" model has no valid columnNames; retrain or restore the model file`,
    );
  return names;
}
