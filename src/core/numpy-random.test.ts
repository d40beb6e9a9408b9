/**
 * numpy compatibility of the permutation: the golden values below were printed by
 * numpy 1.24 (Debian python3-numpy), e.g. np.random.RandomState(42).permutation(10).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Mt19937, numpyPermutation } from './numpy-random.js';

test('MT19937 seeded like numpy: first draw for seed 5489 is the reference 3499211612', () => {
  assert.equal(new Mt19937(5489).nextUint32(), 3499211612);
});

test('permutations equal numpy.random.RandomState(seed).permutation(n)', () => {
  assert.deepEqual(Array.from(numpyPermutation(10, 42)), [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
  assert.deepEqual(Array.from(numpyPermutation(10, 0)), [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
  // prettier-ignore
  const p7 = [37, 26, 78, 94, 49, 15, 93, 71, 86, 22, 13, 40, 52, 12, 88, 45, 11, 66, 20, 18, 50, 2, 17, 85, 5, 98, 51, 30, 74, 97, 65, 54, 27, 58, 33, 43, 36, 21, 32, 70, 62, 100, 73, 59, 41, 10, 76, 96, 28, 80, 29, 31, 16, 81, 1, 84, 77, 87, 3, 35, 91, 9, 46, 4, 38, 90, 34, 64, 61, 53, 79, 24, 56, 69, 63, 82, 60, 19, 6, 55, 75, 0, 44, 7, 48, 99, 39, 8, 42, 89, 72, 95, 14, 57, 92, 23, 83, 67, 25, 68, 47];
  assert.deepEqual(Array.from(numpyPermutation(101, 7)), p7);
  // the whole 7,391-row permutation of the dataset (beyond MT19937's first 624-word block)
  const p = numpyPermutation(7391, 42);
  assert.deepEqual(Array.from(p.slice(0, 5)), [7267, 6769, 1539, 5391, 5166]);
  assert.deepEqual(Array.from(p.slice(-5)), [5191, 5226, 5390, 860, 7270]);
  let checksum = 0;
  for (let i = 0; i < p.length; i++) checksum += p[i] * i;
  assert.equal(checksum, 101244640518);
});

test('bad seeds are refused', () => {
  assert.throws(() => new Mt19937(-1), RangeError);
  assert.throws(() => new Mt19937(1.5), RangeError);
  assert.throws(() => new Mt19937(2 ** 32), RangeError);
});
