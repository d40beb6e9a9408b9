/** Tests of synthetic row generation (resampled + perturbed, seeded). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from './frame.js';
import { synthColumns, synthRows } from './synth.js';

const frame: Frame = {
  nRows: 3,
  numeric: { odometer: Float64Array.of(10000, NaN, 90000), fitnessAge: Float64Array.of(1, 15, 8) },
  categorical: { make: ['a', 'b', 'c'], color: ['x', null, 'z'] },
};
const y = Float64Array.of(100000, 200000, 300000);

test('columns: numeric, categorical, then the target', () => {
  assert.deepEqual(synthColumns(frame, 'listingPrice'), ['odometer', 'fitnessAge', 'make', 'color', 'listingPrice']);
});

test('rows are seeded, resampled from real rows and perturbed within the documented bounds', () => {
  const a = [...synthRows(frame, y, { rows: 300, seed: 5, target: 'listingPrice' })];
  const b = [...synthRows(frame, y, { rows: 300, seed: 5, target: 'listingPrice' })];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, [...synthRows(frame, y, { rows: 300, seed: 6, target: 'listingPrice' })]);
  assert.equal(a.length, 300);
  const byMake = new Map([
    ['a', 0],
    ['b', 1],
    ['c', 2],
  ]);
  let perturbed = 0;
  for (const r of a) {
    const i = byMake.get(r[2] as string)!;
    assert.equal(r[3], frame.categorical.color[i], 'categories are copied from the sampled row');
    const odo = r[0];
    if (i === 1) assert.equal(odo, null, 'a missing odometer stays missing');
    else {
      // x lognormal(0, 0.15): 6 sigma bounds, rounded to whole km
      const ratio = (odo as number) / frame.numeric.odometer[i];
      assert.ok(Number.isInteger(odo) && ratio > Math.exp(-0.9) && ratio < Math.exp(0.9));
    }
    const fa = r[1] as number;
    assert.ok(fa >= 1 && fa <= 15 && Math.abs(fa - frame.numeric.fitnessAge[i]) <= 1);
    const price = r[4] as number;
    const pr = price / y[i];
    assert.ok(Number.isInteger(price) && pr > Math.exp(-0.48) && pr < Math.exp(0.48));
    if (price !== y[i]) perturbed++;
  }
  assert.ok(perturbed > 290, 'prices are not exact copies');
});
