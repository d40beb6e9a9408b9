/** Tests of step (thermometer) features: car_age >= t columns for linear models. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepFeatures, stepColumn } from './step-features.js';
import { FeaturePipeline } from './feature-pipeline.js';

test('one 0/1 column per training value with at least minCount rows on either side', () => {
  const frame = {
    nRows: 8,
    numeric: { car_age: Float64Array.of(1, 1, 2, 2, 3, 3, 3, 9) },
    categorical: {},
  };
  // thresholds: 2 (2 rows below, 6 at or above), 3 (4 / 4); 9 has 1 row at or above: no column
  const t = new StepFeatures(['car_age'], 2).fit(frame);
  const out = t.transform(frame);
  assert.deepEqual(Object.keys(out.numeric), ['car_age', stepColumn('car_age', 2), stepColumn('car_age', 3)]);
  assert.equal(stepColumn('car_age', 3), 'car_age~ge=3');
  assert.deepEqual(Array.from(out.numeric['car_age~ge=3']), [0, 0, 0, 0, 1, 1, 1, 1]);
  // unseen values fall on the step of the nearest threshold below; NaN sets no step
  const fresh = { nRows: 3, numeric: { car_age: Float64Array.of(0, 2.5, NaN) }, categorical: {} };
  const f = t.transform(fresh);
  assert.deepEqual(Array.from(f.numeric['car_age~ge=2']), [0, 1, 0]);
  assert.deepEqual(Array.from(f.numeric['car_age~ge=3']), [0, 0, 0]);
  const back = StepFeatures.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  assert.deepEqual(back.transform(frame), out);
});

test('many distinct values are cut to at most 64 quantile steps', () => {
  const x = Float64Array.from({ length: 5000 }, (_, i) => i / 10);
  const t = new StepFeatures(['odo'], 10).fit({ nRows: x.length, numeric: { odo: x }, categorical: {} });
  const cols = Object.keys(t.transform({ nRows: 1, numeric: { odo: Float64Array.of(1) }, categorical: {} }).numeric);
  assert.equal(cols.length, 1 + 64);
});

test('the linear pipeline adds steps (unscaled 0/1), the tree pipeline does not', () => {
  const n = 60;
  const frame = {
    nRows: n,
    numeric: { odometer: Float64Array.from({ length: n }, (_, i) => 1000 * (i + 1)) },
    categorical: { year: Array.from({ length: n }, (_, i) => String(2010 + (i % 6))) },
  };
  const y = Float64Array.from({ length: n }, (_, i) => 13 - 0.1 * (i % 6));
  const config = (family: 'linear' | 'tree') => ({
    family,
    numeric: ['odometer'],
    categorical: ['year'],
    referenceYear: 2025,
    derived: ['car_age' as const],
    exclude: ['year'],
    numericImputer: 'median' as const,
    categoricalImputer: 'most_frequent' as const,
    onehotDropFirst: false,
    onehotMaxCategories: 300,
    targetEncodingSmoothing: 10,
    targetEncodingFolds: 5,
    scale: true,
    tokenColumns: [],
    tokenMinCount: 5,
    interactions: [],
    interactionMinCount: 20,
    steps: ['car_age'],
    stepMinCount: 5,
    seed: 1,
  });
  const lin = new FeaturePipeline(config('linear'));
  const X = lin.fitTransform(frame, y);
  const cols = lin.columns();
  assert.deepEqual(
    cols.filter((c) => c.startsWith('car_age~ge=')),
    ['car_age~ge=11', 'car_age~ge=12', 'car_age~ge=13', 'car_age~ge=14', 'car_age~ge=15'],
  );
  const j = cols.indexOf('car_age~ge=13');
  const values = new Set(Array.from({ length: n }, (_, i) => X.data[i * X.nCols + j]));
  assert.deepEqual([...values].sort(), [0, 1]);
  const tree = new FeaturePipeline(config('tree'));
  tree.fitTransform(frame, y);
  assert.equal(
    tree.columns().some((c) => c.includes('~ge=')),
    false,
  );
});
