/**
 * Per-feature importance of tree learners: total split gain ('gain') and number of splits
 * ('split') per column, looked up by column name, saved with the model and read back.
 * Shared by DecisionTreeRegressor, RandomForestRegressor and GradientBoostingRegressor.
 */
import { AppError } from '../../core/errors.js';

/** Importance vectors of a fitted tree model, one entry per column. */
export interface FeatureImportance {
  columnNames: string[];
  gain: Float64Array;
  split: Float64Array;
}

/** Importance as saved in a model file. */
export interface SavedImportance {
  gain: number[];
  split: number[];
}

/**
 * Importance of each column by name. `owner` names the estimator in the error thrown
 * when `fitted` is null (not fitted yet).
 */
export function importanceByName(
  owner: string,
  fitted: FeatureImportance | null,
  type: 'gain' | 'split',
): Record<string, number> {
  if (!fitted) throw new AppError('MODEL_INVALID', `${owner}.featureImportance called before fit`);
  const v = type === 'gain' ? fitted.gain : fitted.split;
  return Object.fromEntries(fitted.columnNames.map((n, j) => [n, v[j]]));
}

/** The saved form of the importance vectors. */
export function saveImportance(f: FeatureImportance): SavedImportance {
  return { gain: Array.from(f.gain), split: Array.from(f.split) };
}

/**
 * Read saved importance for `nColumns` columns; a missing or wrongly sized vector reads as
 * zeros (importance is informational, the model still predicts).
 */
export function loadImportance(saved: unknown, nColumns: number): { gain: Float64Array; split: Float64Array } {
  const imp = (saved ?? {}) as { gain?: number[]; split?: number[] };
  const vec = (a: number[] | undefined) =>
    Array.isArray(a) && a.length === nColumns ? Float64Array.from(a) : new Float64Array(nColumns);
  return { gain: vec(imp.gain), split: vec(imp.split) };
}
