/**
 * The dense design matrix every estimator consumes: row-major Float64Array, NaN marks a
 * missing value. A matrix built from columns (`columnMatrix`, what the feature pipeline
 * hands the tree learners) keeps them as they are (`columns`: float64, or bytes for 0/1
 * indicator columns) and makes the row-major `data` only when something reads it: binning
 * and node covers read the columns, so a training matrix of millions of rows never
 * exists as a row-major float64 copy. `categorical[j]` marks columns holding category codes (0, 1, 2, ...;
 * NaN = missing or unseen) that tree learners may split natively; linear models only ever
 * receive numeric columns.
 */
import { AppError } from '../core/errors.js';

/**
 * A 0/1 column kept as the rows holding 1, ascending (never missing): word indicators are
 * 1 for a few percent of listings, so 800 of them over 1.8 million rows take tens of MB
 * instead of 1.4 GB of bytes. Only matrices carry them (and the feature pipeline's frames
 * on their way to one, see features/token-features.ts); `denseValues` expands one.
 */
export interface SparseBinaryColumn {
  readonly kind: 'sparse-binary';
  /** Number of rows. */
  readonly length: number;
  /** Rows holding 1, strictly ascending. */
  readonly ones: Uint32Array;
}

/** One column of a column-built matrix: float64 (NaN = missing), bytes or sparse 0/1 (indicators). */
export type MatrixColumn = Float64Array | Uint8Array | SparseBinaryColumn;

/** True for a sparse 0/1 column. */
export function isSparseBinary(c: unknown): c is SparseBinaryColumn {
  return (c as SparseBinaryColumn | null)?.kind === 'sparse-binary';
}

/** A sparse 0/1 column of `length` rows with ones at `ones` (ascending). */
export function sparseBinary(length: number, ones: Uint32Array): SparseBinaryColumn {
  return { kind: 'sparse-binary', length, ones };
}

/** The values of a column as a typed array (a sparse 0/1 column expanded to bytes). */
export function denseValues(c: MatrixColumn): Float64Array | Uint8Array {
  if (!isSparseBinary(c)) return c;
  const out = new Uint8Array(c.length);
  const ones = c.ones;
  for (let k = 0; k < ones.length; k++) out[ones[k]] = 1;
  return out;
}

