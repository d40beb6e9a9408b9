/** Tests of the standard scaler (population std, as scikit-learn). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StandardScaler } from './standard-scaler.js';

test('mean 5 and population std 2 for [2, 4, 4, 4, 5, 5, 7, 9]; constant columns map to 0', () => {
  // mean = 40 / 8 = 5; squared deviations 9+1+1+1+0+0+4+16 = 32; std = sqrt(32 / 8) = 2
  const frame = {
    nRows: 8,
    numeric: { x: Float64Array.of(2, 4, 4, 4, 5, 5, 7, 9), k: new Float64Array(8).fill(3) },
    categorical: {},
  };
  const s = new StandardScaler(['x', 'k']).fit(frame);
  assert.deepEqual((s.toJSON() as unknown as { stats: unknown }).stats, {
    x: { mean: 5, std: 2 },
    k: { mean: 3, std: 1 },
  });
  const out = s.transform(frame);
  assert.deepEqual(Array.from(out.numeric.x), [-1.5, -0.5, -0.5, -0.5, 0, 0, 1, 2]);
  assert.deepEqual(Array.from(out.numeric.k), [0, 0, 0, 0, 0, 0, 0, 0]);
  // new rows use the training statistics
  assert.deepEqual(
    Array.from(
      s.transform({ nRows: 1, numeric: { x: Float64Array.of(11), k: Float64Array.of(3) }, categorical: {} }).numeric.x,
    ),
    [3],
  );
});

test('save/load round trip; missing column is INPUT_INVALID', () => {
  const frame = { nRows: 3, numeric: { x: Float64Array.of(1, 2, 6) }, categorical: {} };
  const s = new StandardScaler(['x']).fit(frame);
  const t = StandardScaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
  assert.deepEqual(t.transform(frame), s.transform(frame));
  assert.throws(() => s.transform({ nRows: 1, numeric: {}, categorical: {} }), { code: 'INPUT_INVALID' });
});
