/**
 * The dense design matrix every estimator consumes: row-major Float64Array, NaN marks a
 * missing value. `categorical[j]` marks columns holding category codes (0, 1, 2, ...;
 * NaN = missing or unseen) that tree learners may split natively; linear models only ever
 * receive numeric columns.
 */
import { AppError } from '../core/errors.js';

export interface Matrix {
  readonly nRows: number;
  readonly nCols: number;
  /** Row-major values: element (i, j) is data[i * nCols + j]. */
  readonly data: Float64Array;
  readonly columnNames: readonly string[];
  /** Per column: true when the column holds category codes. Absent = all numeric. */
  readonly categorical?: readonly boolean[];
  /** Per categorical column: number of categories (codes are < this). */
  readonly nCategories?: readonly number[];
}

/** Build a matrix, checking that the sizes agree. */
export function makeMatrix(
  nRows: number,
  nCols: number,
  data: Float64Array,
  columnNames?: readonly string[],
  extra: { categorical?: readonly boolean[]; nCategories?: readonly number[] } = {},
): Matrix {
  if (data.length !== nRows * nCols)
    throw new AppError(
      'MODEL_INVALID',
      `matrix data has ${data.length} values, expected ${nRows} x ${nCols} = ${nRows * nCols}`,
    );
  const names = columnNames ?? Array.from({ length: nCols }, (_, j) => `x${j}`);
  if (names.length !== nCols)
    throw new AppError('MODEL_INVALID', `matrix has ${nCols} columns but ${names.length} names`);
  return { nRows, nCols, data, columnNames: names, ...extra };
}

/** Matrix from an array of rows (tests, small inputs). */
export function fromRows(rows: readonly (readonly number[])[], columnNames?: readonly string[]): Matrix {
  const nRows = rows.length;
  const nCols = nRows ? rows[0].length : (columnNames?.length ?? 0);
  const data = new Float64Array(nRows * nCols);
  rows.forEach((r, i) => {
    if (r.length !== nCols) throw new AppError('MODEL_INVALID', `row ${i} has ${r.length} values, expected ${nCols}`);
    data.set(r, i * nCols);
  });
  return makeMatrix(nRows, nCols, data, columnNames);
}

/** The rows of `m` at the given indices, as a new matrix. */
export function takeRows(m: Matrix, idx: ArrayLike<number>): Matrix {
  const out = new Float64Array(idx.length * m.nCols);
  for (let k = 0; k < idx.length; k++) out.set(m.data.subarray(idx[k] * m.nCols, (idx[k] + 1) * m.nCols), k * m.nCols);
  return { ...m, nRows: idx.length, data: out };
}