/** The first k with ones[k] >= row (ones.length when none). */
export function lowerBound(ones: Uint32Array, row: number): number {
  let lo = 0;
  let hi = ones.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ones[mid] < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Matrix {
  readonly nRows: number;
  readonly nCols: number;
  /** Row-major values: element (i, j) is data[i * nCols + j] (built on first read for a column matrix). */
  readonly data: Float64Array;
  /** The columns, when the matrix was built from them: element (i, j) is columns[j][i]. */
  readonly columns?: readonly MatrixColumn[];
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

/**
 * A matrix of the given columns (not copied). Its row-major `data` is computed on first
 * read and kept; it is not an own enumerable property, so spreading the matrix or sending
 * it to a worker does not build it (use `matrixParts`/`fromParts` to send one).
 */
export function columnMatrix(
  nRows: number,
  columns: readonly MatrixColumn[],
  columnNames?: readonly string[],
  extra: { categorical?: readonly boolean[]; nCategories?: readonly number[] } = {},
): Matrix {
  const nCols = columns.length;
  for (let j = 0; j < nCols; j++)
    if (columns[j].length !== nRows)
      throw new AppError('MODEL_INVALID', `matrix column ${j} has ${columns[j].length} values, expected ${nRows}`);
  const names = columnNames ?? Array.from({ length: nCols }, (_, j) => `x${j}`);
  if (names.length !== nCols)
    throw new AppError('MODEL_INVALID', `matrix has ${nCols} columns but ${names.length} names`);
  let data: Float64Array | undefined;
  const m = { nRows, nCols, columns, columnNames: names, ...extra } as Omit<Matrix, 'data'>;
  Object.defineProperty(m, 'data', {
    enumerable: false,
    get: () => (data ??= rowMajor(nRows, columns)),
  });
  return m as Matrix;
}

function rowMajor(nRows: number, columns: readonly MatrixColumn[]): Float64Array {
  const p = columns.length;
  const out = new Float64Array(nRows * p);
  for (let j = 0; j < p; j++) {
    const c = columns[j];
    if (c instanceof Float64Array) copyF64(out, c, nRows, p, j);
    else if (isSparseBinary(c)) for (const i of c.ones) out[i * p + j] = 1;
    else copyU8(out, c, nRows, p, j);
  }
  return out;
}

function copyF64(out: Float64Array, c: Float64Array, n: number, p: number, j: number): void {
  for (let i = 0; i < n; i++) out[i * p + j] = c[i];
}

function copyU8(out: Float64Array, c: Uint8Array, n: number, p: number, j: number): void {
  for (let i = 0; i < n; i++) out[i * p + j] = c[i];
}

/** Column j of `m` (its own column when it has them, else a copy read from `data`). */
export function matrixColumn(m: Matrix, j: number): MatrixColumn {
  if (m.columns) return m.columns[j];
  const out = new Float64Array(m.nRows);
  const { data, nCols } = m;
  for (let i = 0; i < out.length; i++) out[i] = data[i * nCols + j];
  return out;
}

/** What a matrix is made of, as plain data (structured-clone safe, no row-major copy of a column matrix). */
export interface MatrixParts {
  nRows: number;
  nCols: number;
  data?: Float64Array;
  columns?: readonly MatrixColumn[];
  columnNames: readonly string[];
  categorical?: readonly boolean[];
  nCategories?: readonly number[];
}

export function matrixParts(m: Matrix): MatrixParts {
  const { nRows, nCols, columnNames, categorical, nCategories } = m;
  const extra = { ...(categorical ? { categorical } : {}), ...(nCategories ? { nCategories } : {}) };
  return m.columns
    ? { nRows, nCols, columns: m.columns, columnNames, ...extra }
    : { nRows, nCols, data: m.data, columnNames, ...extra };
}

export function fromParts(p: MatrixParts): Matrix {
  const extra = { categorical: p.categorical, nCategories: p.nCategories };
  if (!p.categorical) delete extra.categorical;
  if (!p.nCategories) delete extra.nCategories;
  return p.columns
    ? columnMatrix(p.nRows, p.columns, p.columnNames, extra)
    : makeMatrix(p.nRows, p.nCols, p.data as Float64Array, p.columnNames, extra);
}

/** The rows of `m` at the given indices, as a new matrix (a column matrix stays one). */
export function takeRows(m: Matrix, idx: ArrayLike<number>): Matrix {
  if (m.columns) {
    let mark: Uint8Array | undefined;
    const cols = m.columns.map((c): MatrixColumn => {
      if (isSparseBinary(c)) return takeSparse(c, idx, (mark ??= new Uint8Array(m.nRows)));
      const out = c instanceof Float64Array ? new Float64Array(idx.length) : new Uint8Array(idx.length);
      for (let k = 0; k < idx.length; k++) out[k] = c[idx[k]];
      return out;
    });
    const { categorical, nCategories } = m;
    return columnMatrix(idx.length, cols, m.columnNames, {
      ...(categorical ? { categorical } : {}),
      ...(nCategories ? { nCategories } : {}),
    });
  }
  const out = new Float64Array(idx.length * m.nCols);
  for (let k = 0; k < idx.length; k++) out.set(m.data.subarray(idx[k] * m.nCols, (idx[k] + 1) * m.nCols), k * m.nCols);
  return { ...m, nRows: idx.length, data: out };
}

/** Rows idx of a sparse 0/1 column (`mark`: nRows zero bytes, left zero again). */
function takeSparse(c: SparseBinaryColumn, idx: ArrayLike<number>, mark: Uint8Array): SparseBinaryColumn {
  const ones = c.ones;
  for (let q = 0; q < ones.length; q++) mark[ones[q]] = 1;
  let n = 0;
  for (let k = 0; k < idx.length; k++) n += mark[idx[k]];
  const out = new Uint32Array(n);
  n = 0;
  for (let k = 0; k < idx.length; k++) if (mark[idx[k]]) out[n++] = k;
  for (let q = 0; q < ones.length; q++) mark[ones[q]] = 0;
  return sparseBinary(idx.length, out);
}
