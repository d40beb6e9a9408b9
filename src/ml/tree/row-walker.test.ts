/**
 * RowWalker: the lockstep one-row walk gives TreeEnsemble's batch sums bit for bit, on
 * boosted trees with numeric and categorical splits, missing values, unseen and
 * non-integer codes, and ensembles whose tree count is not a multiple of four.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { makeMatrix } from '../matrix.js';
import { GradientBoostingRegressor } from '../gbt/index.js';
import { RowWalker } from './row-walker.js';

function data(n: number, seed: number, holes: boolean) {
  const rng = new Rng(seed);
  const X = new Float64Array(n * 4);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.next() * 10;
    const b = rng.normal();
    const c = rng.int(6);
    const d = rng.next();
    X.set([holes && rng.next() < 0.1 ? NaN : a, b, holes && rng.next() < 0.1 ? NaN : c, d], i * 4);
    y[i] = Math.sin(a) + b * b + [3, -1, 0, 2, -2, 1][c] + 0.1 * rng.normal();
  }
  return {
    X: makeMatrix(n, 4, X, ['a', 'b', 'c', 'd'], {
      categorical: [false, false, true, false],
      nCategories: [0, 0, 6, 0],
    }),
    y,
  };
}

for (const [depth, rounds] of [
  [3, 37],
  [6, 20],
  [1, 5],
] as const) {
  test(`depth ${depth}, ${rounds} trees: walker sums equal sumInto bit for bit`, () => {
    const { X, y } = data(400, depth, true);
    const m = new GradientBoostingRegressor({ n_estimators: rounds, max_depth: depth, learning_rate: 0.3 }).fit(X, y);
    const trees = m.trees!;
    const walker = new RowWalker(trees);
    assert.ok(walker.maxDepth <= depth && walker.maxDepth >= 1);
    // probe rows: the training rows plus missing values, unseen, negative and fractional codes
    const { X: P } = data(300, 99, true);
    const probe = Float64Array.from(P.data);
    for (let i = 0; i < 40; i++) probe[i * 4 + 2] = [7, -1, 2.5, NaN, 5, 1e9][i % 6];
    for (const M of [X, { ...P, data: probe }]) {
      const batch = trees.sumInto(M, new Float64Array(M.nRows), m.baseScore);
      for (let i = 0; i < M.nRows; i++) {
        const row = M.data.slice(i * 4, i * 4 + 4);
        assert.ok(Object.is(walker.sum(row, m.baseScore), batch[i]), `row ${i}`);
      }
    }
  });
}
