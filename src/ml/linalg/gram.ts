/**
 * Cross-product matrices of a row-major design: the Gram matrix X^T W X and X^T W y, raw
 * or centered on the (weighted) column means. These feed the normal-equation solvers
 * (Ridge via Cholesky, Lasso/ElasticNet via covariance-update coordinate descent).
 *
 * Speed: dense columns go through a blocked dot-product kernel, sparse (one-hot) columns
 * through compressed storage, so a one-hot design costs about its non-zeros times p
 * instead of n * p^2 (see accumulateGram).
 *
 * Accuracy of the centered form: computing X^T X and subtracting n * mean mean^T loses
 * digits when a column's mean is large against its spread (a `year` column: mean 2015,
 * sd 3). So dense columns (more than half non-zero) are shifted by their mean before the
 * pass, sparse columns are not (that keeps their zeros), and the remaining small
 * correction W * m m^T uses the means of the shifted columns, which are ~0 for dense
 * columns and in [0, 1] for one-hot columns. Exact in exact arithmetic; stable in doubles.
 */
import { AppError } from '../../core/errors.js';

/** Centered cross products of a weighted least-squares problem. */
export interface CenteredCrossProducts {
  /** Number of columns. */
  p: number;
  /** p x p row-major, full symmetric: sum_i w_i (x_i - mean)(x_i - mean)^T. */
  gram: Float64Array;
  /** sum_i w_i (x_i - mean) (y_i - yMean). */
  xty: Float64Array;
  /** Weighted column means. */
  xMean: Float64Array;
  /** Weighted mean of y. */
  yMean: number;
  /** sum_i w_i (y_i - yMean)^2. */
  yy: number;
  /** sum_i w_i (n when unweighted). */
  sumWeights: number;
}

function checkShape(data: Float64Array, nRows: number, nCols: number, weights: Float64Array | undefined): void {
  if (data.length !== nRows * nCols)
    throw new AppError('MODEL_INVALID', `matrix data has ${data.length} values, expected ${nRows} x ${nCols}`);
  if (weights && weights.length !== nRows)
    throw new AppError('MODEL_INVALID', `${weights.length} sample weights for ${nRows} rows`);
}

/**
 * Fill `g` with sum_i w_i (x_i - shift)(x_i - shift)^T (full symmetric).
 *
 * Columns are split by density after the shift. Dense columns (more than a quarter
 * non-zero) are copied column-major, scaled by sqrt(w), and their block of G is formed by
 * dot products four-by-two columns at a time (each load feeds two multiply-adds). Sparse
 * columns (one-hot) are kept as compressed columns for their products with the dense
 * block, and as compressed rows for their products with each other, so their cost follows
 * their non-zeros. Every entry is one fixed-order sum: same input, same bits.
 */
