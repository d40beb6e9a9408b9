/** Tests of the seeded train/test split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.js';
import { splitIndices } from './split.js';

// Observed for n = 10, test_size 0.2, seed 42: the permutation of core/rng for seed 42 is
// [9, 8, 0, 4, 2, 7, 6, 3, 5, 1]; its first ceil(0.2 * 10) = 2 entries, sorted, are the test rows.
const GOLDEN_TEST = [8, 9];

test('golden split for seed 42, n = 10, test_size 0.2', () => {
  const s = splitIndices(10, 0.2, 42);
  assert.deepEqual(Array.from(s.test), GOLDEN_TEST);
  assert.deepEqual(Array.from(s.train), [0, 1, 2, 3, 4, 5, 6, 7]);
});

test('the split is deterministic, disjoint, sorted and covers 0..n-1', () => {
  for (const [n, size, seed] of [
    [10, 0.2, 42],
    [101, 0.25, 7],
    [7391, 0.2, 42],
  ] as const) {
    const a = splitIndices(n, size, seed);
    const b = splitIndices(n, size, seed);
    assert.deepEqual(a, b);
    assert.equal(a.test.length, Math.ceil(size * n), 'ceil(test_size * n) test rows, as scikit-learn');
    const all = [...a.train, ...a.test].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: n }, (_, i) => i));
    for (const part of [a.train, a.test]) for (let i = 1; i < part.length; i++) assert.ok(part[i - 1] < part[i]);
  }
  assert.equal(splitIndices(7391, 0.2, 42).test.length, 1479);
  assert.notDeepEqual(Array.from(splitIndices(100, 0.2, 1).test), Array.from(splitIndices(100, 0.2, 2).test));
});

test('bad sizes are coded errors', () => {
  assert.throws(() => splitIndices(10, 0, 1), (e: unknown) => e instanceof AppError && e.code === 'CONFIG_INVALID');
  assert.throws(() => splitIndices(10, 1, 1), (e: unknown) => e instanceof AppError && e.code === 'CONFIG_INVALID');
  assert.throws(() => splitIndices(1, 0.2, 1), (e: unknown) => e instanceof AppError && e.code === 'DATA_INVALID');
});
