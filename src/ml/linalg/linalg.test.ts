/**
 * Tests for the dense linear algebra kernels, against hand-worked examples and naive
 * reference loops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { choleskyInPlace, choleskySolveInPlace } from './cholesky.js';
import { centeredCrossProducts, crossProduct, gram } from './gram.js';
import { applyQt, householderQr, leastSquares } from './householder-qr.js';
import { dot, matTVec, matVec, toColumnMajor } from './mat-vec.js';

function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (tol ${tol})`);
}

test('matVec, matTVec, dot and toColumnMajor on a 2 x 3 example', () => {
  const a = Float64Array.from([1, 2, 3, 4, 5, 6]); // [[1,2,3],[4,5,6]]
  assert.deepEqual(Array.from(matVec(a, 2, 3, [1, 0, -1])), [-2, -2]);
  assert.deepEqual(Array.from(matTVec(a, 2, 3, [1, 2])), [9, 12, 15]);
  assert.equal(dot([1, 2, 3], [4, 5, 6]), 32);
  assert.deepEqual(Array.from(toColumnMajor(a, 2, 3)), [1, 4, 2, 5, 3, 6]);
  assert.throws(() => matVec(a, 2, 3, [1, 2]), { code: 'MODEL_INVALID' });
});

test('Cholesky of [[4,2],[2,3]] is [[2,0],[1,sqrt 2]] and solves A x = b', () => {
  const a = Float64Array.from([4, 2, 2, 3]);
  assert.equal(choleskyInPlace(a, 2), true);
  assert.equal(a[0], 2);
  assert.equal(a[2], 1);
  close(a[3], Math.SQRT2, 1e-15, 'L22');
  // A x = [8, 7] -> x = [1.25, 1.5]: 4*1.25 + 2*1.5 = 8, 2*1.25 + 3*1.5 = 7
  const x = choleskySolveInPlace(a, 2, Float64Array.from([8, 7]));
  close(x[0], 1.25, 1e-15, 'x0');
  close(x[1], 1.5, 1e-15, 'x1');
});

test('Cholesky refuses singular and indefinite matrices', () => {
  assert.equal(choleskyInPlace(Float64Array.from([1, 1, 1, 1]), 2), false); // rank 1
  assert.equal(choleskyInPlace(Float64Array.from([1, 2, 2, 1]), 2), false); // indefinite
  assert.equal(choleskyInPlace(Float64Array.from([0, 0, 0, 1]), 2), false); // zero column
});

test('Householder reflector of [3, 4] gives R = -5, v = [1, 0.5], tau = 1.6', () => {
  const d = householderQr(Float64Array.from([3, 4]), 2, 1);
  assert.equal(d.qr[0], -5);
  assert.equal(d.qr[1], 0.5);
  assert.equal(d.tau[0], 1.6);
  assert.equal(d.rank, 1);
  // Q^T [3, 4] = [-5, 0]
  const c = applyQt(d, Float64Array.from([3, 4]));
  close(c[0], -5, 1e-15, 'c0');
  close(c[1], 0, 1e-15, 'c1');
});

test('pivoted QR least squares recovers an exact fit and detects rank', () => {
  // column-major 5 x 3: x0, x1, and x2 = x0 + x1 (rank 2); b = 2 x0 - x1
  const x0 = [1, 2, 3, 4, 5];
  const x1 = [2, -1, 0, 1, 3];
  const x2 = x0.map((v, i) => v + x1[i]);
  const b = x0.map((v, i) => 2 * v - x1[i]);
  const full = householderQr(Float64Array.from([...x0, ...x1]), 5, 2);
  assert.equal(full.rank, 2);
  const { x } = leastSquares(Float64Array.from([...x0, ...x1]), 5, 2, b);
  close(x[0], 2, 1e-13, 'x0');
  close(x[1], -1, 1e-13, 'x1');
  const deficient = householderQr(Float64Array.from([...x0, ...x1, ...x2]), 5, 3);
  assert.equal(deficient.rank, 2);
  assert.ok(deficient.minDiagRatio < 1e-14);
  // the basic solution still fits b exactly
  const sol = leastSquares(Float64Array.from([...x0, ...x1, ...x2]), 5, 3, b).x;
  for (let i = 0; i < 5; i++) close(sol[0] * x0[i] + sol[1] * x1[i] + sol[2] * x2[i], b[i], 1e-12, `fit row ${i}`);
});

test('QR least squares matches the normal equations on a random overdetermined problem', () => {
  const rng = new Rng(7);
  const m = 40;
  const n = 6;
  const a = Float64Array.from({ length: m * n }, () => rng.normal());
  const b = Float64Array.from({ length: m }, () => rng.normal());
  const { x } = leastSquares(toColumnMajor(toRowMajorFromCols(a, m, n), m, n), m, n, b);
  // normal equations on the row-major copy
  const rowMajor = toRowMajorFromCols(a, m, n);
  const g = gram(rowMajor, m, n);
  choleskyInPlace(g, n);
  const xn = choleskySolveInPlace(g, n, crossProduct(rowMajor, m, n, b));
  for (let j = 0; j < n; j++) close(x[j], xn[j], 1e-12, `x${j}`);
});

function toRowMajorFromCols(a: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < m; i++) out[i * n + j] = a[j * m + i];
  return out;
}

/** Mixed design: dense columns (one with a large mean), one-hot columns, an all-zero column. */
function mixedDesign(n: number, rng: Rng): { data: Float64Array; p: number } {
  const p = 9;
  const data = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    const r = i * p;
    data[r] = rng.normal();
    data[r + 1] = 2015 + Math.round(3 * rng.normal()); // year-like: mean >> spread
    data[r + 2] = 60000 + 40000 * rng.next();
    data[r + 3 + rng.int(5)] = 1; // one-hot over columns 3..7
    // column 8 stays all zero
  }
  return { data, p };
}

