/**
 * CART regression tree: the best split on hand-made data, agreement with a naive exact
 * CART (checks histogram subtraction and partitioning), missing values to the learned
 * side, categorical partitions by mean target, save/load bit for bit, param errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { loadEstimator } from '../format/registry.js';
import { fromRows, makeMatrix, type Matrix } from '../matrix.js';
import { DecisionTreeRegressor } from './index.js';

const col = (xs: number[], name = 'x'): Matrix =>
  fromRows(
    xs.map((x) => [x]),
    [name],
  );

test('depth-1 tree finds the hand-computed best split', () => {
  // x = 1..6, y = [1, 2, 3, 10, 11, 30]. SSE by split point (left = x <= t):
  //   t=1: 0 + 578.8 ; t=2: 0.5 + 242 ; t=3: 2 + 222.67 ; t=4: 48.75 + 180.5 ; t=5: 85.2 + 0
  // best is x <= 5 (SSE 85.2): left mean 27/5 = 5.4, right 30; threshold midpoint 5.5
  const y = Float64Array.from([1, 2, 3, 10, 11, 30]);
  const m = new DecisionTreeRegressor({ max_depth: 1 }).fit(col([1, 2, 3, 4, 5, 6]), y);
  const t = m.trees!;
  assert.equal(t.feature[0], 0);
  assert.equal(t.threshold[0], 5.5);
  const p = m.predict(col([1, 5, 5.5, 5.6, 6]));
  const l = (1 + 2 + 3 + 10 + 11) / 5;
  assert.ok(Math.abs(p[0] - l) < 1e-12 && Math.abs(p[1] - l) < 1e-12 && Math.abs(p[2] - l) < 1e-12);
  assert.ok(Math.abs(p[3] - 30) < 1e-12 && Math.abs(p[4] - 30) < 1e-12);
  assert.ok(m.featureImportance('gain').x > 0 && m.featureImportance('split').x === 1);
});

/** Naive exact greedy CART: the oracle for histogram-based growth. */
function naiveCart(
  rows: number[][],
  y: number[],
  idx: number[],
  depth: number,
  maxDepth: number,
): (r: number[]) => number {
  const mean = idx.reduce((s, i) => s + y[i], 0) / idx.length;
  const sse = (ids: number[]) => {
    const m = ids.reduce((s, i) => s + y[i], 0) / ids.length;
    return ids.reduce((s, i) => s + (y[i] - m) ** 2, 0);
  };
  if (depth >= maxDepth || idx.length < 2) return () => mean;
  let best = { gain: 1e-9, f: -1, t: 0 };
  const parent = sse(idx);
  for (let f = 0; f < rows[0].length; f++) {
    const vals = [...new Set(idx.map((i) => rows[i][f]))].sort((a, b) => a - b);
    for (let k = 0; k + 1 < vals.length; k++) {
      const t = (vals[k] + vals[k + 1]) / 2;
      const L = idx.filter((i) => rows[i][f] <= t);
      const R = idx.filter((i) => rows[i][f] > t);
      const gain = parent - sse(L) - sse(R);
      if (gain > best.gain) best = { gain, f, t };
    }
  }
  if (best.f < 0) return () => mean;
  const { f, t } = best;
  const left = naiveCart(
    rows,
    y,
    idx.filter((i) => rows[i][f] <= t),
    depth + 1,
    maxDepth,
  );
  const right = naiveCart(
    rows,
    y,
    idx.filter((i) => rows[i][f] > t),
    depth + 1,
    maxDepth,
  );
  return (r) => (r[f] <= t ? left(r) : right(r));
}

test('histogram CART equals a naive exact CART when every value has its own bin', () => {
  const rng = new Rng(7);
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 300; i++) {
    const r = [rng.int(40), rng.int(25) / 4, rng.int(60) - 30];
    rows.push(r);
    y.push(Math.sin(r[0] / 5) * 3 + (r[1] > 3 ? 2 : 0) + r[2] * 0.05 + rng.normal() * 0.3);
  }
  for (const maxDepth of [1, 3, 6]) {
    const oracle = naiveCart(
      rows,
      y,
      rows.map((_, i) => i),
      0,
      maxDepth,
    );
    const m = new DecisionTreeRegressor({ max_depth: maxDepth }).fit(fromRows(rows), Float64Array.from(y));
    const probe = [...rows, [13.5, 2.1, 0.3], [100, -1, 99]];
    const p = m.predict(fromRows(probe));
    probe.forEach((r, i) =>
      assert.ok(Math.abs(p[i] - oracle(r)) < 1e-9, `depth ${maxDepth}, row ${i}: ${p[i]} vs ${oracle(r)}`),
    );
  }
});

test('min_samples_leaf and max_depth limit the tree', () => {
  const y = Float64Array.from([1, 2, 3, 10, 11, 30]);
  const m = new DecisionTreeRegressor({ min_samples_leaf: 3 }).fit(col([1, 2, 3, 4, 5, 6]), y);
  // only x <= 3.5 leaves 3 rows on each side; each side then cannot split again
  assert.equal(m.trees!.threshold[0], 3.5);
  assert.equal(m.trees!.nNodes, 3);
});

