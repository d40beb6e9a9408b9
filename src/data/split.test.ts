/** Tests of the seeded train/test split. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.js';
import { splitIndices } from './split.js';

// scikit-learn 1.2.1: train_test_split(np.arange(10), test_size=0.2, random_state=42) gives
// test [8, 1] and train [5, 0, 7, 2, 9, 4, 3, 6]; sorted, those are the parts below.
const GOLDEN_TEST = [1, 8];

test('golden split for seed 42, n = 10, test_size 0.2', () => {
  const s = splitIndices(10, 0.2, 42);
  assert.deepEqual(Array.from(s.test), GOLDEN_TEST);
  assert.deepEqual(Array.from(s.train), [0, 2, 3, 4, 5, 6, 7, 9]);
});

test('the 7,391-listing split holds the rows scikit-learn puts in its test part for random_state 42', () => {
  // sum of sorted(test)[i] * i for sklearn's train_test_split(np.arange(7391), test_size=0.2, random_state=42)
  const t = splitIndices(7391, 0.2, 42).test;
  let checksum = 0;
  for (let i = 0; i < t.length; i++) checksum += t[i] * i;
  assert.equal(checksum, 5383040802);
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
  assert.throws(() => splitIndices(10, 0.2, -1), (e: unknown) => e instanceof AppError && e.code === 'CONFIG_INVALID' && /random_state/.test(e.message));
});
