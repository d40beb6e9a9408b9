/**
 * Seeded train/test split, row for row the split scikit-learn's
 * train_test_split(test_size, random_state=seed) makes (the seed system's split): the
 * permutation is numpy's RandomState(seed).permutation(n) (core/numpy-random, pure 32-bit
 * integer arithmetic, identical on every machine), the test part its first
 * ceil(test_size * n) entries. Same rows as the Python stack means figures compare
 * directly with it.
 */
import { AppError } from '../core/errors.js';
import { numpyPermutation } from '../core/numpy-random.js';

export interface SplitIndices {
  train: Uint32Array;
  test: Uint32Array;
}

/** Split 0..n-1 into sorted train and test index sets. */
export function splitIndices(n: number, testSize: number, seed: number): SplitIndices {
  if (!(testSize > 0 && testSize < 1)) throw new AppError('CONFIG_INVALID', `test_size must be between 0 and 1 (exclusive), got ${testSize}`);
  const nTest = Math.ceil(testSize * n);
  if (nTest < 1 || n - nTest < 1)
    throw new AppError('DATA_INVALID', `cannot split ${n} rows with test_size ${testSize}: both parts need at least one row`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new AppError('CONFIG_INVALID', `random_state must be an integer in 0..4294967295 (numpy's seed range), got ${seed}`);
  const perm = numpyPermutation(n, seed);
  const test = perm.slice(0, nTest).sort();
  const train = perm.slice(nTest).sort();
  return { train, test };
}