test('gram and crossProduct equal naive sums (dense, one-hot and zero columns, weights)', () => {
  const rng = new Rng(3);
  const n = 50;
  const { data, p } = mixedDesign(n, rng);
  const w = Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : 0.5 + rng.next()));
  const y = Float64Array.from({ length: n }, () => rng.normal());
  const g = gram(data, n, p, w);
  const xty = crossProduct(data, n, p, y, w);
  for (let a = 0; a < p; a++) {
    let sy = 0;
    for (let i = 0; i < n; i++) sy += w[i] * data[i * p + a] * y[i];
    close(xty[a], sy, 1e-9 * (1 + Math.abs(sy)), `xty ${a}`);
    for (let b = 0; b < p; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += w[i] * data[i * p + a] * data[i * p + b];
      close(g[a * p + b], s, 1e-12 * (1 + Math.abs(s)), `G ${a},${b}`);
      assert.equal(g[a * p + b], g[b * p + a], 'symmetric');
    }
  }
});

test('centeredCrossProducts equals the two-pass centered sums, accurately for large means', () => {
  const rng = new Rng(11);
  const n = 300;
  const { data, p } = mixedDesign(n, rng);
  const w = Float64Array.from({ length: n }, () => 0.2 + rng.next());
  const y = Float64Array.from({ length: n }, () => 5e5 + 1e5 * rng.normal());
  const cp = centeredCrossProducts(data, n, p, y, w);
  let sw = 0;
  for (const v of w) sw += v;
  close(cp.sumWeights, sw, 1e-12 * sw, 'sum of weights');
  const mean = new Float64Array(p);
  let ym = 0;
  for (let i = 0; i < n; i++) {
    ym += w[i] * y[i];
    for (let j = 0; j < p; j++) mean[j] += w[i] * data[i * p + j];
  }
  ym /= sw;
  for (let j = 0; j < p; j++) mean[j] /= sw;
  close(cp.yMean, ym, 1e-9, 'yMean');
  let yy = 0;
  for (let i = 0; i < n; i++) yy += w[i] * (y[i] - ym) ** 2;
  close(cp.yy, yy, 1e-10 * yy, 'yy');
  for (let a = 0; a < p; a++) {
    close(cp.xMean[a], mean[a], 1e-12 * (1 + Math.abs(mean[a])), `mean ${a}`);
    let sy = 0;
    for (let i = 0; i < n; i++) sy += w[i] * (data[i * p + a] - mean[a]) * (y[i] - ym);
    close(cp.xty[a], sy, 1e-8 * (1 + Math.abs(sy)), `xty ${a}`);
    for (let b = 0; b < p; b++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += w[i] * (data[i * p + a] - mean[a]) * (data[i * p + b] - mean[b]);
      // relative to the geometric scale of the two columns, so the year column's small
      // centered variance (~9 n) must come out right despite its mean of 2015
      const scale = Math.sqrt(Math.abs(cp.gram[a * p + a] * cp.gram[b * p + b])) + 1e-300;
      close(cp.gram[a * p + b], s, 1e-10 * scale, `Gc ${a},${b}`);
    }
  }
  assert.equal(cp.gram[8 * p + 8], 0, 'all-zero column has zero variance');
});
