/**
 * Random forest: OOB predictions and score, determinism by seed, the average of trees,
 * save/load bit for bit, param errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { loadEstimator } from '../format/registry.js';
import { makeMatrix, type Matrix } from '../matrix.js';
import { DecisionTreeRegressor } from '../tree/index.js';
import { RandomForestRegressor } from './index.js';

function data(n: number, seed: number): { X: Matrix; y: Float64Array } {
  const rng = new Rng(seed);
  const d = new Float64Array(n * 3);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    d[i * 3] = rng.normal();
    d[i * 3 + 1] = rng.int(4);
    d[i * 3 + 2] = rng.next() < 0.1 ? NaN : rng.next();
    y[i] = 3 * d[i * 3] + [0, 2, -1, 5][d[i * 3 + 1]] + rng.normal() * 0.5;
  }
  return { X: makeMatrix(n, 3, d, ['a', 'b', 'c'], { categorical: [false, true, false], nCategories: [0, 4, 0] }), y };
}

test('OOB: with single-leaf trees each OOB row gets the mean of the bags that missed it', () => {
  // min_samples_split above n: every tree is one leaf holding its bootstrap mean, so a
  // row's OOB prediction is the mean of those leaves over the trees whose bag missed it
  const y = Float64Array.from([1, 2, 3, 4, 50]);
  const X = makeMatrix(5, 1, Float64Array.from([1, 2, 3, 4, 5]), ['x']);
  const f = new RandomForestRegressor({ n_estimators: 1, min_samples_split: 100, random_state: 3 }).fit(X, y);
  const leaf = f.predict(X)[0];
  const oob = f.oobPrediction!;
  const missed = Array.from(oob).filter((v) => !Number.isNaN(v));
  assert.ok(missed.length > 0 && missed.length < 5);
  for (const v of missed) assert.equal(v, leaf);
  // OOB score = R² over the rows that have an OOB prediction
  const ids = [0, 1, 2, 3, 4].filter((i) => !Number.isNaN(oob[i]));
  const mean = ids.reduce((s, i) => s + y[i], 0) / ids.length;
  const r2 = 1 - ids.reduce((s, i) => s + (y[i] - oob[i]) ** 2, 0) / ids.reduce((s, i) => s + (y[i] - mean) ** 2, 0);
  assert.ok(Math.abs(f.oobScore - r2) < 1e-12 || (Number.isNaN(r2) && Number.isNaN(f.oobScore)));
});

test('OOB score is computed and sits well above 0 on learnable data; NaN without bootstrap', () => {
  const { X, y } = data(600, 1);
  const f = new RandomForestRegressor({ n_estimators: 30, max_features: 'sqrt', min_samples_leaf: 2 }).fit(X, y);
  assert.ok(f.oobScore > 0.8 && f.oobScore < 1, `oob ${f.oobScore}`);
  assert.equal(f.oobPrediction!.filter((v) => Number.isNaN(v)).length, 0, 'with 30 trees every row is out of some bag');
  const nb = new RandomForestRegressor({ n_estimators: 2, bootstrap: false }).fit(X, y);
  assert.ok(Number.isNaN(nb.oobScore));
});

test('without bootstrap and feature sampling every tree is the CART tree, so the forest equals it', () => {
  const { X, y } = data(200, 2);
  const f = new RandomForestRegressor({ n_estimators: 3, bootstrap: false, max_depth: 5 }).fit(X, y);
  const t = new DecisionTreeRegressor({ max_depth: 5 }).fit(X, y);
  const a = f.predict(X);
  const b = t.predict(X);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-12);
});

test('the same seed gives the same forest; another seed another one', () => {
  const { X, y } = data(300, 3);
  const p = { n_estimators: 5, max_features: 0.5, max_depth: 6 };
  const a = JSON.stringify(new RandomForestRegressor({ ...p, random_state: 1 }).fit(X, y).toJSON());
  const b = JSON.stringify(new RandomForestRegressor({ ...p, random_state: 1 }).fit(X, y).toJSON());
  const c = JSON.stringify(new RandomForestRegressor({ ...p, random_state: 2 }).fit(X, y).toJSON());
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('save/load gives bit-identical predictions and keeps the OOB score', () => {
  const { X, y } = data(400, 4);
  const f = new RandomForestRegressor({ n_estimators: 10, max_features: 'sqrt' }).fit(X, y);
  const back = loadEstimator(JSON.parse(JSON.stringify(f.toJSON()))) as RandomForestRegressor;
  assert.equal(back.kind, 'forest');
  assert.equal(back.oobScore, f.oobScore);
  const a = f.predict(X);
  const b = back.predict(X);
  for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]));
});

test('unknown params and bad values are USAGE errors naming the param', () => {
  assert.throws(
    () => new RandomForestRegressor({ n_trees: 10 }),
    (e) => isAppError(e, 'USAGE') && /"n_trees"/.test(e.message),
  );
  assert.throws(
    () => new RandomForestRegressor({ bootstrap: 'yes' }),
    (e) => isAppError(e, 'USAGE') && /parameter "bootstrap" must be true or false, got "yes"/.test(e.message),
  );
  assert.throws(
    () => new RandomForestRegressor({ max_features: 0 }),
    (e) => isAppError(e, 'USAGE') && /max_features/.test(e.message),
  );
});
