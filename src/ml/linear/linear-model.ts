/**
 * What every fitted linear model shares: coefficients per named column and an intercept,
 * prediction `X w + b`, |w| as feature importance, and the saved form
 * `{kind, formatVersion: 1, params, columnNames, coef, intercept, fitInfo}` with a loader
 * that checks every field before trusting it.
 */
import { AppError } from '../../core/errors.js';
import type { FitOptions, Regressor, SavedEstimator } from '../estimator.js';
import type { Matrix } from '../matrix.js';
import { checkColumns, checkFiniteMatrix } from './fit-input.js';

/** The saved form of a linear model (formatVersion 1). */
export interface SavedLinearModel extends SavedEstimator {
  formatVersion: 1;
  params: Record<string, number>;
  columnNames: string[];
  /** One coefficient per column, as plain numbers (JSON keeps doubles exactly). */
  coef: number[];
  intercept: number;
  /** Diagnostics of the fit (solver, rank, iterations...), for logging only. */
  fitInfo: Record<string, number | string | boolean>;
}

/** Fitted state of a linear model. */
export interface LinearState {
  columnNames: readonly string[];
  coef: Float64Array;
  intercept: number;
  fitInfo: Record<string, number | string | boolean>;
}

/** Base class: subclasses implement `fitState` and `params`. */
export abstract class LinearModel implements Regressor {
  abstract readonly kind: string;
  protected state: LinearState | undefined;

  /** Solve for the coefficients (X, y and weights are already validated). */
  protected abstract fitState(X: Matrix, y: Float64Array, options: FitOptions): LinearState;

  abstract params(): Record<string, number>;

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    this.state = this.fitState(X, y, options);
    return this;
  }

  /** True once fitted or loaded. */
  get fitted(): boolean {
    return this.state !== undefined;
  }

  private need(what: string): LinearState {
    if (!this.state)
      throw new AppError(
        'MODEL_INVALID',
        `${this.kind} ${what}: the model is not fitted; call fit() or load a saved model first`,
      );
    return this.state;
  }

  /** Coefficients, one per training column (a copy). */
  get coef(): Float64Array {
    return Float64Array.from(this.need('coef').coef);
  }

  get intercept(): number {
    return this.need('intercept').intercept;
  }

  /** Training column names, in order. */
  get columnNames(): readonly string[] {
    return this.need('columnNames').columnNames;
  }

  /** Diagnostics of the last fit (solver used, rank, iterations, ...). */
  get fitInfo(): Record<string, number | string | boolean> {
    return { ...this.need('fitInfo').fitInfo };
  }

  predict(X: Matrix): Float64Array {
    const s = this.need('predict');
    checkColumns(this.kind, s.columnNames, X);
    checkFiniteMatrix(this.kind, X, 'predict');
    const { nRows, nCols, data } = X;
    const w = s.coef;
    const out = new Float64Array(nRows);
    for (let i = 0; i < nRows; i++) {
      const base = i * nCols;
      let acc = s.intercept;
      for (let j = 0; j < nCols; j++) acc += data[base + j] * w[j];
      out[i] = acc;
    }
    return out;
  }

  /** |coefficient| per column name (on the scale of the input columns). */
  featureImportance(): Record<string, number> {
    const s = this.need('featureImportance');
    const out: Record<string, number> = {};
    s.columnNames.forEach((name, j) => (out[name] = Math.abs(s.coef[j])));
    return out;
  }

  toJSON(): SavedLinearModel {
    const s = this.need('toJSON');
    return {
      kind: this.kind,
      formatVersion: 1,
      params: this.params(),
      columnNames: [...s.columnNames],
      coef: Array.from(s.coef),
      intercept: s.intercept,
      fitInfo: { ...s.fitInfo },
    };
  }

  /**
   * A copy (this model is not changed) whose output is this model's plus
   * `dCoef * column + dIntercept`, with `info` added to its fitInfo. The bundle trainer
   * folds an output correction that is linear in one input column into a linear member
   * this way, so every prediction path and explanation carries it with no new format.
   */
  withLinearTerm(column: string, dCoef: number, dIntercept: number, info: Record<string, number> = {}): this {
    const s = this.need('withLinearTerm');
    const j = s.columnNames.indexOf(column);
    if (j < 0) throw new AppError('MODEL_INVALID', `${this.kind} has no column "${column}" to add a linear term to`);
    if (!Number.isFinite(dCoef) || !Number.isFinite(dIntercept))
      throw new AppError('MODEL_INVALID', `${this.kind}: a linear term must be finite, got ${dCoef} and ${dIntercept}`);
    const coef = Float64Array.from(s.coef);
    coef[j] += dCoef;
    const copy = Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this);
    copy.state = {
      columnNames: s.columnNames,
      coef,
      intercept: s.intercept + dIntercept,
      fitInfo: { ...s.fitInfo, ...info },
    };
    return copy;
  }

  /** Install a saved state (used by the loaders). */
  protected restore(state: LinearState): this {
    this.state = state;
    return this;
  }
}

function bad(kind: string, what: string): AppError {
  return new AppError(
    'MODEL_INVALID',
    `saved "${kind}" estimator is malformed: ${what}; the file is damaged or was not written by carprice`,
  );
}

/**
 * Check a saved linear model's fields and return its params and state. Params are
 * returned raw: the model constructor validates them like any other params.
 */
export function parseSavedLinear(saved: SavedEstimator): { params: Record<string, unknown>; state: LinearState } {
  const kind = saved.kind;
  const s = saved as Partial<SavedLinearModel>;
  if (s.params === null || typeof s.params !== 'object' || Array.isArray(s.params))
    throw bad(kind, '"params" is not an object');
  if (!Array.isArray(s.columnNames) || !s.columnNames.every((c) => typeof c === 'string'))
    throw bad(kind, '"columnNames" is not a list of strings');
  if (!Array.isArray(s.coef)) throw bad(kind, '"coef" is not a list');
  if (s.coef.length !== s.columnNames.length)
    throw bad(kind, `"coef" has ${s.coef.length} values for ${s.columnNames.length} columns`);
  s.coef.forEach((c, j) => {
    if (typeof c !== 'number' || !Number.isFinite(c)) throw bad(kind, `coef[${j}] is not a finite number`);
  });
  if (typeof s.intercept !== 'number' || !Number.isFinite(s.intercept))
    throw bad(kind, '"intercept" is not a finite number');
  const fitInfo = s.fitInfo !== null && typeof s.fitInfo === 'object' && !Array.isArray(s.fitInfo) ? s.fitInfo : {};
  return {
    params: s.params,
    state: {
      columnNames: [...s.columnNames],
      coef: Float64Array.from(s.coef),
      intercept: s.intercept,
      fitInfo: { ...fitInfo },
    },
  };
}
