/** Tests of derived features: car_age, log_odometer, km_per_year, make_model. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DerivedFeatures } from './derived-features.js';

const frame = {
  nRows: 4,
  numeric: { odometer: Float64Array.of(50000, 0, NaN, 1000) },
  categorical: {
    year: ['2019', null, 'abc', '2025'],
    make: ['Maruti', 'Tata', null, 'Kia'],
    model: ['SWIFT', 'NEXON', 'X', null],
  },
};

test('car_age = 2025 - year, log_odometer = ln(1 + km), km_per_year = km / max(1, age + 0.5), make_model = make|model', () => {
  const d = new DerivedFeatures(['car_age', 'log_odometer', 'km_per_year', 'make_model'], 2025);
  const out = d.fitTransform(frame);
  assert.deepEqual(Array.from(out.numeric.car_age), [6, NaN, NaN, 0]);
  assert.deepEqual(Array.from(out.numeric.log_odometer), [Math.log(50001), 0, NaN, Math.log1p(1000)]);
  // 50000 / (6 + 0.5) = 7692.307...; age 0 -> max(1, 0.5) = 1 -> 1000 km/year
  assert.deepEqual(Array.from(out.numeric.km_per_year), [50000 / 6.5, NaN, NaN, 1000]);
  assert.deepEqual(out.categorical.make_model, ['Maruti|SWIFT', 'Tata|NEXON', null, null]);
  assert.deepEqual(d.produced(), { numeric: ['car_age', 'log_odometer', 'km_per_year'], categorical: ['make_model'] });
  assert.ok('year' in out.categorical && 'odometer' in out.numeric, 'sources are kept');
});

test('a derived feature whose source is absent at fit time is skipped; save/load keeps that', () => {
  const noOdo = { nRows: 1, numeric: {}, categorical: { year: ['2020'], make: ['a'], model: ['b'] } };
  const d = new DerivedFeatures(['car_age', 'log_odometer', 'km_per_year', 'make_model'], 2024).fit(noOdo);
  assert.deepEqual(d.produced(), { numeric: ['car_age'], categorical: ['make_model'] });
  const back = DerivedFeatures.fromJSON(JSON.parse(JSON.stringify(d.toJSON())));
  const out = back.transform(noOdo);
  assert.deepEqual(Array.from(out.numeric.car_age), [4]);
  assert.equal('log_odometer' in out.numeric, false);
  assert.throws(() => new DerivedFeatures(['car_age'], 2025).transform(noOdo), { code: 'MODEL_INVALID' });
});