test('missing values go to the side learned in training; with none, to the heavier side', () => {
  // x <= 5 -> y 0, x > 5 -> y 10, missing x -> y 10: missing must join the right child
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, NaN, NaN];
  const y1 = Float64Array.from([0, 0, 0, 0, 0, 10, 10, 10, 10, 10]);
  const m1 = new DecisionTreeRegressor({ max_depth: 1 }).fit(col(xs), y1);
  assert.deepEqual(Array.from(m1.predict(col([NaN, 2, 7]))), [10, 0, 10]);
  // missing x -> y 0: joins the left child
  const y2 = Float64Array.from([0, 0, 0, 0, 0, 10, 10, 10, 0, 0]);
  const m2 = new DecisionTreeRegressor({ max_depth: 1 }).fit(col(xs), y2);
  assert.deepEqual(Array.from(m2.predict(col([NaN, 2, 7]))), [0, 0, 10]);
  // no missing in training: NaN follows the child with more rows (x <= 2 has 2, x > 2 has 5)
  const m3 = new DecisionTreeRegressor({ max_depth: 1 }).fit(
    col([1, 2, 3, 4, 5, 6, 7]),
    Float64Array.from([0, 0, 9, 9, 9, 9, 9]),
  );
  assert.deepEqual(Array.from(m3.predict(col([NaN]))), [9]);
});

test('categorical split puts categories together by mean target (best partition), unseen codes go default', () => {
  // codes 0..5, mean targets 10, -5, 3, 11, -4, 2 (4 rows each, no noise)
  const means = [10, -5, 3, 11, -4, 2];
  const rows: number[] = [];
  const y: number[] = [];
  for (let r = 0; r < 4; r++)
    means.forEach((mu, c) => {
      rows.push(c);
      y.push(mu);
    });
  const X = makeMatrix(rows.length, 1, Float64Array.from(rows), ['make'], { categorical: [true], nCategories: [7] });
  const m = new DecisionTreeRegressor({ max_depth: 1 }).fit(X, Float64Array.from(y));
  // brute force over all 2^5 partitions: best by SSE
  let bestSse = Infinity;
  let bestMask = 0;
  for (let mask = 1; mask < 63; mask++) {
    const L = means.filter((_, c) => mask & (1 << c));
    const R = means.filter((_, c) => !(mask & (1 << c)));
    const sse = (a: number[]) => a.reduce((s, v) => s + (v - a.reduce((q, w) => q + w, 0) / a.length) ** 2, 0);
    const s = 4 * (sse(L) + sse(R));
    if (s < bestSse - 1e-9) {
      bestSse = s;
      bestMask = mask;
    }
  }
  const high = means.map((_, c) => c).filter((c) => bestMask & (1 << c));
  assert.deepEqual(high.sort(), [0, 3]); // {10, 11} vs the rest
  const p = m.predict(makeMatrix(9, 1, Float64Array.from([0, 1, 2, 3, 4, 5, 6, 99, NaN]), ['make']));
  assert.ok(Math.abs(p[0] - 10.5) < 1e-12 && Math.abs(p[3] - 10.5) < 1e-12);
  for (const c of [1, 2, 4, 5]) assert.ok(Math.abs(p[c] - -1) < 1e-12);
  // code 6 (declared, never seen), 99 (out of range) and NaN all take the default direction
  assert.equal(p[6], p[8]);
  assert.equal(p[7], p[8]);
});

test('save/load gives bit-identical predictions', () => {
  const rng = new Rng(3);
  const n = 400;
  const data = new Float64Array(n * 3);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    data[i * 3] = rng.next() < 0.1 ? NaN : rng.normal();
    data[i * 3 + 1] = rng.int(5);
    data[i * 3 + 2] = rng.next() * 100;
    y[i] = data[i * 3 + 1] * 2 + (data[i * 3] || 0) + rng.normal();
  }
  const X = makeMatrix(n, 3, data, ['a', 'b', 'c'], { categorical: [false, true, false], nCategories: [0, 5, 0] });
  const m = new DecisionTreeRegressor({ max_depth: 8, min_samples_leaf: 3 }).fit(X, y);
  const back = loadEstimator(JSON.parse(JSON.stringify(m.toJSON())));
  assert.equal(back.kind, 'tree');
  const a = m.predict(X);
  const b = back.predict(X);
  for (let i = 0; i < n; i++) assert.ok(Object.is(a[i], b[i]));
});

test('unknown params and bad values are USAGE errors naming the param', () => {
  assert.throws(
    () => new DecisionTreeRegressor({ max_dept: 3 }),
    (e) => isAppError(e, 'USAGE') && /"max_dept"/.test(e.message) && /max_depth/.test(e.message),
  );
  assert.throws(
    () => new DecisionTreeRegressor({ max_depth: -1 }),
    (e) =>
      isAppError(e, 'USAGE') &&
      /parameter "max_depth" must be an integer from 0 to 1000 \(or null\), got -1/.test(e.message),
  );
  assert.throws(
    () => new DecisionTreeRegressor({ max_features: 'all' }),
    (e) => isAppError(e, 'USAGE') && /max_features/.test(e.message),
  );
  assert.equal(new DecisionTreeRegressor({ max_depth: null }).params().max_depth, 0);
});

test('predict checks columns and fit state', () => {
  const m = new DecisionTreeRegressor();
  assert.throws(
    () => m.predict(col([1])),
    (e) => isAppError(e, 'MODEL_INVALID') && /before fit/.test(e.message),
  );
  m.fit(col([1, 2, 3]), Float64Array.from([1, 2, 3]));
  assert.throws(
    () => m.predict(col([1], 'other')),
    (e) => isAppError(e, 'MODEL_INVALID') && /"other"/.test(e.message),
  );
  assert.throws(
    () => m.fit(col([1, 2]), Float64Array.from([1, NaN])),
    (e) => isAppError(e, 'MODEL_INVALID') && /y\[1\]/.test(e.message),
  );
});
