/**
 * The registry decision's wording (issue 18.12): numbers print with enough digits to show
 * why one beat the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, distinctPair } from './model-evaluation.js';

const gates = { min_r2: 0.8, max_rmse: 300000, max_mape: 0.2 };
const good = { r2: 0.940912, rmse: 120000, mape: 0.1 };

test('a close Production comparison prints the digits that differ', () => {
  assert.deepEqual(decide(good, gates, { version: '3', metrics: { r2: 0.940871 } }), {
    flag: true,
    reason: 'passes the gates and beats Production v3: R² 0.94091 > 0.94087',
  });
  assert.equal(
    decide({ ...good, r2: 0.940871 }, gates, { version: '3', metrics: { r2: 0.940912 } }).reason,
    'not better than Production v3: R² 0.94087 < 0.94091',
  );
  assert.equal(
    decide(good, gates, { version: '3', metrics: { r2: 0.940912 } }).reason,
    'not better than Production v3: R² 0.9409 = 0.9409',
  );
  assert.equal(
    decide(good, gates, { version: '3', metrics: { r2: 0.5 } }).reason,
    'passes the gates and beats Production v3: R² 0.9409 > 0.5000',
  );
});

test('a gate just missed shows the metric past the threshold', () => {
  assert.equal(
    decide({ ...good, r2: 0.79999 }, gates, null).reason,
    'fails the evaluation gates: R² 0.79999 < min_r2 0.8',
  );
  assert.equal(
    decide({ ...good, rmse: 300000.4 }, gates, null).reason,
    'fails the evaluation gates: RMSE 300000.4 > max_rmse 300000',
  );
});

test('distinctPair adds decimals only until the two differ', () => {
  assert.deepEqual(distinctPair(0.12345678, 0.12345679, 4), ['0.12345678', '0.12345679']);
  assert.deepEqual(distinctPair(1, 1, 4), ['1.0000', '1.0000']);
  assert.deepEqual(distinctPair(NaN, 1, 2), ['NaN', '1.00']);
});
