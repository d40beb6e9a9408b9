/** Tests of the log1p / identity target transforms. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardTarget, inverseTarget } from './target-transform.js';

test('log1p forward and expm1 back; identity is a no-op; prices <= -1 are refused', () => {
  const y = Float64Array.of(0, 100000, 2500000);
  const z = forwardTarget('log1p', y);
  assert.deepEqual(Array.from(z), [0, Math.log1p(100000), Math.log1p(2500000)]);
  const back = inverseTarget('log1p', z);
  for (let i = 0; i < y.length; i++) assert.ok(Math.abs(back[i] - y[i]) <= 1e-9 * Math.max(1, y[i]));
  assert.equal(forwardTarget('identity', y), y);
  assert.equal(inverseTarget('identity', y), y);
  assert.throws(
    () => forwardTarget('log1p', Float64Array.of(5, -1)),
    (e: unknown) => (e as { code?: string }).code === 'DATA_INVALID' && /row 1/.test((e as Error).message),
  );
  assert.throws(() => forwardTarget('log1p', Float64Array.of(NaN)), { code: 'DATA_INVALID' });
});
