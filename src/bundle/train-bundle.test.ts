/** Tests of fitting a bundle: exact baseline oracle, price weights, optional columns, errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asInput, fixtureFrame, generateListings } from '../../test/fixtures/listings.js';
import { parseParams } from '../config/params.js';
import { stableStringify } from '../core/stable-json.js';
import {
  priceWeights,
  simplexWeights,
  trainBundle,
  trainBundleParallel,
  type TrainBundleOptions,
} from './train-bundle.js';

const params = parseParams({});
const { frame, y, schema } = fixtureFrame({ n: 120, seed: 5 });

function options(algo: string, over: Partial<TrainBundleOptions> = {}, features = params.features): TrainBundleOptions {
  return {
    algo,
    algoParams: params.model_trainer.params,
    features,
    seed: 42,
    metadata: {
      createdAt: '2025-01-01T00:00:00.000Z',
      training: { dataHash: 'h', rows: frame.nRows, source: 'fixture' },
      params: {},
      carpriceVersion: 'test',
    },
    ...over,
  };
}

test('the mean baseline predicts expm1(mean(log1p(price))) for every listing (log target)', () => {
  const b = trainBundle(frame, y, schema, options('mean'));
  let s = 0;
  for (const v of y) s += Math.log1p(v);
  const expected = Math.expm1(s / y.length);
  for (const p of b.predictFrame(frame)) assert.ok(Math.abs(p - expected) <= 1e-9 * expected, `${p} vs ${expected}`);
  // identity target: the plain mean price
  const id = trainBundle(frame, y, schema, options('mean', {}, { ...params.features, log_target: false }));
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  assert.ok(Math.abs(id.predictFrame(frame)[0] - mean) <= 1e-9 * mean);
  assert.equal(id.targetTransform, 'identity');
});

test('priceWeights = (price / median) ^ power; power 0 means unweighted', () => {
  // sorted [100, 200, 300, 400]: the upper middle, 300, is the median used
  assert.deepEqual(Array.from(priceWeights(Float64Array.of(100, 200, 300, 400), 1)!), [1 / 3, 2 / 3, 1, 4 / 3]);
  assert.deepEqual(Array.from(priceWeights(Float64Array.of(100, 400, 400), 0.5)!), [0.5, 1, 1]);
  assert.equal(priceWeights(Float64Array.of(1, 2), 0), undefined);
  const w = trainBundle(frame, y, schema, options('ridge', { priceWeightPower: 1 }));
  const u = trainBundle(frame, y, schema, options('ridge'));
  assert.notDeepEqual(Array.from(w.predictFrame(frame)), Array.from(u.predictFrame(frame)), 'weights change the fit');
});

test('a model trained without the optional equipment columns still predicts records', () => {
  const bare = fixtureFrame({ n: 120, seed: 5, flags: [] });
  assert.deepEqual(bare.schema.optionalNumeric, []);
  const b = trainBundle(bare.frame, bare.y, bare.schema, options('ridge'));
  assert.deepEqual(b.inputSchema.optionalNumeric, []);
  const records = generateListings({ n: 3, seed: 1 }).map(asInput);
  const p = b.predictRecords(records);
  assert.equal(p.length, 3);
  assert.ok(p.every((x) => Number.isFinite(x) && x > 0));
  // and a model with them accepts records that omit them (imputed)
  const full = trainBundle(frame, y, schema, options('ridge'));
  const omitted = records.map((r) => {
    const rest: Record<string, unknown> = { ...r };
    for (const k of ['AlloyWheels', 'Bluetooth', 'Sunroof/Moonroof']) delete rest[k];
    return rest;
  });
  assert.ok(full.predictRecords(omitted).every((x) => Number.isFinite(x) && x > 0));
  // color is nullable; a missing make is not
  assert.ok(Number.isFinite(full.predictRecords([{ ...omitted[0], color: null }])[0]));
  assert.throws(() => full.predictRecords([{ ...omitted[0], make: undefined }]), { code: 'INPUT_INVALID' });
});

test('unknown algorithm is USAGE listing the algorithms; a blend needs two members', () => {
  assert.throws(
    () => trainBundle(frame, y, schema, options('xgboostt')),
    (e: unknown) =>
      (e as { code?: string }).code === 'USAGE' &&
      /unknown algorithm "xgboostt"; choose one of: .*ridge/.test((e as Error).message),
  );
  assert.throws(
    () => trainBundle(frame, y, schema, options('blend', { algoParams: { blend: { members: 'ridge' } } })),
    (e: unknown) =>
      (e as { code?: string }).code === 'USAGE' && /blend needs at least two members/.test((e as Error).message),
  );
});

test('an aborted signal stops training with INTERRUPTED', () => {
  const c = new AbortController();
  c.abort();
  assert.throws(() => trainBundle(frame, y, schema, options('ridge', { signal: c.signal })), { code: 'INTERRUPTED' });
});

test('worker threads give the same bundle, byte for byte, as one thread (blend with weights, GBDT with row sampling)', async () => {
  const algoParams = {
    ...params.model_trainer.params,
    gbdt: { n_estimators: 40, max_depth: 3, subsample: 0.8, colsample_bytree: 0.7 },
  };
  for (const [algo, priceWeightPower] of [
    ['blend', 0],
    ['gbdt', 1],
  ] as const) {
    const o = options(algo, { algoParams, priceWeightPower });
    const one = stableStringify(trainBundle(frame, y, schema, o).toJSON());
    const two = stableStringify((await trainBundleParallel(frame, y, schema, { ...o, threads: 2 })).toJSON());
    assert.equal(two, one, algo);
  }
});

test('simplexWeights: the 0.05-grid point of least squared error (exact mixtures are found)', () => {
  const a = Float64Array.of(1, 2, 3, 4, 5, 6);
  const b = Float64Array.of(6, 1, 5, 2, 4, 3);
  const c = Float64Array.of(0, 3, 1, 5, 2, 7);
  const z = a.map((v, i) => 0.2 * v + 0.3 * b[i] + 0.5 * c[i]);
  assert.deepEqual(simplexWeights([a, b, c], z), [0.2, 0.3, 0.5]);
  // a member that only adds noise gets weight 0
  const d = Float64Array.of(9, -4, 7, 0, 12, -8);
  assert.deepEqual(simplexWeights([a, b, c, d], z), [0.2, 0.3, 0.5, 0]);
});

test('a three-member blend gets grid weights on the held-out rows; weight 0 drops a member', () => {
  const algoParams = {
    ...params.model_trainer.params,
    gbdt: { n_estimators: 30, max_depth: 3 },
    forest: { n_estimators: 10 },
    blend: { members: 'ridge,gbdt,forest' },
  };
  const b = trainBundle(frame, y, schema, options('blend', { algoParams, biasCorrection: 'mape' }));
  const w = b.members.map((m) => m.weight);
  assert.ok(
    w.every((x) => x > 0 && Math.abs(x * 20 - Math.round(x * 20)) < 1e-9),
    `grid weights: ${w.join(', ')}`,
  );
  assert.ok(Math.abs(w.reduce((s, x) => s + x, 0) - 1) < 1e-9);
  assert.ok(b.members.length <= 3 && b.members.length >= 1);
});

test('holdout_folds k >= 2: choices cross-fitted on k folds, deterministic, same bundle on worker threads', async () => {
  const algoParams = { ...params.model_trainer.params, gbdt: { n_estimators: 30, max_depth: 3, subsample: 0.8 } };
  const o = options('blend', { algoParams, biasCorrection: 'mape_age', intervalLevel: 0.9, holdoutFolds: 3 });
  const one = stableStringify(trainBundle(frame, y, schema, o).toJSON());
  assert.equal(stableStringify(trainBundle(frame, y, schema, o).toJSON()), one, 'deterministic');
  const two = stableStringify((await trainBundleParallel(frame, y, schema, { ...o, threads: 2 })).toJSON());
  assert.equal(two, one, 'worker threads');
  const single = stableStringify(trainBundle(frame, y, schema, { ...o, holdoutFolds: 1 }).toJSON());
  assert.notEqual(single, one, 'one 15% hold-out and 3 folds choose differently');
  // absent = 1: the seeded 15% hold-out
  const { holdoutFolds: _, ...rest } = { ...o, holdoutFolds: 1 };
  assert.equal(stableStringify(trainBundle(frame, y, schema, rest).toJSON()), single);
  const b = trainBundle(frame, y, schema, o);
  assert.ok(b.calibration, 'intervals calibrated on the out-of-fold residuals');
  assert.ok(b.predictFrame(frame).every((p) => Number.isFinite(p) && p > 0));
});
