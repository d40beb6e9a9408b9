/**
 * Seeded train/test split. The permutation comes from core/rng (pure 32-bit integer
 * arithmetic), so the same seed gives the same split on every machine. The test set
 * has ceil(test_size * n) rows, as scikit-learn's train_test_split.
 */
import { AppError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

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
  const perm = new Rng(seed).permutation(n);
  const test = perm.slice(0, nTest).sort();
  const train = perm.slice(nTest).sort();
  return { train, test };
}