function accumulateGram(
  data: Float64Array,
  n: number,
  p: number,
  shift: Float64Array,
  weights: Float64Array | undefined,
  g: Float64Array,
): void {
  const sq = new Float64Array(n);
  for (let i = 0; i < n; i++) sq[i] = weights ? Math.sqrt(weights[i]) : 1;
  const nnz = new Int32Array(p);
  for (let i = 0; i < n; i++) {
    if (sq[i] === 0) continue;
    const base = i * p;
    for (let j = 0; j < p; j++) if (data[base + j] !== shift[j]) nnz[j]++;
  }
  const dense: number[] = [];
  const sparse: number[] = [];
  for (let j = 0; j < p; j++) (nnz[j] * 4 > n ? dense : sparse).push(j);
  const nD = dense.length;
  const nS = sparse.length;

  // one row-order sweep (cache friendly) fills the dense block, column-major and scaled
  // by sqrt(w), and the sparse entries compressed by row (CSR)
  const pos = new Int32Array(p); // index within `dense` or within `sparse`
  dense.forEach((j, d) => (pos[j] = d));
  sparse.forEach((j, k) => (pos[j] = k));
  const isDense = new Uint8Array(p);
  for (const j of dense) isDense[j] = 1;
  let total = 0;
  for (const j of sparse) total += nnz[j];
  const cd = new Float64Array(nD * n);
  const rowPtr = new Int32Array(n + 1);
  const csrCol = new Int32Array(total);
  const csrVal = new Float64Array(total);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const base = i * p;
    const si = sq[i];
    for (let j = 0; j < p; j++) {
      const v = si * (data[base + j] - shift[j]);
      if (isDense[j]) cd[pos[j] * n + i] = v;
      else if (v !== 0) {
        csrCol[k] = j;
        csrVal[k++] = v;
      }
    }
    rowPtr[i + 1] = k;
  }
  // the same sparse entries compressed by column (CSC), rows ascending
  const colPtr = new Int32Array(nS + 1);
  for (let q = 0; q < k; q++) colPtr[pos[csrCol[q]] + 1]++;
  for (let t = 0; t < nS; t++) colPtr[t + 1] += colPtr[t];
  const cscRow = new Int32Array(k);
  const cscVal = new Float64Array(k);
  {
    const fill = colPtr.slice(0, nS);
    for (let i = 0; i < n; i++)
      for (let q = rowPtr[i]; q < rowPtr[i + 1]; q++) {
        const at = fill[pos[csrCol[q]]]++;
        cscRow[at] = i;
        cscVal[at] = csrVal[q];
      }
  }

  // dense x dense: 4 x 2 blocks of dot products
  for (let a = 0; a < nD; a += 4) {
    const a1 = Math.min(a + 1, nD - 1);
    const a2 = Math.min(a + 2, nD - 1);
    const a3 = Math.min(a + 3, nD - 1);
    const oa0 = a * n;
    const oa1 = a1 * n;
    const oa2 = a2 * n;
    const oa3 = a3 * n;
    for (let b = a; b < nD; b += 2) {
      const b1 = Math.min(b + 1, nD - 1);
      const ob0 = b * n;
      const ob1 = b1 * n;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0; // prettier-ignore
      for (let i = 0; i < n; i++) {
        const y0 = cd[ob0 + i];
        const y1 = cd[ob1 + i];
        let x = cd[oa0 + i];
        s00 += x * y0;
        s01 += x * y1;
        x = cd[oa1 + i];
        s10 += x * y0;
        s11 += x * y1;
        x = cd[oa2 + i];
        s20 += x * y0;
        s21 += x * y1;
        x = cd[oa3 + i];
        s30 += x * y0;
        s31 += x * y1;
      }
      const rows = [a, a1, a2, a3];
      const sums = [s00, s01, s10, s11, s20, s21, s30, s31];
      for (let r = 0; r < 4; r++) {
        const ar = rows[r];
        if (ar <= b) g[dense[ar] * p + dense[b]] = sums[2 * r];
        if (ar <= b1) g[dense[ar] * p + dense[b1]] = sums[2 * r + 1];
      }
    }
  }
  // sparse x dense: walk each sparse column's non-zeros
  for (let s = 0; s < nS; s++) {
    const j = sparse[s];
    const q0 = colPtr[s];
    const q1 = colPtr[s + 1];
    if (q0 === q1) continue;
    for (let d = 0; d < nD; d++) {
      const off = d * n;
      let acc = 0;
      for (let q = q0; q < q1; q++) acc += cscVal[q] * cd[off + cscRow[q]];
      const k = dense[d];
      g[j < k ? j * p + k : k * p + j] = acc;
    }
  }
  // sparse x sparse: pairs within each row (columns ascending, so ja <= jb)
  for (let i = 0; i < n; i++) {
    const r0 = rowPtr[i];
    const r1 = rowPtr[i + 1];
    for (let a = r0; a < r1; a++) {
      const row = csrCol[a] * p;
      const va = csrVal[a];
      for (let b = a; b < r1; b++) g[row + csrCol[b]] += va * csrVal[b];
    }
  }
  for (let a = 0; a < p; a++) for (let b = a + 1; b < p; b++) g[b * p + a] = g[a * p + b];
}

/** X^T W X (p x p, row-major, symmetric) of a row-major `nRows x nCols` matrix; W = diag(weights) or I. */
export function gram(data: Float64Array, nRows: number, nCols: number, weights?: Float64Array): Float64Array {
  checkShape(data, nRows, nCols, weights);
  const g = new Float64Array(nCols * nCols);
  accumulateGram(data, nRows, nCols, new Float64Array(nCols), weights, g);
  return g;
}

