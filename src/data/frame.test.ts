/** Tests of the columnar frame helpers and frameFromRecords (prediction input). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.js';
import { frameColumns, frameFromRecords, sliceFrameRows, takeFrameRows, takeValues } from './frame.js';

const schema = { numeric: ['odometer', 'AlloyWheels'], categorical: ['make', 'year', 'color'], required: ['odometer', 'make', 'year'] };

test('frameFromRecords builds typed columns; optional fields become NaN / null; numbers become category strings', () => {
  const f = frameFromRecords(
    [
      { odometer: 50000, AlloyWheels: 1, make: ' Maruti ', year: 2019, color: 'White' },
      { odometer: '1200.5', make: 'Tata', year: '2020', color: '' },
    ],
    schema,
  );
  assert.equal(f.nRows, 2);
  assert.deepEqual(Array.from(f.numeric.odometer), [50000, 1200.5]);
  assert.ok(Number.isNaN(f.numeric.AlloyWheels[1]));
  assert.deepEqual(f.categorical.make, ['Maruti', 'Tata']);
  assert.deepEqual(f.categorical.year, ['2019', '2020']);
  assert.deepEqual(f.categorical.color, ['White', null]);
  assert.deepEqual(frameColumns(f), ['odometer', 'AlloyWheels', 'make', 'year', 'color']);
});

test('every bad field of every row is reported at once with its path', () => {
  try {
    frameFromRecords(
      [
        { odometer: 'far', make: 'Maruti', year: 2019 },
        { odometer: -5, year: 2019, make: { nested: true } },
        [] as unknown as Record<string, unknown>,
      ],
      schema,
    );
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.code, 'INPUT_INVALID');
    assert.deepEqual(e.details?.problems, [
      '[0].odometer: expected a number, got "far"',
      '[1].odometer: must not be negative, got -5',
      '[1].make: expected a string, got {"nested":true}',
      '[2]: expected an object with the listing fields',
    ]);
    assert.match(e.message, /^invalid listing input \(4 problem\(s\)\):\n {2}\[0\]\.odometer/);
  }
  // a single object: paths without the [i] prefix
  assert.throws(
    () => frameFromRecords([{ odometer: 1 }], schema),
    (e: unknown) => e instanceof AppError && JSON.stringify(e.details?.problems) === JSON.stringify(['make: is required (a string)', 'year: is required (a string)']),
  );
});

test('takeFrameRows and takeValues select rows in the given order', () => {
  const f = frameFromRecords(
    [
      { odometer: 1, make: 'a', year: 1 },
      { odometer: 2, make: 'b', year: 2 },
      { odometer: 3, make: 'c', year: 3 },
    ],
    schema,
  );
  const g = takeFrameRows(f, [2, 0]);
  assert.equal(g.nRows, 2);
  assert.deepEqual(Array.from(g.numeric.odometer), [3, 1]);
  assert.deepEqual(g.categorical.make, ['c', 'a']);
  assert.deepEqual(Array.from(takeValues(new Float64Array([10, 20, 30]), Uint32Array.of(1, 1))), [20, 20]);
});

test('sliceFrameRows gives the frame takeFrameRows gives for the same range: float64 copies (bytes too), category arrays', () => {
  const f = {
    nRows: 5,
    numeric: { odometer: Float64Array.of(1, NaN, 3, -0, 5), flag: Uint8Array.of(0, 1, 1, 0, 1) },
    categorical: { make: ['a', null, 'c', 'd', 'e'] },
  };
  for (const [s, e] of [
    [0, 5],
    [1, 4],
    [4, 5],
    [2, 2],
  ]) {
    const got = sliceFrameRows(f, s, e);
    assert.deepEqual(got, takeFrameRows(f, Array.from({ length: e - s }, (_, k) => s + k)));
    assert.ok(got.numeric.flag instanceof Float64Array);
  }
  const g = sliceFrameRows(f, 0, 2);
  (g.numeric.odometer as Float64Array)[0] = 99;
  assert.equal(f.numeric.odometer[0], 1, 'a copy, not a view');
});
