/**
 * The plausible-range checks the HTTP API and `--input` call (listingRangeErrors), the cell
 * rule of files (rangeProblem), and the guard on every printed price (priceProblem).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseParams } from '../config/params.js';
import { listingRangeErrors, priceProblem, rangeProblem } from './plausible-ranges.js';

const ranges = parseParams({}).ranges;

test('listingRangeErrors names every field out of range, reads numeric strings, leaves non-numbers to the schema check', () => {
  assert.deepEqual(listingRangeErrors({ odometer: 1e9, fitnessAge: '100000', year: 2100, make: 'Maruti', ownership: 1 }, ranges), [
    { field: 'odometer', message: '1000000000 is outside the plausible range 0..2000000 (ranges.odometer in params.yaml)' },
    { field: 'fitnessAge', message: '100000 is outside the plausible range 0..100 (ranges.fitnessAge in params.yaml)' },
    { field: 'year', message: '2100 is outside the plausible range 1950..2030 (ranges.year in params.yaml)' },
  ]);
  assert.deepEqual(listingRangeErrors({ odometer: 'far', year: null, ownership: '' }, ranges), []);
  assert.deepEqual(listingRangeErrors({ odometer: Infinity }, ranges), [{ field: 'odometer', message: 'expected a finite number, got Infinity' }]);
  assert.deepEqual(listingRangeErrors([1, 2], ranges), []);
  assert.deepEqual(listingRangeErrors({ odometer: 50_000, year: '2019', fitnessAge: 10 }, ranges), []);
});

test('rangeProblem is inclusive and ignores columns without a range and missing values', () => {
  assert.equal(rangeProblem('odometer', 2_000_000, ranges), undefined);
  assert.match(rangeProblem('odometer', 2_000_001, ranges)!, /outside the plausible range 0\.\.2000000/);
  assert.equal(rangeProblem('color', 1e9, ranges), undefined);
  assert.equal(rangeProblem('odometer', NaN, ranges), undefined);
});

test('priceProblem refuses negative, zero, non-finite and missing prices', () => {
  assert.equal(priceProblem(450_000.5), undefined);
  for (const p of [-1, 0, NaN, Infinity, -Infinity, null, undefined]) assert.ok(priceProblem(p), String(p));
  assert.match(priceProblem(-1)!, /price of -1 \(not positive\)/);
});
