/**
 * Sparse histograms (non-default cells + "most frequent bin = total - others") grow the
 * same trees as dense histograms, bit for bit, for unit hessians (stride 2) and weighted ones with counts (stride 3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { columnMatrix, makeMatrix, sparseBinary } from '../matrix.js';
import { binMatrix } from './binning.js';
import { duplicateFeatures, sparseLayout } from './histogram-kernels.js';
import { byPattern } from './histogram-patterns.js';
import { TreeGrower, type GrowParams } from './grower.js';
import { TreeEnsembleBuilder, type SavedTrees } from './tree-ensemble.js';

function sparseData(n: number, seed: number) {
  const rng = new Rng(seed);
  const nInd = 40;
  // two duplicates at the end: a monotone transform of age (same bins), a copy of word 3
  const p = nInd + 5;
  const data = new Float64Array(n * p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < nInd; j++) {
      const on = rng.next() < 0.06 ? 1 : 0;
      data[i * p + j] = on;
      t += on * (j % 5) * 0.7;
    }
    const age = Math.floor(rng.next() * 15);
    data[i * p + nInd] = age;
    data[i * p + nInd + 1] = rng.next() < 0.1 ? NaN : rng.next() * 100000; // missing values
    data[i * p + nInd + 2] = Math.floor(rng.next() * 4); // few distinct values
    data[i * p + nInd + 3] = Math.log1p(age);
    data[i * p + nInd + 4] = data[i * p + 3];
    y[i] = t - 0.2 * age + (data[i * p + nInd + 2] === 2 ? 1 : 0) + 0.1 * rng.normal();
  }
  return {
    X: makeMatrix(
      n,
      p,
      data,
      Array.from({ length: p }, (_, j) => `c${j}`),
    ),
    y,
  };
}

const PARAMS: GrowParams = {
  maxDepth: 5,
  maxLeaves: 0,
  lossguide: false,
  minChildWeight: 1,
  minSamplesLeaf: 1,
  minSamplesSplit: 2,
  lambda: 1,
  gamma: 0,
  catSmooth: 0,
  catL2: 0,
  maxCatThreshold: 32,
  minDataPerGroup: 0,
  featuresPerNode: 1000,
  leafScale: 1,
  leafShift: 0,
};

function grow(mode: 'auto' | 'dense' | 'sparse', stride: 2 | 3, params: GrowParams = PARAMS): SavedTrees {
  const { X, y } = sparseData(600, 3);
  const binned = binMatrix(X);
  const grower = new TreeGrower(binned, params, stride, false, mode);
  const n = X.nRows;
  const gh = new Float64Array(2 * n);
  const rng = new Rng(9);
  for (let i = 0; i < n; i++) {
    // dyadic values: every sum is exact in float64 whatever the order of addition, so the
    // two paths must agree bit for bit (with arbitrary values a near-tie between two
    // splits could go either way by rounding)
    gh[2 * i] = -Math.round(y[i] * 64) / 64;
    gh[2 * i + 1] = stride === 2 ? 1 : 0.5 + Math.floor(rng.next() * 16) / 16;
  }
  const out = new TreeEnsembleBuilder();
  // all features, then a column sample (the fill-in must cover exactly the sampled ones)
  const all = new Int32Array(X.nCols).map((_, j) => j);
  const sample = Int32Array.from([40, 41, 42, 0, 3, 7, 11, 19, 23, 31]);
  for (const [feats, nf] of [
    [all, all.length],
    [sample, sample.length],
  ] as const) {
    const rows = new Uint32Array(n).map((_, i) => i);
    grower.grow(rows, n, gh, feats, nf, new Rng(1), out);
  }
  return out.freeze().toJSON();
}

for (const stride of [2, 3] as const) {
  test(`stride ${stride}: sparse and dense histograms grow the same trees`, () => {
    const dense = grow('dense', stride);
    const sparse = grow('sparse', stride);
    for (const k of ['roots', 'feature', 'threshold', 'left', 'right', 'flags'] as const)
      assert.deepEqual(sparse[k], dense[k], k);
    assert.ok(dense.feature.filter((f) => f >= 0 && f < 40).length >= 3, 'indicator columns are used by the trees');
    assert.deepEqual(sparse.value, dense.value);
    // ~6% of the indicator cells are non-default: 'auto' takes the sparse path
    assert.deepEqual(grow('auto', stride), sparse);
  });
}

test('leaf-wise growth with a leaf cap agrees too', () => {
  const p = { ...PARAMS, maxDepth: 0, maxLeaves: 12, lossguide: true };
  const dense = grow('dense', 2, p);
  const sparse = grow('sparse', 2, p);
  assert.deepEqual(sparse.feature, dense.feature);
  assert.deepEqual(sparse.threshold, dense.threshold);
});

test('duplicate features (same bins in every row) have no cells and copy their original', () => {
  const { X } = sparseData(600, 3);
  const binned = binMatrix(X);
  const dupOf = duplicateFeatures(binned);
  const found = [...dupOf].flatMap((o, f) => (o >= 0 ? [[f, o]] : []));
  assert.deepEqual(found, [
    [43, 40],
    [44, 3],
  ]);
  // column-built: sparse 0/1 columns with the same rows are duplicates too
  const ones = Uint32Array.from([2, 5, 9]);
  const M = columnMatrix(
    12,
    [sparseBinary(12, ones), Float64Array.from({ length: 12 }, (_, i) => i % 3), sparseBinary(12, ones.slice())],
    ['a', 'b', 'c'],
  );
  assert.deepEqual([...duplicateFeatures(binMatrix(M))], [-1, -1, 0]);
  const layout = sparseLayout(binned, 1) as NonNullable<ReturnType<typeof sparseLayout>>;
  assert.deepEqual([...layout.dupOf], [...dupOf]);
});

/** Rows whose words and flags repeat a few patterns (words of one of 12 variants, one of 6 flag sets). */
function patternData(n: number, seed: number) {
  const rng = new Rng(seed);
  const nWords = 30;
  const nFlags = 6;
  const p = nWords + nFlags + 2;
  const variants = Array.from({ length: 12 }, () => Array.from({ length: nWords }, () => (rng.next() < 0.15 ? 1 : 0)));
  const flagSets = Array.from({ length: 6 }, () =>
    Array.from({ length: nFlags }, () => (rng.next() < 0.2 ? NaN : rng.next() < 0.5 ? 1 : 0)),
  );
  const data = new Float64Array(n * p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = variants[rng.int(12)];
    const fl = flagSets[rng.int(6)];
    let t = 0;
    for (let j = 0; j < nWords; j++) {
      data[i * p + j] = v[j];
      t += v[j] * (j % 4) * 0.5;
    }
    for (let j = 0; j < nFlags; j++) {
      data[i * p + nWords + j] = fl[j];
      t += (fl[j] === 1 ? 0.3 : 0) * j;
    }
    const age = Math.floor(rng.next() * 15);
    data[i * p + nWords + nFlags] = age;
    data[i * p + nWords + nFlags + 1] = rng.next() * 1000;
    y[i] = t - 0.2 * age + 0.1 * rng.normal();
  }
  return { X: makeMatrix(n, p, data), y };
}

