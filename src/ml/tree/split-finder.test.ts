/**
 * Split search on hand-built histograms: the best numeric cut with missing values sent to
 * the better side (gain computed by hand), gamma pruning, min_child_weight, and the
 * allocation-free category sort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { makeMatrix } from '../matrix.js';
import { binMatrix } from './binning.js';
import { SplitFinder, SplitInfo, sortByKey, type SplitParams } from './split-finder.js';

const params = (over: Partial<SplitParams> = {}): SplitParams => ({
  lambda: 1,
  gamma: 0,
  minChildWeight: 0,
  minSamplesLeaf: 0,
  catSmooth: 0,
  catL2: 0,
  maxCatThreshold: 64,
  minDataPerGroup: 0,
  ...over,
});

// rows x = [1, 1, 2, 3, NaN] with gradients g = [-2, -2, 1, 3, -4], h = 1; bins: 0 = NaN, 1..3
const X = makeMatrix(5, 1, Float64Array.from([1, 1, 2, 3, NaN]), ['x']);
// stride 3 histogram [g, h, count] per bin
const hist = Float64Array.from([-4, 1, 1, -4, 2, 2, 1, 1, 1, 3, 1, 1]);

test('best numeric split and missing side match the hand computation', () => {
  // lambda 1, parent score G^2/(H+1) = 16/6. Candidates (left = value bins <= t):
  //   t=1, NaN right: 16/3 + 0/4 - 16/6 = 2.667     t=1, NaN left: 64/4 + 16/3 - 16/6 = 18.667
  //   t=2, NaN right: 9/4 + 1/3 - 16/6 = -0.083     t=2, NaN left: 49/5 + 9/2 - 16/6 = 11.633
  const finder = new SplitFinder(binMatrix(X), params(), 3);
  const best = new SplitInfo();
  finder.find(hist, Int32Array.from([0]), 1, -4, 5, 5, best);
  assert.equal(best.feature, 0);
  assert.equal(best.bin, 1);
  assert.equal(best.defaultLeft, true);
  assert.ok(Math.abs(best.gain - 56 / 3) < 1e-12);
  assert.deepEqual([best.GL, best.HL, best.CL], [-8, 3, 3]);
});

test('gamma above the best gain and min_child_weight prune candidates', () => {
  const best = new SplitInfo();
  new SplitFinder(binMatrix(X), params({ gamma: 19 }), 3).find(hist, Int32Array.from([0]), 1, -4, 5, 5, best);
  assert.equal(best.found, false);
  // min_child_weight 3: every candidate has a child with hessian below 3, so no split
  new SplitFinder(binMatrix(X), params({ minChildWeight: 3 }), 3).find(hist, Int32Array.from([0]), 1, -4, 5, 5, best);
  assert.equal(best.found, false);
  // min_child_weight 2: t=1 NaN left (3 | 2) is allowed and still the best
  new SplitFinder(binMatrix(X), params({ minChildWeight: 2 }), 3).find(hist, Int32Array.from([0]), 1, -4, 5, 5, best);
  assert.equal(best.bin, 1);
  assert.equal(best.defaultLeft, true);
});

test('sortByKey orders by key, ties by index, for short and long runs', () => {
  const rng = new Rng(11);
  for (const m of [0, 1, 2, 5, 13, 40, 255]) {
    const keys = Float64Array.from({ length: 256 }, () => rng.int(7) - 3);
    const order = Int32Array.from({ length: 256 }, (_, i) => 255 - i);
    sortByKey(order, m, keys);
    const want = Array.from({ length: m }, (_, i) => 255 - i).sort((a, b) => keys[a] - keys[b] || a - b);
    assert.deepEqual(Array.from(order.subarray(0, m)), want);
  }
});
