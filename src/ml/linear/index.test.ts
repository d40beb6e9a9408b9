/**
 * The factory's param validation and the save/load round trip of every linear kind
 * through JSON and the estimator loader registry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { loadEstimator } from '../format/registry.js';
import { makeMatrix } from '../matrix.js';
import { createLinear, LINEAR_ALGORITHMS } from './index.js';

function design(n: number, rng: Rng) {
  const p = 6;
  const data = new Float64Array(n * p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    data[i * p] = 5e4 + 3e4 * rng.next();
    data[i * p + 1] = 2010 + rng.int(12);
    data[i * p + 2 + rng.int(3)] = 1;
    data[i * p + 5] = data[i * p]; // duplicate column: exercises the OLS fallback too
    y[i] = 1e5 + 2 * data[i * p] + 3e4 * (data[i * p + 1] - 2010) + 5e4 * data[i * p + 3] + 1e4 * rng.normal();
  }
  return { X: makeMatrix(n, p, data, ['odometer', 'year', 'm_a', 'm_b', 'm_c', 'odometer_copy']), y };
}

const PARAMS: Record<string, Record<string, unknown>> = {
  linear: {},
  ridge: { alpha: 3 },
  lasso: { alpha: 100, max_iter: 500 },
  elasticnet: { alpha: 50, l1_ratio: 0.3 },
  mean: {},
};

test('every linear kind survives toJSON -> JSON text -> loadEstimator with bit-identical predictions', () => {
  const rng = new Rng(42);
  const { X, y } = design(120, rng);
  const fresh = design(30, rng).X;
  for (const algo of LINEAR_ALGORITHMS) {
    const m = createLinear(algo, PARAMS[algo]).fit(X, y);
    const saved = JSON.parse(JSON.stringify(m.toJSON()));
    assert.equal(saved.kind, algo);
    assert.equal(saved.formatVersion, 1);
    assert.deepEqual(saved.params, m.params());
    const loaded = loadEstimator(saved);
    assert.equal(loaded.kind, algo);
    const a = m.predict(fresh);
    const b = loaded.predict(fresh);
    assert.ok(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)),
      `${algo}: identical bits`,
    );
    assert.deepEqual(loaded.toJSON(), m.toJSON(), `${algo}: saves the same JSON again`);
  }
});

test('saved linear models keep coefficients, intercept, column names and params as plain JSON', () => {
  const rng = new Rng(1);
  const { X, y } = design(50, rng);
  const saved = createLinear('ridge', { alpha: 2 }).fit(X, y).toJSON();
  assert.deepEqual(Object.keys(saved).sort(), [
    'coef',
    'columnNames',
    'fitInfo',
    'formatVersion',
    'intercept',
    'kind',
    'params',
  ]);
  assert.ok(Array.isArray(saved.coef) && saved.coef.length === 6);
  assert.deepEqual(saved.columnNames, X.columnNames);
  assert.deepEqual(saved.params, { alpha: 2 });
});

test('damaged saved models are coded errors, not silent misreads', () => {
  const rng = new Rng(2);
  const { X, y } = design(40, rng);
  const good = JSON.parse(JSON.stringify(createLinear('lasso', { alpha: 10 }).fit(X, y).toJSON()));
  assert.throws(() => loadEstimator({ ...good, formatVersion: 2 }), { code: 'FORMAT_VERSION' });
  assert.throws(() => loadEstimator({ ...good, coef: good.coef.slice(1) }), {
    code: 'MODEL_INVALID',
    message: /5 values for 6 columns/,
  });
  assert.throws(() => loadEstimator({ ...good, coef: [...good.coef.slice(1), 'x'] }), {
    code: 'MODEL_INVALID',
    message: /coef\[5\]/,
  });
  assert.throws(() => loadEstimator({ ...good, intercept: null }), { code: 'MODEL_INVALID', message: /intercept/ });
  assert.throws(() => loadEstimator({ ...good, params: { alpha: -1 } }), { code: 'USAGE', message: /alpha/ });
  assert.throws(() => loadEstimator({ kind: 'mean', formatVersion: 1, params: {} }), {
    code: 'MODEL_INVALID',
    message: /"mean"/,
  });
});

test('createLinear rejects unknown algorithms, unknown params and bad values with USAGE', () => {
  assert.throws(() => createLinear('ols', {}), {
    code: 'USAGE',
    message: /unknown linear algorithm "ols" \(allowed: elasticnet, lasso, linear, mean, ridge\)/,
  });
  assert.throws(() => createLinear('ridge', { alpah: 1 }), {
    code: 'USAGE',
    message: /ridge: unknown parameter "alpah" \(allowed: alpha\)/,
  });
  assert.throws(() => createLinear('ridge', { alpha: -1 }), {
    code: 'USAGE',
    message: /parameter "alpha" must be a number >= 0, got -1/,
  });
  assert.throws(() => createLinear('elasticnet', { l1_ratio: 1.5 }), {
    code: 'USAGE',
    message: /"l1_ratio" must be a number from 0 to 1, got 1\.5/,
  });
  assert.throws(() => createLinear('lasso', { max_iter: 2.5 }), {
    code: 'USAGE',
    message: /"max_iter" must be an integer >= 1/,
  });
  assert.throws(() => createLinear('lasso', { tol: 0 }), { code: 'USAGE', message: /"tol" must be a number > 0/ });
  assert.throws(() => createLinear('lasso', { alpha: 'lots' }), {
    code: 'USAGE',
    message: /"alpha" must be a number >= 0, got "lots"/,
  });
  assert.throws(() => createLinear('linear', { fit_intercept: false }), {
    code: 'USAGE',
    message: /unknown parameter "fit_intercept" \(allowed: none\)/,
  });
  // every problem at once
  assert.throws(
    () => createLinear('elasticnet', { alpha: -1, l1_ratio: 2, foo: 1 }),
    (e: Error) => {
      assert.match(e.message, /foo/);
      assert.match(e.message, /alpha/);
      assert.match(e.message, /l1_ratio/);
      return true;
    },
  );
});

test('createLinear fills scikit-learn defaults and accepts numeric strings', () => {
  assert.deepEqual(createLinear('ridge', {}).params(), { alpha: 1 });
  assert.deepEqual(createLinear('lasso', {}).params(), { alpha: 1, max_iter: 1000, tol: 1e-4 });
  assert.deepEqual(createLinear('elasticnet', { alpha: '0.5' }).params(), {
    alpha: 0.5,
    l1_ratio: 0.5,
    max_iter: 1000,
    tol: 1e-4,
  });
  assert.deepEqual(createLinear('linear', {}).params(), {});
  assert.deepEqual(createLinear('mean', {}).params(), {});
});