for (const words of ['dense', 'sparse 0/1'] as const)
  test(`row patterns (${words} words, flags): by pattern on large nodes, direct on small ones, the same trees as dense histograms`, () => {
    const data = patternData(3000, 5);
    const y = data.y;
    let X = data.X;
    if (words === 'sparse 0/1') {
      const cols = Array.from({ length: X.nCols }, (_, j) => {
        const c = Float64Array.from({ length: X.nRows }, (_, i) => X.data[i * X.nCols + j]);
        return j < 30 ? sparseBinary(X.nRows, Uint32Array.from([...c].flatMap((v, i) => (v === 1 ? [i] : [])))) : c;
      });
      X = columnMatrix(X.nRows, cols);
    }
    const binned = binMatrix(X);
    const layout = sparseLayout(binned, 1) as NonNullable<ReturnType<typeof sparseLayout>>;
    // dense words and flags are all few-bin features: one group; sparse 0/1 words are a group of their own
    assert.equal(layout.groups.length, words === 'dense' ? 1 : 2);
    const g = layout.groups[0];
    assert.ok(g.nPatterns <= 72 && g.nPatterns > 5, `${g.nPatterns} patterns`);
    assert.ok(byPattern(g, 3000) && !byPattern(g, 20), 'the root by pattern, a node of 20 rows directly');
    for (const stride of [2, 3] as const) {
      /** The trees, and each row's leaf value (boosting's update: by the split's table at the depth limit with addTo). */
      const trees = (mode: 'dense' | 'sparse', boosting: boolean) => {
        const grower = new TreeGrower(binned, { ...PARAMS, maxDepth: 7 }, stride, false, mode);
        const gh = new Float64Array(2 * X.nRows);
        const rng = new Rng(4);
        for (let i = 0; i < X.nRows; i++) {
          gh[2 * i] = -Math.round(y[i] * 64) / 64; // dyadic: sums exact in any order
          gh[2 * i + 1] = stride === 2 ? 1 : 0.5 + Math.floor(rng.next() * 16) / 16;
        }
        const out = new TreeEnsembleBuilder();
        const all = new Int32Array(X.nCols).map((_, j) => j);
        const rows = new Uint32Array(X.nRows).map((_, i) => i);
        const pred = new Float64Array(X.nRows);
        const t = grower.grow(rows, X.nRows, gh, all, all.length, new Rng(1), out, boosting ? pred : undefined);
        if (!boosting)
          for (let k = 0; k < t.nLeaves; k++)
            for (let q = t.leafStart[k]; q < t.leafEnd[k]; q++) pred[rows[q]] = t.leafValue[k];
        return { saved: out.freeze().toJSON(), pred };
      };
      const dense = trees('dense', false);
      const sparse = trees('sparse', false);
      assert.deepEqual(sparse.saved, dense.saved, `stride ${stride}`);
      const boosted = trees('sparse', true);
      assert.deepEqual(boosted.saved, dense.saved);
      assert.deepEqual(boosted.pred, dense.pred, 'every row credited its leaf, by pattern at the depth limit');
      assert.ok(dense.saved.feature.filter((f) => f >= 0 && f < 36).length >= 3, 'word and flag columns are used');
    }
  });

