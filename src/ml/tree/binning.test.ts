/**
 * Binning: exact cut points on small hand-made columns, the missing bin, quantile cuts,
 * categorical bins (own bin per code, rare codes sharing one) and bad category codes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import { makeMatrix } from '../matrix.js';
import { binMatrix, numericBin, numericCuts } from './binning.js';

test('few distinct values: one bin each, cuts at midpoints, NaN in bin 0', () => {
  const cuts = numericCuts(Float64Array.from([1, 1, 2, 5, NaN, 5]), 255);
  assert.deepEqual(Array.from(cuts), [1.5, 3.5]);
  assert.deepEqual(
    [1, 2, 5, NaN, 1.5, 1.6, 100, -7].map((x) => numericBin(cuts, x)),
    [1, 2, 3, 0, 1, 2, 3, 1],
  );
});

test('many distinct values: quantile cuts give equal-count bins', () => {
  const col = Float64Array.from({ length: 1000 }, (_, i) => i);
  const cuts = numericCuts(col, 4);
  assert.deepEqual(Array.from(cuts), [249.5, 499.5, 749.5]);
});

test('a heavy value keeps a bin of its own', () => {
  // 0 x 900, then 1..100: with 4 value bins, 0 is one bin and 1..100 is cut in three
  const col = Float64Array.from([...Array(900).fill(0), ...Array.from({ length: 100 }, (_, i) => i + 1)]);
  const cuts = numericCuts(col, 4);
  assert.equal(cuts.length, 3);
  assert.equal(cuts[0], 0.5);
  assert.ok(cuts[1] > 1 && cuts[2] < 100);
});

test('binMatrix: row-major bins, categorical codes get one bin each, unseen codes none', () => {
  const X = makeMatrix(4, 2, Float64Array.from([0.5, 2, 1.5, NaN, 0.5, 0, 9, 2]), ['num', 'cat'], {
    categorical: [false, true],
    nCategories: [0, 4],
  });
  const b = binMatrix(X);
  assert.deepEqual(Array.from(b.bins), [1, 2, 2, 0, 1, 1, 3, 2]);
  assert.deepEqual(Array.from(b.nBins), [4, 3]);
  assert.deepEqual(Array.from(b.offsets), [0, 4, 7]);
  assert.deepEqual(Array.from(b.codeBin[1] as Int32Array), [1, -1, 2, -1]);
  assert.deepEqual(Array.from(b.upper[0] as Float64Array), [1, 5.25]);
});

test('more categories than bins: the rarest codes share the last bin', () => {
  // codes 0..5 with counts 6,5,4,3,2,1; maxBin 4 -> 3 value bins: codes 0,1 own, 2..5 shared
  const codes: number[] = [];
  [6, 5, 4, 3, 2, 1].forEach((c, code) => codes.push(...Array(c).fill(code)));
  const X = makeMatrix(codes.length, 1, Float64Array.from(codes), ['c'], { categorical: [true], nCategories: [6] });
  const b = binMatrix(X, { maxBin: 4 });
  assert.deepEqual(Array.from(b.codeBin[0] as Int32Array), [1, 2, 3, 3, 3, 3]);
});

test('a categorical column with a non-code value is a MODEL_INVALID error naming column and row', () => {
  const X = makeMatrix(2, 1, Float64Array.from([1, 2.5]), ['make'], { categorical: [true], nCategories: [3] });
  assert.throws(
    () => binMatrix(X),
    (e) => isAppError(e, 'MODEL_INVALID') && /"make"/.test(e.message) && /row 1/.test(e.message),
  );
  const Y = makeMatrix(1, 1, Float64Array.from([3]), ['make'], { categorical: [true], nCategories: [3] });
  assert.throws(
    () => binMatrix(Y),
    (e) => isAppError(e, 'MODEL_INVALID'),
  );
});

test('small whole numbers are counted instead of sorted, with the same cuts', () => {
  const rng = new Rng(3);
  for (const [n, k, maxValueBins, sample] of [
    [1000, 3, 255, 200_000],
    [5000, 200, 16, 200_000],
    [5000, 200, 255, 700],
    [300, 40, 4, 200_000],
  ]) {
    const c = Float64Array.from({ length: n }, () => (rng.next() < 0.1 ? NaN : Math.floor(rng.next() ** 2 * k)));
    // shifted past 255 the column takes the sorting path; every cut is a whole or half number
    const shifted = numericCuts(
      c.map((x) => x + 256),
      maxValueBins,
      sample,
    ).map((x) => x - 256);
    assert.deepEqual(numericCuts(c, maxValueBins, sample), shifted, `${n} rows, ${k} values`);
  }
  assert.deepEqual([...numericCuts(Float64Array.from([0, 0, 1, 1, 1, 2, NaN, 3]), 255)], [0.5, 1.5, 2.5]);
});

test('a float column of mostly small whole numbers gets the bins numericBin gives every value (the table of whole numbers 0..255 and the search agree)', () => {
  const rng = new Rng(5);
  const odd = [-0, -1, 255, 255.5, 256, 1e9, -1e-300, 0.5, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31)];
  const col = Float64Array.from({ length: 3000 }, (_, i) =>
    i % 7 === 0 ? odd[(i / 7) % odd.length] : rng.int(40) * 3,
  );
  const b = binMatrix(makeMatrix(col.length, 1, col, ['x']), { maxBin: 16 });
  const cuts = b.upper[0] as Float64Array;
  assert.ok(cuts.length > 3 && cuts.length < 15, 'cuts fall between the whole numbers');
  for (let i = 0; i < col.length; i++)
    assert.equal(b.columns[b.colBase[0] + i], numericBin(cuts, col[i]), `row ${i}: ${col[i]}`);
});
