import { test } from 'node:test';
import assert from 'node:assert/strict';
import { psi, smoothedShares } from './psi.js';

test('psi: the worked example of the module comment (shares 0.5/0.5 -> 0.9/0.1 = 0.8789)', () => {
  // totals large enough that the +0.5 smoothing is negligible
  const v = psi([500_000, 500_000], [900_000, 100_000]);
  const exact = 0.4 * Math.log(0.9 / 0.5) + -0.4 * Math.log(0.1 / 0.5);
  assert.ok(Math.abs(exact - 0.8789) < 1e-4);
  assert.ok(Math.abs(v - exact) < 1e-5, `${v}`);
});

test('psi: identical distributions give 0, and an empty bucket stays finite through smoothing', () => {
  assert.equal(psi([10, 20, 30], [1, 2, 3]) < 0.01, true);
  assert.equal(psi([10, 20], [10, 20]), 0);
  const v = psi([100, 0], [50, 50]);
  // shares (100.5/101, 0.5/101) vs (50.5/101, 50.5/101), by hand
  const r = [100.5 / 101, 0.5 / 101];
  const w = [50.5 / 101, 50.5 / 101];
  const hand = (w[0] - r[0]) * Math.log(w[0] / r[0]) + (w[1] - r[1]) * Math.log(w[1] / r[1]);
  assert.ok(Number.isFinite(v) && Math.abs(v - hand) < 1e-12);
  assert.deepEqual(smoothedShares([1, 1]), [0.5, 0.5]);
  assert.equal(psi([5, 5], [0, 0]), 0);
});