test("float32 boosting rounds: sparse histograms (WebAssembly kernels) grow the trees of dense ones (JavaScript), on the kernels' arrays or copies of the caller's", () => {
  const { X, y } = patternData(3000, 8);
  const binned = binMatrix(X);
  /** Ten boosting rounds with float32 gradients (the kernels' own arrays when `own`). */
  const boost = (mode: 'dense' | 'sparse', own: boolean) => {
    const grower = new TreeGrower(binned, { ...PARAMS, maxDepth: 6, leafScale: 0.3 }, 2, false, mode, {
      float32Gradients: true,
    });
    const work = own ? grower.workArrays() : null;
    assert.equal(grower.workArrays() !== null, mode === 'sparse');
    const n = X.nRows;
    const pred = work?.pred ?? new Float64Array(n);
    const gh = work?.gh ?? new Float32Array(2 * n);
    const rows = work?.rows ?? new Uint32Array(n);
    pred.fill(0);
    const out = new TreeEnsembleBuilder();
    const all = new Int32Array(X.nCols).map((_, j) => j);
    const leaves: number[][] = [];
    for (let t = 0; t < 10; t++) {
      for (let i = 0; i < n; i++) {
        gh[2 * i] = pred[i] - y[i];
        gh[2 * i + 1] = 1;
        rows[i] = i;
      }
      const g = grower.grow(rows, n, gh, all, all.length, new Rng(t), out, pred);
      leaves.push([...g.leafStart, ...g.leafEnd, ...rows]);
    }
    return { saved: out.freeze().toJSON(), pred: Float64Array.from(pred), leaves };
  };
  const dense = boost('dense', false);
  const own = boost('sparse', true);
  const copied = boost('sparse', false);
  // the same kernels on copies of the caller's arrays: the same bits, rows left in the same order
  assert.deepEqual(copied, own);
  // against dense histograms: pattern sums add in another order (last bits of leaf values)
  for (const k of ['roots', 'feature', 'threshold', 'left', 'right', 'flags'] as const)
    assert.deepEqual(own.saved[k], dense.saved[k], k);
  own.saved.value.forEach((v, i) => assert.ok(Math.abs(v - dense.saved.value[i]) < 1e-9, `leaf ${i}`));
  own.pred.forEach((v, i) => assert.ok(Math.abs(v - dense.pred[i]) < 1e-9, `row ${i}`));
  assert.ok(own.saved.feature.filter((f) => f >= 0 && f < 36).length >= 3, 'word and flag columns are used');
});
