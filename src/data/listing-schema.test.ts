/** Tests of the listing schema: seed columns by default, leaky columns refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../core/errors.js';
import { buildListingSchema, EQUIPMENT_FLAGS, LEAKY_COLUMNS, SEED_CATEGORICAL, SEED_NUMERIC } from './listing-schema.js';

test('the default schema is the seed: 3 numeric + 9 categorical features, target listingPrice', () => {
  const s = buildListingSchema();
  assert.equal(s.target, 'listingPrice');
  assert.deepEqual(s.numeric, [...SEED_NUMERIC]);
  assert.deepEqual(s.categorical, [...SEED_CATEGORICAL]);
  assert.equal(s.numeric.length + s.categorical.length, 12);
  assert.deepEqual(s.optionalNumeric, []);
  assert.deepEqual(s.minimum, { odometer: 0, fitnessAge: 0, featureCount: 0 });
  assert.equal(EQUIPMENT_FLAGS.length, 16);
});

test('every leaky column is refused as a feature with CONFIG_INVALID naming it', () => {
  for (const c of LEAKY_COLUMNS) {
    for (const where of ['numeric', 'categorical', 'optionalNumeric'] as const) {
      assert.throws(
        () => buildListingSchema({ [where]: ['odometer2', c] }),
        (e: unknown) => e instanceof AppError && e.code === 'CONFIG_INVALID' && e.message.startsWith(`${c} cannot be features`) && /target leakage/.test(e.message),
      );
    }
  }
});

test('the target as a feature, or a column listed twice, is CONFIG_INVALID', () => {
  assert.throws(() => buildListingSchema({ numeric: ['odometer', 'listingPrice'] }), (e: unknown) => e instanceof AppError && e.code === 'CONFIG_INVALID' && /the target listingPrice is also listed/.test(e.message));
  assert.throws(() => buildListingSchema({ numeric: ['odometer'], categorical: ['odometer'] }), (e: unknown) => e instanceof AppError && /column odometer is listed twice/.test(e.message));
  const s = buildListingSchema({ target: 'price', optionalNumeric: ['AlloyWheels'] });
  assert.equal(s.target, 'price');
  assert.equal(s.minimum.AlloyWheels, 0);
});
