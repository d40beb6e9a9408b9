/**
 * TreeSHAP against hand-computed values (a stump, a depth-2 tree) and against brute-force
 * Shapley values (all 2^M feature subsets of v(S) = E[f(x) | x_S] under the covers) on small
 * boosted ensembles with repeated features along paths, categorical splits, missing values
 * and nodes no training row reached; and the sum property expectedValue + sum(phi) = f(x).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { makeMatrix, type Matrix } from '../matrix.js';
import { GradientBoostingRegressor } from '../gbt/index.js';
import { TreeEnsembleBuilder, type TreeEnsemble } from './tree-ensemble.js';
import { goesLeft, nodeCovers, TreeExplainer } from './tree-shap.js';

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

/** v(S) for one tree: features in S follow x, others split by cover. */
function condExpectation(t: TreeEnsemble, e: TreeExplainer, k: number, x: ArrayLike<number>, S: Set<number>): number {
  if (t.feature[k] < 0) return t.value[k];
  if (S.has(t.feature[k])) return condExpectation(t, e, goesLeft(t, k, x) ? t.left[k] : t.right[k], x, S);
  return (
    e.fraction(k, t.left[k]) * condExpectation(t, e, t.left[k], x, S) +
    e.fraction(k, t.right[k]) * condExpectation(t, e, t.right[k], x, S)
  );
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

/** Shapley values by enumerating every subset (the definition). */
function bruteForce(t: TreeEnsemble, e: TreeExplainer, x: ArrayLike<number>, M: number): Float64Array {
  const v = (S: Set<number>) => {
    let s = 0;
    for (let r = 0; r < t.nTrees; r++) s += condExpectation(t, e, t.roots[r], x, S);
    return s;
  };
  const phi = new Float64Array(M);
  for (let i = 0; i < M; i++) {
    for (let mask = 0; mask < 1 << M; mask++) {
      if (mask & (1 << i)) continue;
      const S = new Set<number>();
      for (let j = 0; j < M; j++) if (mask & (1 << j)) S.add(j);
      const w = (factorial(S.size) * factorial(M - S.size - 1)) / factorial(M);
      const without = v(S);
      S.add(i);
      phi[i] += w * (v(S) - without);
    }
  }
  return phi;
}

function shap(e: TreeExplainer, x: ArrayLike<number>, M: number): Float64Array {
  const phi = new Float64Array(M);
  e.shapInto(x, phi);
  return phi;
}

test('a stump: E = 0.75 * 1 + 0.25 * 5 = 2, and phi0 = 3 for a row going right (worked example)', () => {
  const b = new TreeEnsembleBuilder();
  b.beginTree();
  const root = b.addLeaf(0);
  b.setNumericSplit(root, 0, 0.5, true);
  b.setChildren(root, b.addLeaf(1), b.addLeaf(5));
  const t = b.freeze();
  const X = makeMatrix(
    40,
    2,
    Float64Array.from({ length: 80 }, (_, i) => (i % 2 === 1 ? 7 : i < 60 ? 0 : 1)),
  );
  const cover = nodeCovers(t, X);
  assert.deepEqual(Array.from(cover), [40, 30, 10]);
  const e = new TreeExplainer(t, cover);
  assert.equal(e.expectedValue, 2);
  assert.deepEqual(Array.from(shap(e, [0.9, 3], 2)), [3, 0]);
  assert.deepEqual(Array.from(shap(e, [0.1, 3], 2)), [-1, 0]);
});

test('depth 2, two features: hand-computed Shapley values', () => {
  // root x0 <= 0 (covers 60 | 40); left: x1 <= 0 (covers 30 | 30) -> leaves 10, 20; right leaf 40
  // E = 0.6 * (0.5 * 10 + 0.5 * 20) + 0.4 * 40 = 25
  // x = (-1, 1): f = 20. v({}) = 25, v({0}) = 15, v({1}) = 0.6 * 20 + 0.4 * 40 = 28, v({0,1}) = 20
  // phi0 = 1/2 (15 - 25) + 1/2 (20 - 28) = -9 ; phi1 = 1/2 (28 - 25) + 1/2 (20 - 15) = 4 ; 25 - 9 + 4 = 20
  const b = new TreeEnsembleBuilder();
  b.beginTree();
  const root = b.addLeaf(0);
  b.setNumericSplit(root, 0, 0, true);
  const l = b.addLeaf(0);
  const r = b.addLeaf(40);
  b.setChildren(root, l, r);
  b.setNumericSplit(l, 1, 0, true);
  b.setChildren(l, b.addLeaf(10), b.addLeaf(20));
  const t = b.freeze();
  const cover = Float64Array.from([100, 60, 40, 30, 30]);
  const e = new TreeExplainer(t, cover);
  assert.equal(e.expectedValue, 25);
  const phi = shap(e, [-1, 1], 2);
  assert.ok(close(phi[0], -9) && close(phi[1], 4), `${phi[0]}, ${phi[1]}`);
  const brute = bruteForce(t, e, [-1, 1], 2);
  assert.ok(close(brute[0], -9) && close(brute[1], 4));
});

function randomData(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const data = new Float64Array(n * 5);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.next() * 4;
    const b = rng.normal();
    const c = rng.int(5);
    const d = rng.next();
    const e = rng.next();
    data.set([rng.next() < 0.1 ? NaN : a, b, rng.next() < 0.05 ? NaN : c, d, e], i * 5);
    y[i] = a * b + [2, -1, 0, 3, 1][c] * d + (a > 2 ? e : -e) + 0.05 * rng.normal();
  }
  return {
    X: makeMatrix(n, 5, data, ['a', 'b', 'c', 'd', 'e'], {
      categorical: [false, false, true, false, false],
      nCategories: [0, 0, 5, 0, 0],
    }),
    y,
  };
}

for (const depth of [3, 5]) {
  test(`boosted ensemble of depth ${depth}: TreeSHAP equals brute-force Shapley values and sums to the prediction`, () => {
    const { X, y } = randomData(300, depth);
    const m = new GradientBoostingRegressor({
      n_estimators: 8,
      max_depth: depth,
      learning_rate: 0.5,
      subsample: 0.7,
    }).fit(X, y);
    const t = m.trees!;
    // covers from fewer rows than the fit: some nodes are reached by no row
    const coverRows = makeMatrix(40, 5, X.data.slice(0, 200), X.columnNames, X);
    const e = new TreeExplainer(t, nodeCovers(t, coverRows));
    const { X: P } = randomData(25, 77);
    const pred = m.predict(P);
    for (let i = 0; i < P.nRows; i++) {
      const x = P.data.subarray(i * 5, i * 5 + 5);
      const phi = shap(e, x, 5);
      const brute = bruteForce(t, e, x, 5);
      for (let j = 0; j < 5; j++) assert.ok(close(phi[j], brute[j]), `row ${i} feature ${j}: ${phi[j]} vs ${brute[j]}`);
      const sum = m.baseScore + e.expectedValue + phi.reduce((a, b) => a + b, 0);
      assert.ok(close(sum, pred[i]), `row ${i}: ${sum} vs ${pred[i]}`);
    }
  });
}
