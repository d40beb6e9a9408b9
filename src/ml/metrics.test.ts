/**
 * Regression metrics against a hand-computed 4-row example (see the module comment of
 * metrics.ts for the arithmetic).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mae, mape, medape, mse, r2, RegressionAccumulator, regressionMetrics, rmse, within10 } from './metrics.js';
import { AppError } from '../core/errors.js';

const T = [100, 200, 300, 400];
const P = [110, 190, 360, 400];

test('metrics on the 4-row worked example', () => {
  // errors 10, -10, 60, 0; mean(T) = 250, SS_tot = 150² + 50² + 50² + 150² = 50000
  assert.equal(mae(T, P), 20);
  assert.equal(mse(T, P), 950);
  assert.equal(rmse(T, P), Math.sqrt(950));
  assert.equal(r2(T, P), 1 - 3800 / 50000);
  // relative errors 0.1, 0.05, 0.2, 0
  assert.ok(Math.abs(mape(T, P) - 0.0875) < 1e-15);
  assert.ok(Math.abs(medape(T, P) - 0.075) < 1e-15);
  assert.equal(within10(T, P), 0.75);
  const all = regressionMetrics(Float64Array.from(T), Float64Array.from(P));
  assert.deepEqual(Object.keys(all).sort(), ['mae', 'mape', 'medape', 'mse', 'n', 'r2', 'rmse', 'within10']);
  assert.equal(all.n, 4);
  assert.equal(all.r2, 0.924);
  assert.equal(all.mae, 20);
});

test('percentage metrics skip y = 0; medape of an odd count is the middle value', () => {
  assert.equal(mape([0, 100], [5, 150]), 0.5);
  assert.equal(medape([100, 100, 100, 0], [101, 150, 110, 3]), 0.1);
  assert.ok(Number.isNaN(mape([0, 0], [1, 2])));
  assert.equal(within10([0, 100], [0, 200]), 0.5); // y = 0 counts only when predicted exactly
});

test('r2 follows scikit-learn for a constant target and can be negative', () => {
  assert.equal(r2([5, 5, 5], [5, 5, 5]), 1);
  assert.equal(r2([5, 5, 5], [4, 5, 6]), 0);
  assert.equal(r2([1, 2, 3], [3, 2, 1]), 1 - 8 / 2);
});

test('mismatched, empty or non-finite inputs are MODEL_INVALID', () => {
  assert.throws(() => regressionMetrics([1, 2], [1]), {
    code: 'MODEL_INVALID',
    message: /2 true values but 1 predictions/,
  });
  assert.throws(() => regressionMetrics([], []), { code: 'MODEL_INVALID', message: /no rows/ });
  assert.throws(() => rmse([1, 2], [1, NaN]), { code: 'MODEL_INVALID', message: /prediction at row 1/ });
  assert.throws(() => mae([1, Infinity], [1, 2]), { code: 'MODEL_INVALID', message: /true value at row 1/ });
});

test('the streaming accumulator (evaluate --data) gives the metrics of the whole arrays, added in any chunks', () => {
  // prices of a used-car market: large values, where a one-pass spread could lose digits
  const n = 20001;
  const y = new Float64Array(n);
  const p = new Float64Array(n);
  let s = 7;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < n; i++) {
    y[i] = i === 5 ? 0 : 2e5 + 5e6 * rnd();
    p[i] = y[i] * (0.8 + 0.4 * rnd());
  }
  const acc = new RegressionAccumulator();
  for (let b = 0; b < n; b += 777) for (let i = b; i < Math.min(n, b + 777); i++) acc.add(y[i], p[i], i);
  const m = acc.result();
  assert.deepEqual(m, regressionMetrics(y, p));
  // the same numbers as the one-metric functions (r2: two passes there, Welford here)
  assert.equal(m.mse, mse(y, p));
  assert.equal(m.mae, mae(y, p));
  assert.equal(m.mape, mape(y, p));
  assert.equal(m.medape, medape(y, p));
  assert.equal(m.within10, within10(y, p));
  assert.ok(Math.abs(m.r2 - r2(y, p)) < 1e-14, `${m.r2} vs ${r2(y, p)}`);
  assert.equal(m.n, n);
  // a constant truth: 1 when predicted exactly, else 0 (scikit-learn's force_finite)
  const c = new RegressionAccumulator();
  c.add(5, 5);
  c.add(5, 5);
  assert.equal(c.result().r2, 1);
  c.add(5, 6);
  assert.equal(c.result().r2, 0);
  // errors name the file row
  assert.throws(
    () => new RegressionAccumulator().add(1, NaN, 42),
    (e: unknown) => e instanceof AppError && e.code === 'MODEL_INVALID' && /row 42/.test(e.message),
  );
  assert.throws(() => new RegressionAccumulator().result(), /no rows to score/);
});
