/**
 * Dense vector and matrix-vector products on row-major Float64Arrays: the small kernels
 * the linear models and the feature transformers share (prediction is `X w + b`).
 */
import { AppError } from '../../core/errors.js';

/** Dot product of two equal-length vectors. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length)
    throw new AppError('MODEL_INVALID', `dot: vectors have lengths ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * `out = A x` for a row-major `nRows x nCols` matrix `a`. Each row's sum runs over the
 * columns in order, so the same inputs always give the same bits.
 */
export function matVec(
  a: Float64Array,
  nRows: number,
  nCols: number,
  x: ArrayLike<number>,
  out: Float64Array = new Float64Array(nRows),
): Float64Array {
  if (a.length !== nRows * nCols || x.length !== nCols || out.length !== nRows)
    throw new AppError(
      'MODEL_INVALID',
      `matVec: matrix ${nRows} x ${nCols} (${a.length} values), vector ${x.length}, output ${out.length}`,
    );
  for (let i = 0; i < nRows; i++) {
    const base = i * nCols;
    let s = 0;
    for (let j = 0; j < nCols; j++) s += a[base + j] * x[j];
    out[i] = s;
  }
  return out;
}

/** `out = A^T x` for a row-major `nRows x nCols` matrix `a` (x has nRows entries). */
export function matTVec(
  a: Float64Array,
  nRows: number,
  nCols: number,
  x: ArrayLike<number>,
  out: Float64Array = new Float64Array(nCols),
): Float64Array {
  if (a.length !== nRows * nCols || x.length !== nRows || out.length !== nCols)
    throw new AppError(
      'MODEL_INVALID',
      `matTVec: matrix ${nRows} x ${nCols} (${a.length} values), vector ${x.length}, output ${out.length}`,
    );
  out.fill(0);
  for (let i = 0; i < nRows; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const base = i * nCols;
    for (let j = 0; j < nCols; j++) out[j] += a[base + j] * xi;
  }
  return out;
}

/** Column-major copy of a row-major `nRows x nCols` matrix (column j is out[j*nRows .. (j+1)*nRows)). */
export function toColumnMajor(a: Float64Array, nRows: number, nCols: number): Float64Array {
  const out = new Float64Array(nRows * nCols);
  for (let i = 0; i < nRows; i++) {
    const base = i * nCols;
    for (let j = 0; j < nCols; j++) out[j * nRows + i] = a[base + j];
  }
  return out;
}
