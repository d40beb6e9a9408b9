/** Tests of the feature pipeline: layout per family, scaling, save/load with identical output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureFeatureConfig, fixtureFrame } from '../../test/fixtures/listings.js';
import { takeFrameRows } from '../data/frame.js';
import { FeaturePipeline, type FeatureConfig } from './feature-pipeline.js';
import { newStats } from './transformer.js';

const { frame, y, schema } = fixtureFrame({ n: 300, seed: 3 });
const z = y.map(Math.log1p);
const trainIdx = Array.from({ length: 240 }, (_, i) => i);
const testIdx = Array.from({ length: 60 }, (_, i) => 240 + i);
const train = takeFrameRows(frame, trainIdx);
const testFrame = takeFrameRows(frame, testIdx);
const zTrain = z.slice(0, 240);

const config = (over: Partial<FeatureConfig> = {}): FeatureConfig => fixtureFeatureConfig(schema, over);

const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('linear family: numeric + derived first, then tokens/interactions, target-encoded high-cardinality, one-hot low-cardinality; all finite', () => {
  const p = new FeaturePipeline(config());
  const X = p.fitTransform(train, zTrain);
  const cols = X.columnNames;
  assert.deepEqual(cols.slice(0, 9), [
    'odometer',
    'fitnessAge',
    'featureCount',
    'AlloyWheels',
    'Bluetooth',
    'Sunroof/Moonroof',
    'car_age',
    'log_odometer',
    'km_per_year',
  ]);
  // model (7 levels) and make_model (7) exceed onehotMaxCategories 6 -> target encoded; variant (17) too
  for (const c of ['model~te', 'variant~te', 'make_model~te']) assert.ok(cols.includes(c), c);
  // make (5 levels) and fuelType (2) are one-hot, year (13 levels) target encoded
  assert.ok(cols.includes('make=Honda') && cols.includes('fuelType=Diesel') && cols.includes('year~te'));
  assert.ok(cols.some((c) => c.startsWith('variant~tok=')) && cols.some((c) => c.startsWith('car_age*make=')));
  assert.equal(X.categorical, undefined, 'linear models get numeric columns only');
  assert.equal(X.nRows, 240);
  assert.ok(X.data.every(Number.isFinite), 'imputation leaves no NaN');
  // dense columns standardised on the training rows (mean 0, population std 1); indicators stay 0/1
  for (const name of ['odometer', 'car_age', 'model~te', 'car_age*make=Maruti']) {
    const j = cols.indexOf(name);
    let m = 0;
    let ss = 0;
    for (let i = 0; i < X.nRows; i++) m += X.data[i * X.nCols + j] / X.nRows;
    for (let i = 0; i < X.nRows; i++) ss += (X.data[i * X.nCols + j] - m) ** 2 / X.nRows;
    assert.ok(Math.abs(m) < 1e-9 && Math.abs(ss - 1) < 1e-9, `${name}: mean ${m}, var ${ss}`);
  }
  const j = cols.indexOf('make=Honda');
  for (let i = 0; i < X.nRows; i++) assert.ok(X.data[i * X.nCols + j] === 0 || X.data[i * X.nCols + j] === 1);
  assert.deepEqual(p.columns(), cols);
});

test('save/load through JSON gives bit-identical matrices for new rows', () => {
  const p = new FeaturePipeline(config({ onehotDropFirst: true }));
  p.fitTransform(train, zTrain);
  const back = FeaturePipeline.fromJSON(JSON.parse(JSON.stringify(p.toJSON())));
  const a = p.transform(testFrame);
  const b = back.transform(testFrame);
  assert.deepEqual(b.columnNames, a.columnNames);
  assert.ok(bytes(a.data).equals(bytes(b.data)));
});

test('tree family: NaN kept, ordinal codes flagged categorical with their cardinality', () => {
  const holes = takeFrameRows(train, trainIdx);
  const odo = Float64Array.from(holes.numeric.odometer);
  odo[0] = NaN;
  const f = { ...holes, numeric: { ...holes.numeric, odometer: odo } };
  const p = new FeaturePipeline(config({ family: 'tree', interactions: [], tokenColumns: [] }));
  const X = p.fitTransform(f, zTrain);
  const cols = X.columnNames;
  assert.ok(Number.isNaN(X.data[cols.indexOf('odometer')]), 'row 0 odometer stays NaN');
  const k = cols.indexOf('make#code');
  assert.ok(k >= 0);
  assert.equal(X.categorical![k], true);
  assert.equal(X.nCategories![k], 5);
  assert.equal(X.categorical![cols.indexOf('odometer')], false);
  // every categorical column has <= 255 levels here, so none is target encoded
  assert.equal(
    cols.some((c) => c.endsWith('~te')),
    false,
  );
});

test('unseen categories in new rows are counted per column', () => {
  const p = new FeaturePipeline(config());
  p.fitTransform(train, zTrain);
  const one = takeFrameRows(testFrame, [0, 1]);
  const weird = {
    ...one,
    categorical: { ...one.categorical, make: ['Zeta', one.categorical.make[1]], model: ['ZX9', 'ZX9'] },
  };
  const stats = newStats();
  const X = p.transform(weird, stats);
  assert.equal(stats.unknownCategories.make, 1);
  assert.ok((stats.unknownCategories.model ?? 0) >= 2);
  assert.ok(X.data.every(Number.isFinite));
});

test('coded errors: before fit, zero rows, unknown step kind, unknown version', () => {
  const p = new FeaturePipeline(config());
  assert.throws(() => p.transform(testFrame), { code: 'MODEL_INVALID' });
  assert.throws(() => p.columns(), { code: 'MODEL_INVALID' });
  assert.throws(() => p.fitTransform(takeFrameRows(train, []), new Float64Array(0)), { code: 'DATA_EMPTY' });
  p.fitTransform(train, zTrain);
  const saved = p.toJSON();
  assert.throws(() => FeaturePipeline.fromJSON({ ...saved, kind: 'x' as 'feature-pipeline' }), {
    code: 'FORMAT_UNKNOWN',
  });
  assert.throws(() => FeaturePipeline.fromJSON({ ...saved, formatVersion: 9 as 1 }), { code: 'FORMAT_VERSION' });
  assert.throws(() => FeaturePipeline.fromJSON({ ...saved, steps: [{ kind: 'pca', formatVersion: 1 }] }), {
    code: 'FORMAT_UNKNOWN',
  });
  assert.throws(
    () =>
      FeaturePipeline.fromJSON({
        ...saved,
        steps: saved.steps.map((s) => (s.kind === 'standard-scaler' ? { ...s, formatVersion: 2 } : s)),
      }),
    { code: 'FORMAT_VERSION' },
  );
});

test('fitting and transforming leave the caller frame as it was; repeated transforms agree; one row equals its row of a batch', () => {
  const snapshot = (f: typeof train) => ({ numeric: Object.keys(f.numeric), categorical: Object.keys(f.categorical) });
  const beforeTrain = snapshot(train);
  const beforeTest = snapshot(testFrame);
  for (const family of ['linear', 'tree'] as const) {
    const p = new FeaturePipeline(config({ family }));
    p.fitTransform(train, zTrain);
    const a = p.transform(testFrame);
    const b = p.transform(testFrame);
    assert.ok(bytes(a.data).equals(bytes(b.data)), `${family}: same matrix twice`);
    const one = p.transform(takeFrameRows(testFrame, [7]));
    assert.ok(bytes(one.data).equals(bytes(a.data.subarray(7 * a.nCols, 8 * a.nCols))), `${family}: row 7 alone`);
  }
  assert.deepEqual(snapshot(train), beforeTrain);
  assert.deepEqual(snapshot(testFrame), beforeTest);
});
