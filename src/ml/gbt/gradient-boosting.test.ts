/**
 * Gradient boosting: hand-computed stumps, monotone training loss, early stopping keeping
 * the best round, categorical splits, missing values, determinism by seed, save/load bit
 * for bit, loss gradients against finite differences, param errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { loadEstimator } from '../format/registry.js';
import {
  columnMatrix,
  denseValues,
  fromRows,
  makeMatrix,
  matrixColumn,
  sparseBinary,
  takeRows,
  type Matrix,
} from '../matrix.js';
import { nodeCovers } from '../tree/tree-shap.js';
import { GradientBoostingRegressor } from './index.js';
import { makeLoss } from './loss.js';

const col = (xs: number[]): Matrix =>
  fromRows(
    xs.map((x) => [x]),
    ['x'],
  );

test('depth-1 GBDT equals the hand-computed stumps (two rounds)', () => {
  // x = 1..4, y = [1, 2, 3, 10]; base_score = mean = 4; lambda 1, lr 0.5.
  // Round 1: g = pred - y = [3, 2, 1, -6], h = 1. Gains G_L^2/(H_L+1) + G_R^2/(H_R+1) - G^2/(H+1):
  //   x<=1: 9/2 + 9/4 = 6.75; x<=2: 25/3 + 25/3 = 16.67; x<=3: 36/4 + 36/2 = 27  -> split x <= 3.5
  //   leaves: -6/(3+1)*0.5 = -0.75 -> 3.25 ; 6/(1+1)*0.5 = 1.5 -> 5.5
  // Round 2: g = [2.25, 1.25, 0.25, -4.5], G = -0.75; x<=3 is best again (13.53 vs 9.99, 4.67)
  //   leaves: -3.75/4*0.5 = -0.46875 -> 2.78125 ; 4.5/2*0.5 = 1.125 -> 6.625
  const X = col([1, 2, 3, 4]);
  const y = Float64Array.from([1, 2, 3, 10]);
  const one = new GradientBoostingRegressor({ n_estimators: 1, max_depth: 1, learning_rate: 0.5, reg_lambda: 1 }).fit(
    X,
    y,
  );
  assert.equal(one.baseScore, 4);
  assert.equal(one.trees!.threshold[0], 3.5);
  assert.deepEqual(Array.from(one.predict(X)), [3.25, 3.25, 3.25, 5.5]);
  const two = new GradientBoostingRegressor({ n_estimators: 2, max_depth: 1, learning_rate: 0.5, reg_lambda: 1 }).fit(
    X,
    y,
  );
  assert.deepEqual(Array.from(two.predict(X)), [2.78125, 2.78125, 2.78125, 6.625]);
  assert.deepEqual(two.featureImportance('split'), { x: 2 });
  assert.ok(Math.abs(two.featureImportance('gain').x - (27 + (3.75 ** 2 / 4 + 4.5 ** 2 / 2 - 0.75 ** 2 / 5))) < 1e-12);
});

test('base_score, gamma and min_child_weight act as in XGBoost', () => {
  const X = col([1, 2, 3, 4]);
  const y = Float64Array.from([1, 2, 3, 10]);
  const fixed = new GradientBoostingRegressor({ n_estimators: 1, max_depth: 1, learning_rate: 0.5, base_score: 0 }).fit(
    X,
    y,
  );
  assert.equal(fixed.baseScore, 0);
  // gamma above the best gain (27) forbids the split: prediction is base_score + leaf of all rows
  const pruned = new GradientBoostingRegressor({ n_estimators: 1, max_depth: 1, learning_rate: 0.5, gamma: 28 }).fit(
    X,
    y,
  );
  assert.deepEqual(Array.from(pruned.predict(X)), [4, 4, 4, 4]);
  // min_child_weight 2 rules out the 3|1 split, leaving x <= 2.5 (gain 16.67)
  const mcw = new GradientBoostingRegressor({
    n_estimators: 1,
    max_depth: 1,
    learning_rate: 0.5,
    min_child_weight: 2,
  }).fit(X, y);
  assert.equal(mcw.trees!.threshold[0], 2.5);
});

function noisyData(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const data = new Float64Array(n * 4);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    data[i * 4] = rng.normal();
    data[i * 4 + 1] = rng.next() < 0.15 ? NaN : rng.next() * 10;
    data[i * 4 + 2] = rng.int(6);
    data[i * 4 + 3] = rng.normal();
    y[i] = 2 * data[i * 4] + (data[i * 4 + 1] > 5 ? 3 : 0) + [0, 4, -2, 1, 3, -1][data[i * 4 + 2]] + rng.normal();
  }
  const X = makeMatrix(n, 4, data, ['a', 'b', 'c', 'd'], {
    categorical: [false, false, true, false],
    nCategories: [0, 0, 6, 0],
  });
  return { X, y };
}

test('the covers counted during the fit are the node covers of the training matrix, whatever the growth', () => {
  const { X, y } = noisyData(700, 3);
  // the same matrix built from columns, with a 0/1 byte column added (word indicators)
  const rng = new Rng(9);
  const bytes = Uint8Array.from({ length: 700 }, () => (rng.next() < 0.2 ? 1 : 0));
  const cols = [0, 1, 2, 3].map((j) => matrixColumn(X, j));
  const XC = columnMatrix(700, [...cols, bytes], ['a', 'b', 'c', 'd', 'w'], {
    categorical: [false, false, true, false, false],
    nCategories: [0, 0, 6, 0, 0],
  });
  const valid = noisyData(200, 4);
  const configs: Record<string, unknown>[] = [
    { n_estimators: 20, max_depth: 6 },
    { n_estimators: 20, max_depth: 4, subsample: 0.7, colsample_bytree: 0.75, colsample_bynode: 0.7 },
    { n_estimators: 15, max_depth: 0, max_leaves: 9, grow_policy: 'lossguide', subsample: 0.8 },
    { n_estimators: 15, max_depth: 3, objective: 'reg:pseudohubererror', min_child_weight: 3 },
  ];
  for (const params of configs)
    for (const M of [X, XC]) {
      const m = new GradientBoostingRegressor(params).fit(M, y);
      assert.deepEqual(Array.from(m.trainingCovers!), Array.from(nodeCovers(m.trees!, M)), JSON.stringify(params));
    }
  // early stopping keeps a prefix of the trees, and of the covers
  const es = new GradientBoostingRegressor({ n_estimators: 200, max_depth: 5, early_stopping_rounds: 5 }).fit(X, y, {
    valid: { X: valid.X, y: valid.y },
  });
  assert.ok(es.nTrees < 200);
  assert.deepEqual(Array.from(es.trainingCovers!), Array.from(nodeCovers(es.trees!, X)));
  // a loaded model has none
  assert.equal((loadEstimator(es.toJSON()) as GradientBoostingRegressor).trainingCovers, null);
});

test('sparse 0/1 columns (word indicators) train the same model as the same columns as bytes', () => {
  const n = 900;
  const { X, y } = noisyData(n, 6);
  const rng = new Rng(11);
  // a rare word, a common one (more ones than zeros: its default bin is the ones'), one never
  // seen; then 14 rarer ones, which make the matrix sparse enough for sparse histograms
  for (const p of [
    [0.05, 0.7, 0],
    [0.05, 0.7, 0, ...new Array<number>(14).fill(0.01)],
  ]) {
    const bytes = p.map((q) => Uint8Array.from({ length: n }, () => (rng.next() < q ? 1 : 0)));
    const yy = y.map((v, i) => v + 3 * bytes[0][i] - bytes[1][i]);
    const sparse = bytes.map((b) => sparseBinary(n, Uint32Array.from(Array.from(b).flatMap((v, i) => (v ? [i] : [])))));
    const dense = [0, 1, 2, 3].map((j) => matrixColumn(X, j));
    const meta = {
      categorical: [false, false, true, false, ...p.map(() => false)],
      nCategories: [0, 0, 6, 0, ...p.map(() => 0)],
    };
    const names = ['a', 'b', 'c', 'd', ...p.map((_, k) => `w${k}`)];
    const XB = columnMatrix(n, [...dense, ...bytes], names, meta);
    const XS = columnMatrix(n, [...dense, ...sparse], names, meta);
    assert.deepEqual(Array.from(denseValues(sparse[1])), Array.from(bytes[1]));
    for (const params of [
      { n_estimators: 25, max_depth: 5 },
      { n_estimators: 25, max_depth: 4, subsample: 0.7, colsample_bynode: 0.8 },
      { n_estimators: 10, max_depth: 3, objective: 'reg:pseudohubererror' },
    ]) {
      const b = new GradientBoostingRegressor(params).fit(XB, yy);
      const s = new GradientBoostingRegressor(params).fit(XS, yy);
      assert.deepEqual(s.toJSON(), b.toJSON(), JSON.stringify(params));
      assert.ok(s.featureImportance('split').w0 > 0, 'the rare word is used');
      assert.deepEqual(Array.from(s.predict(XS)), Array.from(b.predict(XB)));
      assert.deepEqual(Array.from(s.trainingCovers!), Array.from(nodeCovers(s.trees!, XS)));
    }
    // rows of a sparse matrix (unsorted, repeated) are the rows of the byte one
    const idx = [5, 3, 3, 899, 0, 42];
    assert.deepEqual(takeRows(XS, idx).data, takeRows(XB, idx).data);
    assert.deepEqual(XS.data, XB.data);
  }
});

test('training loss decreases monotonically (squared error, no subsampling)', () => {
  const { X, y } = noisyData(500, 1);
  const m = new GradientBoostingRegressor({ n_estimators: 60, max_depth: 4, learning_rate: 0.3 }).fit(X, y);
  const h = m.history.train;
  assert.equal(h.length, 60);
  assert.equal(m.history.metric, 'rmse');
  for (let t = 1; t < h.length; t++) assert.ok(h[t] <= h[t - 1], `round ${t}: ${h[t]} > ${h[t - 1]}`);
  assert.ok(h[59] < h[0]);
  // round t's metric (measured in round t + 1's gradient pass, the last one after the loop)
  // is the RMSE of the first t + 1 trees' predictions, bit for bit
  for (const t of [0, 1, 30, 59]) {
    const p = m.predictFirst(X, t + 1);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) * (p[i] - y[i]);
    assert.equal(h[t], Math.sqrt(s / y.length), `round ${t}`);
  }
});

test('early stopping stops and keeps the best iteration', () => {
  // pure noise: the validation error is lowest early and then rises
  const rng = new Rng(5);
  const mk = (n: number) => {
    const d = Float64Array.from({ length: n * 2 }, () => rng.normal());
    return { X: makeMatrix(n, 2, d, ['u', 'v']), y: Float64Array.from({ length: n }, () => rng.normal()) };
  };
  const train = mk(300);
  const valid = mk(300);
  const m = new GradientBoostingRegressor({
    n_estimators: 200,
    max_depth: 6,
    learning_rate: 0.5,
    early_stopping_rounds: 5,
  }).fit(train.X, train.y, { valid });
  const v = m.history.valid;
  const best = v.indexOf(Math.min(...v));
  assert.equal(m.bestIteration, best);
  assert.equal(v.length, best + 6, 'stops exactly 5 rounds after the best');
  assert.ok(v.length < 200);
  assert.equal(m.nTrees, best + 1);
  // the kept model is the model trained for best + 1 rounds
  const ref = new GradientBoostingRegressor({ n_estimators: best + 1, max_depth: 6, learning_rate: 0.5 }).fit(
    train.X,
    train.y,
  );
  assert.deepEqual(Array.from(m.predict(valid.X)), Array.from(ref.predict(valid.X)));
  assert.throws(
    () => new GradientBoostingRegressor({ early_stopping_rounds: 5 }).fit(train.X, train.y),
    (e) => isAppError(e, 'USAGE') && /valid/.test(e.message),
  );
});

test('categorical split separates interleaved categories by mean target in one split', () => {
  // codes 0, 2, 4 have y = 10; codes 1, 3, 5 have y = 0: no single threshold on the code
  // separates them, a categorical split does; one depth-1 tree with lr 1 and lambda 0
  // then predicts each group's mean exactly
  const codes: number[] = [];
  const y: number[] = [];
  for (let r = 0; r < 10; r++)
    for (let c = 0; c < 6; c++) {
      codes.push(c);
      y.push(c % 2 === 0 ? 10 : 0);
    }
  const X = makeMatrix(codes.length, 1, Float64Array.from(codes), ['color'], { categorical: [true], nCategories: [6] });
  const params = { n_estimators: 1, max_depth: 1, learning_rate: 1, reg_lambda: 0, cat_l2: 0, cat_smooth: 0 };
  const m = new GradientBoostingRegressor(params).fit(X, Float64Array.from(y));
  assert.deepEqual(Array.from(m.predict(X)), y);
  // the same column as plain numbers cannot do it in one split
  const numeric = new GradientBoostingRegressor(params).fit(
    makeMatrix(codes.length, 1, Float64Array.from(codes), ['color']),
    Float64Array.from(y),
  );
  assert.notDeepEqual(Array.from(numeric.predict(X)), y);
});

test('missing values go to the learned side', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, NaN, NaN];
  const y = Float64Array.from([0, 0, 0, 0, 0, 10, 10, 10, 10, 10]);
  const m = new GradientBoostingRegressor({
    n_estimators: 1,
    max_depth: 1,
    learning_rate: 1,
    reg_lambda: 0,
    min_child_weight: 0,
  }).fit(col(xs), y);
  assert.deepEqual(Array.from(m.predict(col([NaN, 1, 8]))), [10, 0, 10]);
});

test('the same seed gives the same model; another seed another one', () => {
  const { X, y } = noisyData(400, 2);
  const params = {
    n_estimators: 30,
    max_depth: 4,
    learning_rate: 0.2,
    subsample: 0.7,
    colsample_bytree: 0.75,
    colsample_bynode: 0.7,
  };
  const a = JSON.stringify(new GradientBoostingRegressor({ ...params, random_state: 9 }).fit(X, y).toJSON());
  const b = JSON.stringify(new GradientBoostingRegressor({ ...params, seed: 9 }).fit(X, y).toJSON());
  const c = JSON.stringify(new GradientBoostingRegressor({ ...params, random_state: 10 }).fit(X, y).toJSON());
  assert.equal(a.replace('"seed"', '"random_state"'), b.replace('"seed"', '"random_state"'));
  assert.notEqual(a, c);
});

test('subsampled training predictions equal predict() on the training rows', () => {
  const { X, y } = noisyData(300, 4);
  const m = new GradientBoostingRegressor({
    n_estimators: 3,
    max_depth: 3,
    subsample: 0.5,
    learning_rate: 1,
    reg_lambda: 0,
  }).fit(X, y);
  // training RMSE is tracked from internal (binned) predictions; predict() walks raw values
  const p = m.predict(X);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) ** 2;
  assert.equal(Math.sqrt(s / y.length), m.history.train[2]);
});

test('save/load gives bit-identical predictions, NaN and unseen codes included', () => {
  const { X, y } = noisyData(600, 3);
  const m = new GradientBoostingRegressor({ n_estimators: 40, max_depth: 5, learning_rate: 0.2, subsample: 0.8 }).fit(
    X,
    y,
  );
  const saved = m.toJSON();
  assert.equal(saved.kind, 'gbdt');
  assert.equal(saved.formatVersion, 1);
  const back = loadEstimator(JSON.parse(JSON.stringify(saved)));
  const probe = makeMatrix(3, 4, Float64Array.from([0.1, NaN, 99, 0, NaN, 3, NaN, NaN, 1, 7, 2.5, 0]), [
    'a',
    'b',
    'c',
    'd',
  ]);
  for (const Z of [X, probe]) {
    const a = m.predict(Z);
    const b = back.predict(Z);
    for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]));
  }
  assert.deepEqual(back.featureImportance!('gain'), m.featureImportance('gain'));
  assert.deepEqual(back.params(), m.params());
});

test('loss-guided growth respects max_leaves', () => {
  const { X, y } = noisyData(500, 6);
  const m = new GradientBoostingRegressor({
    n_estimators: 5,
    max_leaves: 5,
    grow_policy: 'lossguide',
    max_depth: 0,
  }).fit(X, y);
  const t = m.trees!;
  for (let k = 0; k < t.nTrees; k++) {
    const end = k + 1 < t.nTrees ? t.roots[k + 1] : t.nNodes;
    let leaves = 0;
    for (let n = t.roots[k]; n < end; n++) if (t.feature[n] < 0) leaves++;
    assert.equal(leaves, 5);
  }
});

test('(pseudo-)Huber gradients match finite differences of the loss', () => {
  const y = Float64Array.from([0, 1, -2, 5]);
  const pred = Float64Array.from([0.3, -1, 4, 5.5]);
  for (const obj of ['reg:pseudohubererror', 'huber'] as const) {
    const loss = makeLoss(obj, 1.5);
    const gh = new Float64Array(8);
    loss.gradients(y, pred, null, gh);
    const eps = 1e-6;
    for (let i = 0; i < 4; i++) {
      const up = pred.slice();
      const dn = pred.slice();
      up[i] += eps;
      dn[i] -= eps;
      const g = ((loss.metric(y, up, null) - loss.metric(y, dn, null)) * 4) / (2 * eps);
      assert.ok(Math.abs(g - gh[2 * i]) < 1e-5, `${obj} row ${i}: ${g} vs ${gh[2 * i]}`);
    }
  }
  // robust base score: the median, not the mean dragged by the outlier
  const X = col([1, 2, 3, 4, 5]);
  const m = new GradientBoostingRegressor({ objective: 'huber', n_estimators: 1 }).fit(
    X,
    Float64Array.from([1, 2, 3, 4, 1000]),
  );
  assert.equal(m.baseScore, 3);
});

test('unknown params and bad values are USAGE errors naming the param', () => {
  assert.throws(
    () => new GradientBoostingRegressor({ n_estimator: 300 }),
    (e) => isAppError(e, 'USAGE') && /"n_estimator"/.test(e.message) && /n_estimators/.test(e.message),
  );
  assert.throws(
    () => new GradientBoostingRegressor({ learning_rate: 0 }),
    (e) => isAppError(e, 'USAGE') && /parameter "learning_rate" must be a number > 0 and <= 10, got 0/.test(e.message),
  );
  assert.throws(
    () => new GradientBoostingRegressor({ subsample: 1.5, max_depth: 2.5 }),
    (e) => isAppError(e, 'USAGE') && /subsample/.test(e.message) && /max_depth/.test(e.message),
  );
  assert.throws(
    () => new GradientBoostingRegressor({ objective: 'reg:gamma' }),
    (e) => isAppError(e, 'USAGE') && /reg:squarederror/.test(e.message),
  );
  const p = new GradientBoostingRegressor({ n_estimators: 300, max_depth: 6, learning_rate: 0.2 }).params();
  assert.equal(p.n_estimators, 300);
  assert.equal(p.reg_lambda, 1);
  assert.equal(p.min_child_weight, 1);
});

test('an aborted signal stops the fit with INTERRUPTED and leaves the model unfitted', () => {
  const { X, y } = noisyData(100, 8);
  const ac = new AbortController();
  ac.abort();
  const m = new GradientBoostingRegressor({ n_estimators: 5 });
  assert.throws(
    () => m.fit(X, y, { signal: ac.signal }),
    (e) => isAppError(e, 'INTERRUPTED'),
  );
  assert.throws(
    () => m.predict(X),
    (e) => isAppError(e, 'MODEL_INVALID'),
  );
});

test('predictFirst(k) is bit for bit the model fitted with n_estimators = k (row and column sampling on)', () => {
  const rng = new Rng(3);
  const rows = Array.from({ length: 300 }, () => [rng.next(), rng.next() * 10, rng.next() < 0.1 ? NaN : rng.next()]);
  const X = fromRows(rows, ['a', 'b', 'c']);
  const y = Float64Array.from(rows, (r) => Math.sin(3 * r[0]) + 0.1 * r[1] + (Number.isNaN(r[2]) ? 1 : r[2]));
  const p = { max_depth: 4, learning_rate: 0.2, subsample: 0.7, colsample_bytree: 0.67, random_state: 9 };
  const long = new GradientBoostingRegressor({ ...p, n_estimators: 30 }).fit(X, y);
  for (const k of [1, 10, 30]) {
    const short = new GradientBoostingRegressor({ ...p, n_estimators: k }).fit(X, y);
    assert.deepEqual(Array.from(long.predictFirst(X, k)), Array.from(short.predict(X)), `k = ${k}`);
  }
  assert.throws(
    () => long.predictFirst(X, 31),
    (e) => isAppError(e, 'USAGE'),
  );
});

test('bags: the average of models grown with seeds s, s + 1, ... saved as one additive model', () => {
  const { X, y } = noisyData(400, 3);
  const p = { max_depth: 3, learning_rate: 0.3, subsample: 0.7, colsample_bytree: 0.67, random_state: 5 };
  const bagged = new GradientBoostingRegressor({ ...p, n_estimators: 20, bags: 3 }).fit(X, y);
  assert.equal(bagged.nTrees, 60, 'three trees per round');
  // each bag is the unbagged model of its seed (leaves stored / 3; rounding aside)
  const single = [5, 6, 7].map((s) =>
    new GradientBoostingRegressor({ ...p, n_estimators: 20, random_state: s }).fit(X, y).predict(X),
  );
  const got = bagged.predict(X);
  let worst = 0;
  for (let i = 0; i < y.length; i++)
    worst = Math.max(worst, Math.abs(got[i] - (single[0][i] + single[1][i] + single[2][i]) / 3));
  assert.ok(worst < 1e-6, `largest difference from the mean of the three models ${worst}`);
  // the training history is the averaged model's
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (got[i] - y[i]) ** 2;
  assert.ok(Math.abs(Math.sqrt(s / y.length) - bagged.history.train[19]) < 1e-9);
  // predictFirst counts rounds: k rounds of every bag, bit for bit the k-round fit
  const short = new GradientBoostingRegressor({ ...p, n_estimators: 7, bags: 3 }).fit(X, y);
  assert.deepEqual(Array.from(bagged.predictFirst(X, 7)), Array.from(short.predict(X)));
  assert.throws(
    () => bagged.predictFirst(X, 21),
    (e) => isAppError(e, 'USAGE'),
  );
  // saved and loaded: the same predictions
  const back = loadEstimator(JSON.parse(JSON.stringify(bagged.toJSON())));
  assert.deepEqual(Array.from(back.predict(X)), Array.from(got));
  // bags: 1 is the plain model, bit for bit
  assert.equal(
    JSON.stringify(new GradientBoostingRegressor({ ...p, n_estimators: 5, bags: 1 }).fit(X, y).trees!.toJSON()),
    JSON.stringify(new GradientBoostingRegressor({ ...p, n_estimators: 5 }).fit(X, y).trees!.toJSON()),
  );
});

test('bags with early stopping keep whole rounds', () => {
  const { X, y } = noisyData(500, 3);
  const valid = noisyData(200, 77);
  const m = new GradientBoostingRegressor({
    n_estimators: 300,
    max_depth: 4,
    learning_rate: 0.5,
    subsample: 0.8,
    bags: 2,
    early_stopping_rounds: 5,
  }).fit(X, y, { valid: { X: valid.X, y: valid.y } });
  assert.ok(m.bestIteration < 299, 'stopped early');
  assert.equal(m.nTrees, 2 * (m.bestIteration + 1));
  assert.equal(m.history.valid[m.bestIteration], Math.min(...m.history.valid));
});