/** X^T W y of a row-major `nRows x nCols` matrix. */
export function crossProduct(
  data: Float64Array,
  nRows: number,
  nCols: number,
  y: ArrayLike<number>,
  weights?: Float64Array,
): Float64Array {
  checkShape(data, nRows, nCols, weights);
  if (y.length !== nRows) throw new AppError('MODEL_INVALID', `${y.length} targets for ${nRows} rows`);
  const out = new Float64Array(nCols);
  for (let i = 0; i < nRows; i++) {
    const wy = (weights ? weights[i] : 1) * y[i];
    if (wy === 0) continue;
    const base = i * nCols;
    for (let j = 0; j < nCols; j++) out[j] += data[base + j] * wy;
  }
  return out;
}

/**
 * Centered cross products (see the module comment for how centering stays accurate).
 * Weights must be finite and non-negative with a positive sum (the caller validates).
 */
export function centeredCrossProducts(
  data: Float64Array,
  nRows: number,
  nCols: number,
  y: ArrayLike<number>,
  weights?: Float64Array,
): CenteredCrossProducts {
  checkShape(data, nRows, nCols, weights);
  if (y.length !== nRows) throw new AppError('MODEL_INVALID', `${y.length} targets for ${nRows} rows`);
  const p = nCols;
  let sw = 0;
  let yMean = 0;
  const xMean = new Float64Array(p);
  const nnz = new Int32Array(p);
  for (let i = 0; i < nRows; i++) {
    const w = weights ? weights[i] : 1;
    sw += w;
    yMean += w * y[i];
    const base = i * p;
    for (let j = 0; j < p; j++) {
      const v = data[base + j];
      xMean[j] += w * v;
      if (v !== 0) nnz[j]++;
    }
  }
  if (!(sw > 0))
    throw new AppError('MODEL_INVALID', 'sample weights sum to zero; give at least one row a positive weight');
  yMean /= sw;
  for (let j = 0; j < p; j++) xMean[j] /= sw;
  const shift = new Float64Array(p);
  for (let j = 0; j < p; j++) if (nnz[j] * 2 > nRows) shift[j] = xMean[j];

  const g = new Float64Array(p * p);
  accumulateGram(data, nRows, p, shift, weights, g);

  // residual means of the shifted columns, and centered X^T W y, y^T W y
  const m = new Float64Array(p);
  const xty = new Float64Array(p);
  let yy = 0;
  for (let i = 0; i < nRows; i++) {
    const w = weights ? weights[i] : 1;
    const yc = y[i] - yMean;
    yy += w * yc * yc;
    const wy = w * yc;
    const base = i * p;
    for (let j = 0; j < p; j++) {
      const v = data[base + j] - shift[j];
      m[j] += w * v;
      xty[j] += v * wy;
    }
  }
  for (let j = 0; j < p; j++) m[j] /= sw;
  for (let a = 0; a < p; a++) {
    const ma = m[a] * sw;
    if (ma === 0) continue;
    for (let b = a; b < p; b++) {
      const d = ma * m[b];
      g[a * p + b] -= d;
      if (b !== a) g[b * p + a] -= d;
    }
  }
  return { p, gram: g, xty, xMean, yMean, yy, sumWeights: sw };
}

/**
 * Centered cross products memoised by the identity of (data, y, weights): several linear
 * fits of one matrix (OLS, ridge, lasso and elastic net of one cross-validation fold) form
 * X^T W X once. The result is shared, so its consumers must not modify it (the solvers copy
 * what they factor), and a matrix must not be modified while a cache that has seen it lives.
 */
export class CrossProductsCache {
  private readonly seen = new WeakMap<
    Float64Array,
    Array<{ y: ArrayLike<number>; weights: Float64Array | undefined; cp: CenteredCrossProducts }>
  >();
  /** Products computed (cache misses), for tests and timing. */
  computed = 0;

  centered(
    data: Float64Array,
    nRows: number,
    nCols: number,
    y: ArrayLike<number>,
    weights?: Float64Array,
  ): CenteredCrossProducts {
    const list = this.seen.get(data) ?? [];
    const hit = list.find((e) => e.y === y && e.weights === weights);
    if (hit && hit.cp.p === nCols) return hit.cp;
    const cp = centeredCrossProducts(data, nRows, nCols, y, weights);
    this.computed++;
    list.push({ y, weights, cp });
    this.seen.set(data, list);
    return cp;
  }
}
